// Queues (/queues): per host type, its waiters in the order the pool serves them, live.
import { Live, announce, el, markNav, shortRev, sinceCell, tickTimes } from './common.js';

markNav();
tickTimes();

const queues = new Map(); // hostType -> queue json
const dirty = new Set();
let lastTotal = -1;

new Live({
  onSnapshot(m) {
    for (const h of queues.keys()) dirty.add(h);
    queues.clear();
    for (const q of m.queues) { queues.set(q.hostType, q); dirty.add(q.hostType); }
    render();
  },
  onPatch(m) {
    for (const q of m.queues || []) { queues.set(q.hostType, q); dirty.add(q.hostType); }
    if ((m.queues || []).length) render();
  },
});

function render() {
  const box = document.getElementById('queues');
  for (const h of [...dirty].sort()) {
    const id = 'q-' + h.replace(/[^A-Za-z0-9_-]/g, '_');
    const old = document.getElementById(id);
    const q = queues.get(h);
    if (!q) { if (old) old.remove(); continue; }
    const rows = q.waiters.map((w, i) => el('tr', { 'data-build': w.build },
      el('td', {}, String(i + 1)),
      el('td', {}, w.class),
      el('td', {}, w.builder),
      el('td', {}, el('a', { href: '/builds/' + w.build }, shortRev(w.rev))),
      el('td', {}, w.user),
      sinceCell('td', w.requestedAtMs),
      el('td', { class: 'wrap' }, w.why)));
    const section = el('section', { id, 'aria-labelledby': id + '-h' },
      el('h2', { id: id + '-h' }, h, ' ', el('span', { class: 'muted' }, q.waiters.length + ' waiting')),
      q.waiters.length === 0 ? el('p', { class: 'muted' }, 'Nobody waits.') :
        el('div', { class: 'scroll' }, el('table', {},
          el('thead', {}, el('tr', {}, ...['#', 'Class', 'Builder', 'Rev', 'User', 'Waiting for', 'Why'].map(t => el('th', { scope: 'col' }, t)))),
          el('tbody', {}, ...rows))));
    old ? old.replaceWith(section) : box.append(section);
  }
  dirty.clear();
  const total = [...queues.values()].reduce((n, q) => n + q.waiters.length, 0);
  if (total !== lastTotal) {
    announce(total + (total === 1 ? ' build waits' : ' builds wait'));
    lastTotal = total;
  }
}
