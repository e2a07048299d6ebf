// Builders (/builders): the builders and host types of the config, with their notes, and per
// builder a small chart of its last builds' durations (GET /api/v1/builders/<name>/durations),
// redrawn when one of its builds ends.
import { Live, el, fmtDuration, getJson, markNav, showError, cssId } from './common.js';

markNav();

const SHOWN = 30;
const charts = new Map();
/** For tests: how many durations each builder's chart shows. */
window.grangeUi = { durations: {} };

async function main() {
  let builders, pools;
  try {
    [builders, pools] = await Promise.all([getJson('/api/v1/builders'), getJson('/api/v1/pools')]);
  } catch (e) {
    showError('Could not load the builders: ' + e.message);
    return;
  }
  const tb = document.querySelector('#builders tbody');
  for (const b of builders) {
    tb.append(el('tr', { 'data-builder': b.name },
      el('th', { scope: 'row' }, b.name),
      el('td', {}, b.hostType),
      el('td', { class: 'wrap' }, b.steps.join(', ')),
      el('td', {}, el('div', { class: 'spark empty' }, el('canvas', { id: 'd-' + cssId(b.name), role: 'img', 'aria-label': 'Durations of the last builds of ' + b.name })),
        el('span', { class: 'muted', id: 'dt-' + cssId(b.name) })),
      el('td', { class: 'wrap' }, b.notes || '')));
  }
  const th = document.querySelector('#hosts tbody');
  for (const p of pools) {
    th.append(el('tr', {},
      el('th', { scope: 'row' }, p.hostType),
      el('td', {}, p.pool),
      el('td', {}, String(p.expected)),
      el('td', { class: 'wrap' }, p.notes || '')));
  }
  await Promise.all(builders.map(b => durations(b.name)));
  new Live({
    onSnapshot() {},
    onPatch(m) {
      const ended = new Set((m.builds || []).filter(b => ['ok', 'failed', 'error', 'cancelled'].includes(b.state)).map(b => b.builder));
      ended.forEach(durations);
    },
  });
}

/** Draws a builder's last builds, oldest to newest: a bar per build, red when it failed. */
async function durations(name) {
  let d;
  try {
    d = await getJson('/api/v1/builders/' + encodeURIComponent(name) + '/durations?limit=' + SHOWN);
  } catch (e) {
    return; // the chart stays as it was; the page's error line is for the builders themselves
  }
  const builds = d.builds.slice().reverse();
  window.grangeUi.durations[name] = builds.length;
  const label = document.getElementById('dt-' + cssId(name));
  if (!builds.length) { label.textContent = 'no builds yet'; return; }
  const last = builds[builds.length - 1];
  label.textContent = 'last ' + took(last.durationMs) + ' (' + last.state + ')';
  if (typeof Chart === 'undefined') return;
  document.getElementById('d-' + cssId(name)).parentElement.classList.remove('empty');
  const data = {
    labels: builds.map(b => b.id),
    datasets: [{ label: 'duration (s)', data: builds.map(b => b.durationMs / 1000),
      backgroundColor: builds.map(b => b.state === 'ok' ? '#1a7f37' : b.state === 'failed' ? '#a40e26' : '#6e7781') }],
  };
  let c = charts.get(name);
  if (c) {
    c.data = data;
    c.update('none');
    return;
  }
  c = new Chart(document.getElementById('d-' + cssId(name)), {
    type: 'bar', data,
    options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false },
      tooltip: { callbacks: { label: ctx => took(builds[ctx.dataIndex].durationMs) + ', ' + builds[ctx.dataIndex].state
        + ', waited ' + fmtDuration(builds[ctx.dataIndex].queuedMs) } } },
      scales: { x: { display: false }, y: { beginAtZero: true, ticks: { maxTicksLimit: 3 } } } },
  });
  charts.set(name, c);
}


/** A build's duration: tenths of a second under a minute (most steps of a small build take less). */
function took(ms) {
  return ms < 60000 ? (ms / 1000).toFixed(1) + ' s' : fmtDuration(ms);
}

main();
