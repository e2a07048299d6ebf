// Builders (/builders): the builders and host types of the config, with their notes.
// (Build durations per builder need the build index: not yet built.)
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
}
main();
