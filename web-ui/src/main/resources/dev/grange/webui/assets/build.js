// A build (/builds/<id>): summary, steps, attempts, and its log followed live from any offset.
// The log is read as bytes from /api/v1/builds/<id>/log?from=<bytes so far>: a dropped stream is
// picked up where it stopped, so no text is lost or shown twice. A failed build's failing part
// is highlighted in the log and shown above it.
import { Live, announce, badge, clearError, el, fmtDuration, fmtTime, getJson, markNav, shortRev, showError } from './common.js';

markNav();
const id = decodeURIComponent(location.pathname.split('/')[2] || '');
const over = s => s === 'ok' || s === 'failed' || s === 'error' || s === 'cancelled';
const logEl = document.getElementById('log');
const logState = document.getElementById('log-state');
let build = null;
let offset = 0;          // bytes of the log received
let logText = '';        // the text received, for highlighting
let followStarted = false;
let logDone = false;     // the log stream ended with the build over: logText is the whole log
let highlighted = false;
let lastState = null;

/** For tests: the log as shown and the bytes received. */
window.grangeUi = { log: () => logText, offset: () => offset, reconnects: 0 };

async function refresh() {
  try {
    build = await getJson('/api/v1/builds/' + encodeURIComponent(id));
    clearError();
  } catch (e) {
    showError(e.status === 404 ? 'No build ' + id + '.' : 'Could not load the build: ' + e.message);
    return;
  }
  render();
  if (!followStarted) {
    followStarted = true;
    follow();
  }
  if (logDone && !highlighted) highlight();
}

function render() {
  const b = build;
  document.title = b.builder + ' ' + shortRev(b.rev) + ' · ' + b.state + ' · Grange';
  document.getElementById('title').replaceChildren('Build ', el('code', {}, b.id), ' ', badge(b.state));
  if (lastState !== b.state) {
    if (lastState !== null) announce('Build ' + b.state);
    lastState = b.state;
  }
  document.getElementById('summary').replaceChildren(el('dl', { class: 'card' },
    el('dt', {}, 'Builder'), el('dd', {}, b.builder, ' on ', b.hostType),
    el('dt', {}, 'Repository'), el('dd', {}, b.repo),
    el('dt', {}, 'Commit'), el('dd', {}, el('code', {}, shortRev(b.rev)), ' ', b.subject || '', b.requestedRev && b.requestedRev !== b.rev ? ' (' + b.requestedRev + ')' : ''),
    el('dt', {}, 'Requested'), el('dd', {}, fmtTime(b.submittedAtMs), ' by ', b.user, ', ', b.priority),
    b.finishedAtMs ? el('dt', {}, 'Finished') : null, b.finishedAtMs ? el('dd', {}, fmtTime(b.finishedAtMs), ' after ', fmtDuration(b.finishedAtMs - b.submittedAtMs)) : null,
    b.reason ? el('dt', {}, 'Reason') : null, b.reason ? el('dd', {}, b.reason) : null));
  const steps = document.querySelector('#steps tbody');
  steps.replaceChildren(...b.steps.map(s => el('tr', { 'data-step': s.name, 'data-state': s.state },
    el('th', { scope: 'row' }, s.name),
    el('td', {}, stepBadge(s.state)),
    el('td', {}, s.exitCode === undefined ? '' : String(s.exitCode)),
    el('td', {}, s.durationMs !== undefined ? fmtDuration(s.durationMs) : s.startMs ? 'for ' + fmtDuration(Date.now() - s.startMs) : ''),
    el('td', {}, s.outputBytes !== undefined ? s.outputBytes + ' bytes' : ''))));
  const attempts = document.querySelector('#attempts tbody');
  attempts.replaceChildren(...b.attempts.map(a => el('tr', {},
    el('td', {}, String(a.attempt)),
    el('td', {}, a.hostname, ' ', el('span', { class: 'muted' }, a.buildlet)),
    el('td', {}, a.node),
    el('td', {}, fmtTime(a.startMs)),
    el('td', {}, a.endMs ? fmtTime(a.endMs) : ''),
    el('td', { class: 'wrap stages' }, stagesText(a.stages || [])),
    el('td', { class: 'wrap' }, a.source ? sourceText(a.source) : ''),
    el('td', { class: 'wrap' }, a.cause || ''))));
}

/** How the attempt got its buildlet, as farmer's timeline: "get_buildlet 2.1 s (create_instance 0.4 s, wait_agent 1.5 s)". */
function stagesText(stages) {
  if (!stages.length) return '';
  const [first, ...rest] = stages;
  const one = s => s.name + ' ' + fmtDuration(s.durationMs);
  return one(first) + (rest.length ? ' (' + rest.map(one).join(', ') + ')' : '');
}

/** How the source reached the buildlet: "12 files, 3.4 KiB in 40 ms, fetched from <url>" (or pushed by the node). */
function sourceText(s) {
  const size = s.bytes < 1024 ? s.bytes + ' B' : s.bytes < 1048576 ? (s.bytes / 1024).toFixed(1) + ' KiB' : (s.bytes / 1048576).toFixed(1) + ' MiB';
  const how = s.from.startsWith('http') ? 'fetched by the agent from ' + s.from : s.from;
  return s.files + ' files, ' + size + ' in ' + fmtDuration(s.durationMs) + ', ' + how;
}

/** A step's state is "ok", "running", "pending", "interrupted" or how its command ended ("exit status 2", "timeout"). */
function stepBadge(state) {
  const known = ['ok', 'running', 'pending', 'queued', 'cancelled'];
  const b = badge(state);
  if (!known.includes(state)) b.className = 'badge s-failed';
  return b;
}

/** Reads the log from the bytes we have; on a drop, again from there; ends when the build is over. */
async function follow() {
  const decoder = new TextDecoder('utf-8');
  try {
    logState.textContent = '(following)';
    const r = await fetch('/api/v1/builds/' + encodeURIComponent(id) + '/log?from=' + offset);
    if (!r.ok) throw new Error(r.status + ' ' + r.statusText);
    const reader = r.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      offset += value.length;
      const text = decoder.decode(value, { stream: true });
      if (text) append(text);
    }
    const tail = decoder.decode();
    if (tail) append(tail);
    await refresh();
    if (build && over(build.state)) {
      logState.textContent = '(' + offset + ' bytes)';
      logDone = true;
      if (!highlighted) highlight();
    } else {
      window.grangeUi.reconnects++;
      setTimeout(follow, 500);
    }
  } catch (e) {
    // A cut stream: what arrived is kept (offset counts whole bytes), the rest is asked for again.
    const tail = decoder.decode();
    if (tail) append(tail);
    window.grangeUi.reconnects++;
    logState.textContent = '(reconnecting)';
    setTimeout(follow, 1000);
  }
}

function append(text) {
  const atBottom = logEl.scrollTop + logEl.clientHeight >= logEl.scrollHeight - 4;
  logText += text;
  logEl.append(document.createTextNode(text));
  if (atBottom) logEl.scrollTop = logEl.scrollHeight;
}

/**
 * Marks what failed in a failed build, as the server finds it in the log (GET
 * /api/v1/builds/<id>/failure: Go's test and build verdicts, a crash's running test, or the last
 * lines before the end), and shows each failure's snippet above the log with a link to its place.
 */
async function highlight() {
  highlighted = true;
  if (build.state !== 'failed') return;
  const box = document.getElementById('failure');
  let found;
  try {
    found = await getJson('/api/v1/builds/' + encodeURIComponent(id) + '/failure');
  } catch (e) {
    box.replaceChildren(el('section', { class: 'failure', 'aria-label': 'Failure' },
      'Could not find what failed: ' + e.message));
    return;
  }
  const fails = found.failures || [];
  markLines(fails);
  const failed = build.steps.find(s => s.state !== 'ok' && s.state !== 'pending');
  const step = failed ? 'Step ' + failed.name + ': ' + failed.state : 'Failed';
  box.replaceChildren(...fails.map((f, k) => el('section', { class: 'failure', 'aria-label': 'Failure ' + (k + 1), 'data-failure': String(k + 1) },
    el('strong', {}, f.title), ' ',
    el('span', { class: 'muted' }, [f.mode && '(' + f.mode + ')', f.section && 'in ' + f.section].filter(Boolean).join(' ')), ' ',
    document.getElementById('fail-' + (k + 1)) ? el('a', { href: '#fail-' + (k + 1) }, 'in the log') : '',
    el('pre', {}, f.snippet))),
    fails.length ? el('p', { class: 'muted' }, step, found.whole ? '' : ' (the log is long: its last part was read)') : el('p', {}, step));
  announce(fails.length === 1 ? 'Failure: ' + fails[0].title : fails.length + ' failures');
}

/** Wraps each failure's snippet lines (1-based ranges) of the log in a mark; the first gets id fail-K. */
function markLines(fails) {
  const owner = new Map();
  fails.forEach((f, k) => (f.snippetLines || []).forEach(([from, to]) => {
    for (let n = from; n <= to; n++) if (!owner.has(n)) owner.set(n, k + 1);
  }));
  if (!owner.size) return;
  const lines = logText.split(/(?<=\n)/);
  const parts = [];
  let run = '';
  let runOwner;
  const flush = () => {
    if (!run) return;
    if (runOwner === undefined) {
      parts.push(document.createTextNode(run));
    } else {
      const m = el('mark', { 'data-failure': String(runOwner) }, run);
      if (!document.getElementById('fail-' + runOwner) && !parts.some(p => p.id === 'fail-' + runOwner)) m.id = 'fail-' + runOwner;
      parts.push(m);
    }
    run = '';
  };
  lines.forEach((line, i) => {
    const o = owner.get(i + 1);
    if (o !== runOwner) { flush(); runOwner = o; }
    run += line;
  });
  flush();
  logEl.replaceChildren(...parts);
}

new Live({
  onSnapshot() { refresh(); },
  onPatch(m) {
    if ((m.builds || []).some(b => b.id === id)) refresh();
  },
});
