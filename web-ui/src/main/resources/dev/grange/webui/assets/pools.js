// Pool status (/): nodes, host types and machines, kept current from the live socket. Rows are
// keyed by id and patched in place (one animation frame per burst of patches), never rebuilt.
import { Live, announce, badge, el, fmtDuration, frameBatcher, getJson, markNav, shortRev, sinceCell, tickTimes, cssId } from './common.js';

markNav();
tickTimes();

const nodes = new Map();    // address -> node json
const pools = new Map();    // hostType -> pool json
const machines = new Map(); // id -> machine json
const dirtyNodes = new Set(), dirtyPools = new Set(), dirtyMachines = new Set();
let said = { came: [], went: [] };

/**
 * For benchmarks and tests: when each machine's row last changed (epoch ms), by hostname; and
 * for each row patched because its machine changed state, how long after the pool saw the change
 * (ms from the machine's stateSinceMs to the DOM change), drained by bench/ui.
 */
window.grangeUi = { applied: new Map(), firstSeen: new Map(), patches: 0, lags: [] };
const MAX_LAGS = 100000;

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
  const fresh = [];
  for (const h of dirtyPools) {
    const id = 'p-' + cssId(h);
    const old = document.getElementById(id);
    const p = pools.get(h);
    if (!p) { if (old) old.remove(); continue; }
    const missing = p.missing.map(x => x.hostname).concat(p.missingUnnamed > 0 ? [p.missingUnnamed + ' never seen'] : []);
    const short = p.expected > p.connected;
    const card = el('article', { id, class: 'card', 'aria-labelledby': id + '-h', 'data-host-type': h },
      el('h3', { id: id + '-h' }, h, ' ', el('span', { class: 'muted' }, p.pool)),
      el('dl', {},
        el('dt', {}, 'Machines'), el('dd', { class: short ? 'warn' : '' }, p.connected + (p.expected ? ' of ' + p.expected + ' expected' : ' connected')),
        missing.length ? el('dt', {}, 'Missing') : null, missing.length ? el('dd', { class: 'warn' }, missing.join(', ')) : null,
        el('dt', {}, 'Idle / busy'), el('dd', {}, p.idle + ' / ' + p.busy),
        el('dt', {}, 'Quarantined'), el('dd', { class: p.quarantined ? 'warn' : '' }, String(p.quarantined)),
        p.creating ? el('dt', {}, 'Starting') : null, p.creating ? el('dd', {}, p.creating + (p.creating === 1 ? ' instance' : ' instances')) : null,
        p.quotaLimit ? el('dt', {}, 'Quota') : null,
        p.quotaLimit ? el('dd', { class: p.quotaUsed >= p.quotaLimit ? 'warn' : '' }, p.quotaUsed + ' of ' + p.quotaLimit) : null,
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
      box.insertBefore(card, [...box.children].find(x => x.dataset.hostType > h) || null);
      fresh.push(h);
    }
  }
  dirtyPools.clear();
  // A moved canvas keeps its chart; only a new card needs one (the history redraws them all).
  if (fresh.length) drawCharts(fresh);
}

/** The table of a host type's machines, made when its first machine comes, kept in name order. */
function groupBody(hostType) {
  const id = 'mg-' + cssId(hostType);
  let g = document.getElementById(id);
  if (!g) {
    g = document.getElementById('machine-group').content.firstElementChild.cloneNode(true);
    g.id = id;
    g.dataset.hostType = hostType;
    g.setAttribute('aria-labelledby', id + '-h');
    g.querySelector('h3').id = id + '-h';
    g.querySelector('h3').textContent = hostType;
    g.querySelector('caption').textContent = 'Machines of ' + hostType;
    const box = document.getElementById('machines');
    const after = [...box.children].find(x => x.dataset.hostType > hostType);
    box.insertBefore(g, after || null);
  }
  return g.querySelector('tbody');
}

function renderMachines() {
  const now = Date.now();
  for (const mid of dirtyMachines) {
    const id = 'm-' + cssId(mid);
    const old = document.getElementById(id);
    const m = machines.get(mid);
    if (!m) { if (old) removeRow(old); continue; }
    const row = el('tr', { id, 'data-hostname': m.hostname, 'data-state': m.state, 'data-state-since': String(m.stateSinceMs) },
      el('th', { scope: 'row' }, m.hostname),
      el('td', {}, badge(m.state)),
      sinceCell('td', m.stateSinceMs),
      el('td', {}, m.build ? el('a', { href: '/builds/' + m.build }, m.build) : ''),
      el('td', {}, m.node),
      sinceCell('td', m.connectedAtMs),
      el('td', {}, 'v' + m.agentVersion + ' ' + m.os + '/' + m.arch),
      el('td', {}, m.infraFailures.inWindow + ' (' + m.infraFailures.total + ' in all)'),
      el('td', { class: 'wrap' }, m.quarantined ? m.quarantined.reason : ''));
    if (old && old.dataset.stateSince !== String(m.stateSinceMs) && window.grangeUi.lags.length < MAX_LAGS) {
      window.grangeUi.lags.push(now - m.stateSinceMs);
    }
    if (old) {
      old.replaceWith(row);
    } else {
      // When a machine's row first appeared, and when its pool saw it: the browser test's "within 1 s".
      if (!window.grangeUi.firstSeen.has(m.hostname)) window.grangeUi.firstSeen.set(m.hostname, { atMs: now, sinceMs: m.stateSinceMs });
      const body = groupBody(m.hostType);
      body.insertBefore(row, [...body.children].find(r => r.dataset.hostname > m.hostname) || null);
    }
    window.grangeUi.applied.set(m.hostname, { state: m.state, atMs: now });
  }
  for (const mid of dirtyMachines) {
    if (!machines.has(mid)) window.grangeUi.applied.set('gone:' + mid, { state: 'gone', atMs: now });
  }
  if (window.grangeUi.applied.size > 5000) window.grangeUi.applied.clear();
  dirtyMachines.clear();
  document.getElementById('machine-count').textContent = '(' + machines.size + ')';
}

/** Removes a machine's row, and its host type's table with the last one. */
function removeRow(row) {
  const group = row.closest('.machine-group');
  row.remove();
  if (group && !group.querySelector('tbody tr')) group.remove();
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

function drawCharts(only = [...pools.keys()]) {
  if (!history || typeof Chart === 'undefined') return;
  for (const h of only) {
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

// Cloud pools (GET /api/v1/cloud-pools, every 5 s; not on the live socket): quota and use,
// instances by phase, deletions by reason, creates asked for and failed, the last error of each
// host type. Hidden when the farm has none.
async function refreshClouds() {
  let clouds;
  try {
    clouds = await getJson('/api/v1/cloud-pools');
  } catch (e) {
    return; // the store is down or the node is starting: the status line says so already
  }
  window.grangeUi.clouds = clouds;
  document.getElementById('clouds').hidden = clouds.length === 0;
  document.querySelector('#cloud-pools tbody').replaceChildren(...clouds.map(cloudRow));
}

function cloudRow(c) {
  const of = (used, max) => used + (max ? ' of ' + max : '');
  const phases = {};
  for (const i of c.instances) phases[i.phase] = (phases[i.phase] || 0) + 1;
  const byPhase = Object.entries(phases).map(([p, n]) => p.toLowerCase() + ' ' + n).join(', ') || 'none';
  const deleted = Object.entries(c.deletions).map(([r, n]) => r + ' ' + n).join(', ') || 'none';
  const errors = Object.entries(c.lastErrors).map(([h, e]) => el('div', { class: 'warn' }, h + ': ' + e));
  const full = c.quota.maxInstances && c.instancesUsed >= c.quota.maxInstances;
  return el('tr', { 'data-kind': c.kind },
    el('th', { scope: 'row' }, c.kind),
    el('td', { class: full ? 'warn' : '' }, of(c.instancesUsed, c.quota.maxInstances)),
    el('td', {}, of(c.milliCpusUsed / 1000, c.quota.maxMilliCpus / 1000)),
    el('td', {}, byPhase),
    el('td', { class: 'wrap' }, deleted),
    el('td', {}, c.requested + ' / ' + c.createFailures),
    el('td', { class: 'wrap' }, ...(errors.length ? errors : [''])));
}

refreshClouds();
setInterval(refreshClouds, 5000);
