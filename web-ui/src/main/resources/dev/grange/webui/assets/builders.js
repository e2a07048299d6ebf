// Builders (/builders): the builders and host types of the config, with their notes, and each
// builder's recent build durations as a small chart.
import { el, getJson, markNav, showError } from './common.js';

markNav();

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
    tb.append(el('tr', {},
      el('th', { scope: 'row' }, b.name),
      el('td', {}, b.hostType),
      el('td', { class: 'wrap' }, b.steps.join(', ')),
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
  const box = document.getElementById('durations');
  for (const b of builders) {
    let d;
    try {
      d = await getJson('/api/v1/builders/' + encodeURIComponent(b.name) + '/durations');
    } catch (e) {
      continue; // no durations for this builder (yet)
    }
    if (!d.length || typeof Chart === 'undefined') continue;
    const id = 'd-' + b.name.replace(/[^A-Za-z0-9_-]/g, '_');
    const card = el('article', { class: 'card' }, el('h3', {}, b.name),
      el('div', { class: 'chart' }, el('canvas', { id, role: 'img', 'aria-label': 'Durations of the last ' + d.length + ' builds of ' + b.name })));
    box.append(card);
    const rows = [...d].reverse();
    new Chart(document.getElementById(id), {
      type: 'bar',
      data: { labels: rows.map(r => r.rev ? r.rev.slice(0, 7) : r.buildId),
        datasets: [{ label: 'seconds', data: rows.map(r => Math.round(r.durationMs / 100) / 10),
          backgroundColor: rows.map(r => r.result === 'ok' ? '#116329' : '#a40e26') }] },
      options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
    });
  }
}
main();
