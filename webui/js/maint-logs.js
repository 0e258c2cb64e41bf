// Logs: the security audit log (manual 10.12.2: GET /system/audit-log, its
// export) and the alarm and exception history, each searched by type and
// time, newest first, a page at a time.
import { t } from './i18n.js';
import { h, flash } from './ui.js';
import { api } from './api.js';
import { EventStream } from './events.js';
import { formatTemp, formatDelta } from './thermal.js';
import { pageFrom, showError, formatTime, download, saveBlob } from './maint-common.js';

const PAGE = 25;
const AUDIT_TYPES = ['login', 'login_failed', 'lock', 'logout', 'config', 'user', 'reboot',
  'system', 'certificate', 'import', 'export'];
const EVENT_TYPES = ['alarm', 'exception'];

// ---- the alarm and exception history ----
// The device keeps it (GET /api/v1/events/history, the history settings say
// how long); the event stream, open while the session lasts, only tells the
// page that a new one came, so that the first page of the list is redrawn.
let stream = null;
const listeners = new Set();

// an event as the stream sent it -> a row of the list
function toRecord(e) {
  if (e.source === 'exception') {
    const name = t('exception.' + e.type);
    return { time: e.time, type: 'exception', level: 'exception',
      what: name === 'exception.' + e.type ? e.type : name, state: e.state || '', detail: e.message || '' };
  }
  // the event's temperatures are in °C (a comparison's: a difference)
  const fmt = (v) => (e.source === 'comparison' ? formatDelta : formatTemp)(v, 'celsius');
  const what = e.source === 'input' ? t('alarms.input', { n: e.input })
    : e.source === 'environment' ? t('alarms.environment') : e.name || e.source;
  return { time: e.time, type: 'alarm', level: e.level, what, state: e.state,
    detail: e.value !== undefined ? t('alarms.valueThreshold', { value: fmt(e.value), threshold: fmt(e.threshold) }) : '' };
}

function startCollecting() {
  if (stream)
    return;
  stream = new EventStream();
  const told = (e) => {
    if (!e.repeat)
      for (const fn of listeners)
        fn();
  };
  stream.on('alarm', told);
  stream.on('exception', told);
  stream.open();
}

// the stream stays open while the session lasts; the frame's logout ends it
export function stopCollecting() {
  stream?.close();
  stream = null;
}

function eventQuery(type, from, to, limit, offset) {
  const q = new URLSearchParams({ limit: String(limit), offset: String(offset) });
  if (type) q.set('type', type);
  if (from) q.set('from', String(from));
  if (to) q.set('to', String(to));
  return api('GET', 'events/history?' + q);
}

// newest first: the device answers oldest first, so the window is counted
// from the end (one small query says how many there are)
export async function eventHistory({ type, from, to, limit, offset }) {
  const kinds = type ? [type] : EVENT_TYPES;
  const counts = await Promise.all(kinds.map((k) => eventQuery(k, from, to, 1, 0)));
  if (kinds.length === 1) {
    const total = counts[0].total;
    const start = Math.max(0, total - offset - limit), n = Math.min(limit, total - offset);
    if (n <= 0)
      return { records: [], total };
    const r = await eventQuery(type, from, to, n, start);
    return { records: r.events.slice().reverse().map(toRecord), total };
  }
  // alarms and exceptions together: each one's newest window, merged by time
  const total = counts.reduce((sum, c) => sum + c.total, 0);
  const parts = await Promise.all(kinds.map((k, i) => {
    const want = Math.min(counts[i].total, offset + limit);
    return want ? eventQuery(k, from, to, want, counts[i].total - want) : { events: [] };
  }));
  const all = parts.flatMap((p) => p.events).sort((x, y) => (x.time < y.time ? 1 : x.time > y.time ? -1 : 0));
  return { records: all.slice(offset, offset + limit).map(toRecord), total };
}

// ---- the audit log ----
async function auditHistory({ type, from, to, limit, offset }) {
  const q = new URLSearchParams();
  if (type) q.set('type', type);
  if (from) q.set('from', from);
  if (to) q.set('to', to);
  const all = (await api('GET', 'system/audit-log' + (String(q) ? '?' + q : ''))).records || [];
  all.reverse();                    // newest first
  return { records: all.slice(offset, offset + limit), total: all.length };
}

// a type's name, the type itself when the catalog does not know it
function typeName(type) {
  const s = t('logs.t.' + type);
  return s === 'logs.t.' + type ? type : s;
}

function unix(input) {
  if (!input.value)
    return 0;
  const ms = new Date(input.value).getTime();
  return isNaN(ms) ? NaN : Math.floor(ms / 1000);
}

export function renderLogs(view) {
  const page = pageFrom(view, 'maint-logs');
  const form = page.querySelector('#log-search');
  const rows = page.querySelector('#log-rows');
  const err = page.querySelector('#log-error');
  const typeSel = page.querySelector('#log-type');
  let tab = 'audit', offset = 0, total = 0, query = {};

  function fillTypes() {
    const types = tab === 'audit' ? AUDIT_TYPES : EVENT_TYPES;
    const keepValue = typeSel.value;
    typeSel.replaceChildren(h('option', { value: '' }, t('logs.all')),
      ...types.map((ty) => h('option', { value: ty }, typeName(ty))));
    typeSel.value = types.includes(keepValue) ? keepValue : '';
  }

  function labels() {
    page.querySelector('#log-col3').textContent = t(tab === 'audit' ? 'logs.user' : 'logs.what');
    page.querySelector('#log-col4').textContent = t(tab === 'audit' ? 'logs.address' : 'logs.state');
    page.querySelector('#log-source').textContent = tab === 'audit' ? ''
      : t('logs.eventsSource');
    for (const b of page.querySelectorAll('[role="tab"]'))
      b.setAttribute('aria-selected', String(b.id === 'tab-' + tab));
  }

  async function show() {
    showError(form, err, null);
    let res;
    try {
      res = await (tab === 'audit' ? auditHistory : eventHistory)({ ...query, limit: PAGE, offset });
    } catch (e) {
      return showError(form, err, e);
    }
    total = res.total;
    rows.replaceChildren(...res.records.map((r) => tab === 'audit'
      ? h('tr', { dataset: { type: r.type } },
        h('td', { class: 'time' }, formatTime(r.time)), h('td', {}, typeName(r.type)),
        h('td', {}, r.user ?? ''), h('td', {}, r.address ?? ''), h('td', { class: 'detail' }, r.detail))
      : h('tr', { dataset: { type: r.type, level: r.level } },
        h('td', { class: 'time' }, formatTime(r.time)),
        h('td', {}, h('span', { class: 'lvl ' + r.level }, r.type === 'alarm' ? t('state.' + r.level) : t('logs.t.exception'))),
        h('td', {}, r.what), h('td', {}, r.state ? t(r.state === 'stop' ? 'alarms.stop' : 'alarms.start') : ''),
        h('td', { class: 'detail' }, r.detail))));
    if (!res.records.length)
      rows.append(h('tr', {}, h('td', { colspan: 5, class: 'hint' }, t('logs.empty'))));
    const pages = Math.max(1, Math.ceil(total / PAGE));
    page.querySelector('#log-page').textContent = t('logs.page', { n: Math.floor(offset / PAGE) + 1, of: pages, total });
    page.querySelector('#log-prev').disabled = offset === 0;
    page.querySelector('#log-next').disabled = offset + PAGE >= total;
  }

  function readQuery() {
    const from = unix(form.elements.from), to = unix(form.elements.to);
    if (isNaN(from) || isNaN(to) || (from && to && from > to)) {
      showError(form, err, { message: t('logs.badRange'), field: isNaN(from) ? 'from' : 'to' });
      return false;
    }
    query = { type: typeSel.value, from, to };
    offset = 0;
    return true;
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (readQuery())
      show();
  });
  page.querySelector('#log-prev').addEventListener('click', () => { offset = Math.max(0, offset - PAGE); show(); });
  page.querySelector('#log-next').addEventListener('click', () => { offset += PAGE; show(); });
  page.querySelector('#log-export').addEventListener('click', async () => {
    if (!readQuery())
      return;
    try {
      if (tab === 'audit') {
        const q = new URLSearchParams({ format: 'csv' });
        if (query.type) q.set('type', query.type);
        if (query.from) q.set('from', query.from);
        if (query.to) q.set('to', query.to);
        await download('GET', 'system/audit-log/export?' + q, undefined, 'audit-log.csv');
      } else {
        const { records } = await eventHistory({ ...query, limit: 1000, offset: 0 });
        const cell = (v) => '"' + String(v ?? '').replace(/"/g, '""').replace(/^([=+\-@])/, "'$1") + '"';
        const csv = ['time,type,level,what,state,detail',
          ...records.map((r) => [r.time, r.type, r.level, r.what, r.state, r.detail].map(cell).join(','))].join('\r\n') + '\r\n';
        saveBlob(new Blob([csv], { type: 'text/csv' }), 'event-history.csv');
      }
    } catch (e) {
      flash(e.message, 'error');
    }
  });
  for (const b of page.querySelectorAll('[role="tab"]'))
    b.addEventListener('click', () => {
      tab = b.id.slice(4);
      fillTypes();
      labels();
      if (readQuery())
        show();
    });
  // the device writes its history every 2 s or so: the list is read again
  // a moment after the stream told of a new event
  let later = 0;
  const onEvent = () => {
    clearTimeout(later);
    later = setTimeout(() => {
      if (tab === 'events' && offset === 0)
        show();
    }, 2500);
  };
  const relabel = () => { fillTypes(); labels(); show(); };
  startCollecting();
  listeners.add(onEvent);
  window.addEventListener('langchange', relabel);
  fillTypes();
  labels();
  readQuery();
  show();
  return () => {
    listeners.delete(onEvent);
    window.removeEventListener('langchange', relabel);
  };
}
