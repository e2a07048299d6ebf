// The dashboard (/dashboard): commits of a repo and branch (newest first, 30 a page) by builders
// grouped by OS and architecture; each cell links to its build. The same data is at
// /dashboard?mode=json. Cells of running and queued builds change live.
import { Live, announce, el, fmtTime, getJson, markNav, showError, clearError } from './common.js';

markNav();
const params = new URLSearchParams(location.search);
let data = null;

async function load() {
  const q = new URLSearchParams();
  for (const k of ['repo', 'branch', 'page']) if (params.get(k)) q.set(k, params.get(k));
  try {
    data = await getJson('/api/v1/dashboard?' + q);
    clearError();
  } catch (e) {
    showError(e.status === 404 ? 'No builds yet for this repository and branch.' : 'Could not load the dashboard: ' + e.message);
    return;
  }
  render();
}

function render() {
  const repoSel = document.getElementById('repo');
  const branchSel = document.getElementById('branch');
  repoSel.replaceChildren(...data.repos.map(r => el('option', { value: r.repo, selected: r.repo === data.repo }, r.repo)));
  const branches = (data.repos.find(r => r.repo === data.repo) || { branches: [] }).branches;
  branchSel.replaceChildren(...branches.map(b => el('option', { value: b, selected: b === data.branch }, b === '' ? '(by commit)' : b)));
  const jq = new URLSearchParams({ mode: 'json', repo: data.repo, branch: data.branch, page: data.page });
  document.getElementById('json').href = '/dashboard?' + jq;

  const groups = [];
  for (const b of data.builders) {
    const g = b.os + '/' + b.arch;
    if (!groups.length || groups[groups.length - 1].name !== g) groups.push({ name: g, n: 0 });
    groups[groups.length - 1].n++;
  }
  const head = document.querySelector('#grid thead');
  head.replaceChildren(
    el('tr', {}, el('td', { colspan: 4 }), ...groups.map(g => el('th', { scope: 'colgroup', colspan: g.n, class: 'group' }, g.name))),
    el('tr', {}, ...['Commit', 'Author', 'Time', 'Subject'].map(t => el('th', { scope: 'col' }, t)),
      ...data.builders.map(b => el('th', { scope: 'col', class: 'builder' }, b.name))));
  const body = document.querySelector('#grid tbody');
  body.replaceChildren(...data.commits.map(c => el('tr', { 'data-rev': c.rev },
    el('th', { scope: 'row' }, el('code', {}, c.shortRev || c.rev.slice(0, 10))),
    el('td', {}, c.author || ''),
    el('td', {}, fmtTime(c.timeMs)),
    el('td', { class: 'wrap' }, c.subject || ''),
    ...data.builders.map(b => cell(c.cells[b.name], b.name, c)))));
  const older = document.getElementById('older');
  const newer = document.getElementById('newer');
  older.hidden = !data.hasMore;
  newer.hidden = data.page <= 1;
  older.href = '?' + new URLSearchParams({ repo: data.repo, branch: data.branch, page: data.page + 1 });
  newer.href = '?' + new URLSearchParams({ repo: data.repo, branch: data.branch, page: Math.max(1, data.page - 1) });
}

function cell(x, builder, c) {
  const td = el('td', { class: 'cell', 'data-builder': builder });
  if (!x) return td;
  td.dataset.state = x.state;
  td.dataset.build = x.buildId;
  const text = { ok: 'ok', failed: 'fail', running: 'run', queued: '…', error: 'err', cancelled: 'x' }[x.state] || x.state;
  const label = builder + ' at ' + (c.shortRev || c.rev) + ': ' + x.state;
  td.append(el('a', { href: x.url, class: 's-' + x.state, 'aria-label': label, title: label }, text));
  return td;
}

document.getElementById('pick').addEventListener('submit', (e) => {
  e.preventDefault();
  const q = new URLSearchParams({ repo: document.getElementById('repo').value, branch: document.getElementById('branch').value });
  location.search = '?' + q;
});

let pending = null;
new Live({
  onSnapshot() { load(); },
  onPatch(m) {
    const mine = (m.builds || []).filter(b => data && b.repo === data.repo);
    if (!mine.length) return;
    // one reload for a burst of changes
    clearTimeout(pending);
    pending = setTimeout(async () => {
      await load();
      announce(mine.length === 1 ? 'A build changed: ' + mine[0].builder + ' ' + mine[0].state : mine.length + ' builds changed');
    }, 200);
  },
});
