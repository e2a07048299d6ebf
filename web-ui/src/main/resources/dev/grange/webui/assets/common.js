// Shared by every page: the header, formatting, JSON fetches, announcements for screen readers,
// and the live socket with its reconnects.

/** Creates an element: el('td', {class: 'x'}, 'text', child...). */
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function badge(state) {
  return el('span', { class: 'badge s-' + state }, state);
}

/** "3 s", "4 min 10 s", "2 h 5 min", "3 d 4 h". */
export function fmtDuration(ms) {
  if (ms === null || ms === undefined || ms < 0 || Number.isNaN(ms)) return '';
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min ' + (s % 60) + ' s';
  const h = Math.floor(m / 60);
  if (h < 48) return h + ' h ' + (m % 60) + ' min';
  return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
}

export function fmtTime(ms) {
  if (!ms) return '';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

export function shortRev(rev) {
  return rev ? rev.slice(0, 10) : '';
}

/** A cell whose text is the time since {@code sinceMs}, kept current by {@link tickTimes}. */
export function sinceCell(tag, sinceMs) {
  const e = el(tag, { 'data-since': sinceMs || '' });
  e.textContent = sinceMs ? fmtDuration(Date.now() - sinceMs) : '';
  return e;
}

/** Updates every [data-since] text once a second; only text changes, no re-render. */
export function tickTimes(root = document) {
  const tick = () => {
    const now = Date.now();
    for (const e of root.querySelectorAll('[data-since]')) {
      const since = Number(e.dataset.since);
      if (!since) continue;
      const text = fmtDuration(now - since);
      if (e.textContent !== text) e.textContent = text; // an unchanged text costs no layout
    }
  };
  setInterval(tick, 1000);
}

export async function getJson(url) {
  const r = await fetch(url, { headers: { Accept: 'application/json' } });
  const body = await r.json().catch(() => null);
  if (!r.ok) {
    const msg = body && body.error ? body.error.message || body.error : r.status + ' ' + r.statusText;
    const e = new Error(msg);
    e.status = r.status;
    throw e;
  }
  return body;
}

/** Says {@code text} to screen readers through the page's polite live region. */
export function announce(text) {
  const r = document.getElementById('announcer');
  if (r) r.textContent = text;
}

/** Shows an error for people in the page's status line (and to screen readers). */
export function showError(text) {
  const s = document.getElementById('status');
  if (s) {
    s.textContent = text;
    s.className = 'warn';
  }
}

export function clearError() {
  const s = document.getElementById('status');
  if (s) {
    s.textContent = '';
    s.className = '';
  }
}

/**
 * The live updates: a WebSocket to /ui/v1/live that reconnects by itself (backoff up to 5 s).
 * onSnapshot(msg) gets the whole state at each (re)connect, onPatch(msg) every change after it.
 * A socket silent for three pings is treated as dead and replaced.
 */
export class Live {
  constructor({ onSnapshot, onPatch }) {
    this.onSnapshot = onSnapshot;
    this.onPatch = onPatch || (() => {});
    this.delay = 250;
    this.seq = -1;
    this.connect();
  }

  connect() {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ui/v1/live';
    const ws = new WebSocket(url);
    this.ws = ws;
    let last = Date.now();
    const watchdog = setInterval(() => {
      if (Date.now() - last > 45000) ws.close();
    }, 5000);
    ws.onopen = () => {
      this.delay = 250;
    };
    ws.onmessage = (ev) => {
      last = Date.now();
      const m = JSON.parse(ev.data);
      if (m.type === 'snapshot') {
        this.seq = m.seq;
        setConn(true);
        this.onSnapshot(m);
      } else if (m.type === 'patch') {
        if (m.seq <= this.seq) return;
        this.seq = m.seq;
        this.onPatch(m);
      }
    };
    ws.onclose = () => {
      clearInterval(watchdog);
      setConn(false);
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 5000);
    };
    ws.onerror = () => {}; // onclose follows and reconnects
  }
}

function setConn(up) {
  const c = document.getElementById('conn');
  if (!c) return;
  const text = up ? 'live' : 'reconnecting…';
  if (c.textContent !== text) {
    c.textContent = text;
    c.className = up ? '' : 'down';
  }
}

/** Marks the current page in the header's navigation. */
export function markNav() {
  const path = location.pathname === '/' ? '/' : '/' + location.pathname.split('/')[1];
  for (const a of document.querySelectorAll('header.top nav a')) {
    if (a.getAttribute('href') === path) a.setAttribute('aria-current', 'page');
  }
}

/** Batches DOM work into one animation frame: schedule(fn) runs fn once per frame at most. */
export function frameBatcher(fn) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      fn();
    });
  };
}

/** A string as a safe fragment of an element id. */
export function cssId(s) {
  return String(s).replace(/[^A-Za-z0-9_-]/g, '_');
}
