// Mirrors (/mirrors): every mirrored repository from GET /api/v1/mirrors, refreshed every 5 s:
// branches and the commit each is at, last fetch and how long since upstream was heard, commits
// landed (and those post-submit has not yet queued), each push target's state, and the last error.
import { announce, clearError, el, fmtDuration, fmtTime, getJson, markNav, shortRev, showError } from './common.js';

markNav();

/** For tests: the mirrors as last shown. */
window.grangeUi = { mirrors: null };
let lastErrors = '';

async function refresh() {
  let mirrors;
  try {
    mirrors = await getJson('/api/v1/mirrors');
    clearError();
  } catch (e) {
    showError('Could not load the mirrors: ' + e.message);
    return;
  }
  window.grangeUi.mirrors = mirrors;
  // No live socket here: the header says how fresh the page is instead.
  document.getElementById('conn').textContent = 'refreshed every 5 s';
  const body = document.querySelector('#mirrors tbody');
  body.replaceChildren(...(mirrors.length ? mirrors.map(row) : [el('tr', {}, el('td', { colspan: 7, class: 'muted' }, 'No repositories under grange.repos.'))]));
  const errors = mirrors.filter(m => m.lastError || m.error).map(m => m.name).join(', ');
  if (errors !== lastErrors) {
    if (errors) announce('Mirror errors: ' + errors);
    lastErrors = errors;
  }
}

function row(m) {
  if (m.error) {
    return el('tr', { 'data-repo': m.name }, el('th', { scope: 'row' }, m.name), el('td', { colspan: 6, class: 'warn' }, m.error));
  }
  const branches = Object.entries(m.branches || {}).map(([b, sha]) => el('div', {}, b, ' ', el('code', {}, sha ? shortRev(sha) : '—')));
  const targets = (m.targets || []).map(t => el('div', { class: t.lastError ? 'warn' : '' }, t.url, ': ',
    t.lastError ? t.lastError : t.lastSuccessMs ? 'pushed ' + fmtTime(t.lastSuccessMs) : 'not pushed yet'));
  return el('tr', { 'data-repo': m.name, 'data-ok': m.lastError ? 'no' : 'yes' },
    el('th', { scope: 'row' }, m.name, el('div', { class: 'muted wrap' }, m.url)),
    el('td', {}, ...branches),
    el('td', {}, m.lastFetchMs ? fmtTime(m.lastFetchMs) : 'not yet', m.fetching ? el('span', { class: 'muted' }, ' (fetching)') : '',
      m.node ? el('div', { class: 'muted' }, 'on ', el('a', { href: m.node + '/mirrors' }, m.node)) : ''),
    el('td', { class: m.lagMs === null ? 'warn' : '' }, m.lagMs === null ? 'never fetched' : fmtDuration(m.lagMs)),
    el('td', {}, String(m.landedCommits), m.pendingLandings
      ? el('div', { class: 'warn' }, m.pendingLandings + ' not yet queued, since ' + fmtTime(m.oldestPendingMs) + (m.landingError ? ': ' + m.landingError : ''))
      : ''),
    el('td', { class: 'wrap' }, ...(targets.length ? targets : ['none'])),
    el('td', { class: 'wrap' + (m.lastError ? ' warn' : '') }, m.lastError ? m.lastError + ' (' + m.failuresInARow + ' in a row)' : ''));
}

refresh();
setInterval(refresh, 5000);
