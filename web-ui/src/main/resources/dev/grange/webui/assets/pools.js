// Pool status (/): nodes, host types and machines, kept current from the live socket. Rows are
// keyed by id and patched in place (one animation frame per burst of patches), never rebuilt.
import { Live, announce, badge, el, fmtDuration, frameBatcher, getJson, markNav, shortRev, sinceCell, tickTimes } from './common.js';

markNav();
tickTimes();

const nodes = new Map();    // address -> node json
const pools = new Map();    // hostType -> pool json
const machines = new Map(); // id -> machine json
const dirtyNodes = new Set(), dirtyPools = new Set(), dirtyMachines = new Set();
let said = { came: [], went: [] };

/** For benchmarks and tests: when each machine's row last changed (epoch ms), by hostname. */
window.grangeUi = { applied: new Map(), patches: 0 };

const render = frameBatcher(() => {
  renderNodes();
  renderPools();
  renderMachines();
  if (said.came.length || said.went.length) {
    const parts = [];
    if (said.came.length) parts.push(said.came.join(', ') + (said.came.length === 1 ? ' connected' : ' connected'));
    if (said.went.length) parts.push(said.went.join(', ') + ' gone');
    announce(parts.join('; '));
    said = { came: [], went: [] };
  }
});

new Live({
  onSnapshot(m) {
    const known = new Set(machines.keys());
    for (const a of [...nodes.keys()]) { nodes.delete(a); dirtyNodes.add(a); }
    for (const h of [...pools.keys()]) { pools.delete(h); dirtyPools.add(h); }
    machines.clear();
    for (const n of m.nodes) { nodes.set(n.address, n); dirtyNodes.add(n.address); }
    for (const p of m.pools) { pools.set(p.hostType, p); dirtyPools.add(p.hostType); }
    for (const x of m.machines) { machines.set(x.id, x); dirtyMachines.add(x.id); }
    for (const id of known) dirtyMachines.add(id);
    render();
  },
  onPatch(m) {
    window.grangeUi.patches++;
    for (const n of m.nodes || []) { nodes.set(n.address, n); dirtyNodes.add(n.address); }
    for (const a of m.nodesGone || []) { nodes.delete(a); dirtyNodes.add(a); }
    for (const p of m.pools || []) { pools.set(p.hostType, p); dirtyPools.add(p.hostType); }
    for (const x of m.machines || []) {
      if (!machines.has(x.id)) said.came.push(x.hostname);
      machines.set(x.id, x);
      dirtyMachines.add(x.id);
    }
    for (const id of m.machinesGone || []) {
      const x = machines.get(id);
      if (x) said.went.push(x.hostname);
      machines.delete(id);
      dirtyMachines.add(id);
    }
    render();
  },
});

function renderNodes() {
  const body = document.querySelector('#nodes tbody');
  for (const a of dirtyNodes) {
    const id = 'n-' + cssId(a);
    const old = document.getElementById(id);
    const n = nodes.get(a);
    if (!n) { if (old) old.remove(); continue; }
    const row = el('tr', { id },
      el('td', {}, n.address, n.self ? el('span', { class: 'muted' }, ' (this page’s node)') : null),
      el('td', {}, badge(n.status)),
      sinceCell('td', n.startedAtMs),
      el('td', {}, n.version || ''));
    old ? old.replaceWith(row) : body.append(row);
  }
  dirtyNodes.clear();
}

function renderPools() {
  const box = document.getElementById('pools');
  for (const h of dirtyPools) {
    const id = 'p-' + cssId(h);
    const old = document.getElementById(id);
    const p = pools.get(h);
    if (!p) { if (old) old.remove(); continue; }
    const missing = p.missing.map(x => x.hostname).concat(p.missingUnnamed > 0 ? [p.missingUnnamed + ' never seen'] : []);
    const short = p.expected > p.connected;
    const card = el('article', { id, class: 'card', 'aria-labelledby': id + '-h' },
      el('h3', { id: id + '-h' }, h, ' ', el('span', { class: 'muted' }, p.pool)),
      el('dl', {},
        el('dt', {}, 'Machines'), el('dd', { class: short ? 'warn' : '' }, p.connected + (p.expected ? ' of ' + p.expected + ' expected' : ' connected')),
        missing.length ? el('dt', {}, 'Missing') : null, missing.length ? el('dd', { class: 'warn' }, missing.join(', ')) : null,
        el('dt', {}, 'Idle / busy'), el('dd', {}, p.idle + ' / ' + p.busy),
        el('dt', {}, 'Quarantined'), el('dd', { class: p.quarantined ? 'warn' : '' }, String(p.quarantined)),
        el('dt', {}, 'Waiting'), el('dd', {}, String(p.waiting), p.oldestWaitSinceMs ? el('span', {}, ', oldest for ', sinceCell('span', p.oldestWaitSinceMs)) : null),
        el('dt', {}, 'Served'), el('dd', {}, String(p.served)),
        p.notes ? el('dt', {}, 'Notes') : null, p.notes ? el('dd', {}, p.notes) : null),
      el('div', { class: 'chart' }, el('canvas', { id: id + '-chart', role: 'img', 'aria-label': 'Queue depth and machines busy over the last hour for ' + h })));
    if (old) {
      // keep the chart: move its canvas into the new card
      const canvas = old.querySelector('canvas');
      card.querySelector('.chart').replaceChildren(canvas);
      old.replaceWith(card);
    } else {
      box.append(card);
    }
  }
  dirtyPools.clear();
  drawCharts();
}

function renderMachines() {
  const body = document.querySelector('#machines tbody');
  const now = Date.now();
  for (const mid of dirtyMachines) {
    const id = 'm-' + cssId(mid);
    const old = document.getElementById(id);
    const m = machines.get(mid);
    if (!m) { if (old) old.remove(); continue; }
    const row = el('tr', { id, 'data-hostname': m.hostname, 'data-state': m.state },
      el('th', { scope: 'row' }, m.hostname),
      el('td', {}, m.hostType),
      el('td', {}, badge(m.state)),
      sinceCell('td', m.stateSinceMs),
      el('td', {}, m.build ? el('a', { href: '/builds/' + m.build }, m.build) : ''),
      el('td', {}, m.node),
      sinceCell('td', m.connectedAtMs),
      el('td', {}, 'v' + m.agentVersion + ' ' + m.os + '/' + m.arch),
      el('td', {}, m.infraFailures.inWindow + ' (' + m.infraFailures.total + ' in all)'),
      el('td', { class: 'wrap' }, m.quarantined ? m.quarantined.reason : ''));
    old ? old.replaceWith(row) : body.append(row);
    window.grangeUi.applied.set(m.hostname, { state: m.state, atMs: now });
  }
  for (const mid of dirtyMachines) {
    if (!machines.has(mid)) window.grangeUi.applied.set('gone:' + mid, { state: 'gone', atMs: now });
  }
  if (window.grangeUi.applied.size > 5000) window.grangeUi.applied.clear();
  dirtyMachines.clear();
  document.getElementById('machine-count').textContent = '(' + machines.size + ')';
}

function cssId(s) {
  return String(s).replace(/[^A-Za-z0-9_-]/g, '_');
}

// ---- charts: queue depth and utilisation over the last hour, per host type ----
const charts = new Map();
let history = null;

async function loadHistory() {
  try {
    history = await getJson('/api/v1/pools/history');
    drawCharts();
  } catch (e) {
    // the charts stay as they were; the status line is for the live data
  }
}
loadHistory();
setInterval(loadHistory, 30000);

function drawCharts() {
  if (!history || typeof Chart === 'undefined') return;
  for (const h of pools.keys()) {
    const canvas = document.getElementById('p-' + cssId(h) + '-chart');
    const samples = history[h] || [];
    if (!canvas) continue;
    const labels = samples.map(s => new Date(s.atMs).toISOString().slice(11, 16));
    const waiting = samples.map(s => s.waiting);
    const busy = samples.map(s => s.connected ? Math.round(100 * s.busy / s.connected) : 0);
    let c = charts.get(h);
    if (c && c.canvas !== canvas) { c.destroy(); c = null; }
    if (!c) {
      c = new Chart(canvas, {
        type: 'line',
        data: { labels, datasets: [
          { label: 'waiting', data: waiting, borderColor: '#a40e26', yAxisID: 'y', pointRadius: 0, borderWidth: 2 },
          { label: 'busy %', data: busy, borderColor: '#0550ae', yAxisID: 'pct', pointRadius: 0, borderWidth: 2 },
        ] },
        options: { animation: false, maintainAspectRatio: false, plugins: { legend: { labels: { boxWidth: 12 } } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, pct: { position: 'right', min: 0, max: 100, grid: { display: false } },
            x: { ticks: { maxTicksLimit: 6 } } } },
      });
      charts.set(h, c);
    } else {
      c.data.labels = labels;
      c.data.datasets[0].data = waiting;
      c.data.datasets[1].data = busy;
      c.update('none');
    }
  }
}
