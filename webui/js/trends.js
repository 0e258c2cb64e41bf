// Trends (issue 16 item 6): the max, min and average of the scene and of
// each rule over the last minutes, hours or days, one small plot each (SVG
// drawn here). The numbers come from historySource() (history.js): the
// device's history, or, for an account that may not read it, what the page
// has polled since it was loaded (GET /temperatures once a second while this
// page is open).
import { api } from './api.js';
import { t, applyI18n } from './i18n.js';
import { h, svg, flash } from './ui.js';
import { seen, historySeries, historySource, historyFromDevice } from './history.js';
import { formatTemp } from './thermal.js';

const POLL_MS = 1000;
// [key, span (s), step (s)]
const RANGES = [['10m', 600, 1], ['1h', 3600, 10], ['24h', 86400, 120], ['7d', 7 * 86400, 1200]];
const LINES = ['max', 'avg', 'min'];
const PLOT_H = 170, PAD = { l: 58, r: 10, t: 10, b: 22 };

function toUnit(c, unit) {
  return unit === 'fahrenheit' ? c * 9 / 5 + 32 : unit === 'kelvin' ? c + 273.15 : c;
}

function fromUnit(v, unit) {
  return unit === 'fahrenheit' ? (v - 32) * 5 / 9 : unit === 'kelvin' ? v - 273.15 : v;
}

// about @n round steps between @lo and @hi
function ticks(lo, hi, n) {
  const raw = (hi - lo) / n, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step)
    out.push(v);
  return out;
}

// the round times (local) to mark between @from and @to (ms), at most @n
const TIME_STEPS = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
function timeTicks(from, to, n) {
  const span = (to - from) / 1000;
  const step = (TIME_STEPS.find((s) => span / s <= n) || 86400 * Math.ceil(span / 86400 / n)) * 1000;
  const tz = new Date(from).getTimezoneOffset() * 60000;
  const out = [];
  for (let ms = Math.ceil((from - tz) / step) * step + tz; ms <= to; ms += step)
    out.push(ms);
  return { ticks: out, step: step / 1000 };
}

const two = (n) => String(n).padStart(2, '0');
function timeLabel(ms, step, span) {
  const d = new Date(ms);
  const day = `${two(d.getMonth() + 1)}-${two(d.getDate())}`;
  const hm = `${two(d.getHours())}:${two(d.getMinutes())}`;
  if (step >= 86400)
    return day;
  if (step < 60)
    return `${hm}:${two(d.getSeconds())}`;
  return span > 86400 ? `${day} ${hm}` : hm;
}

export function renderTrends(view) {
  let alive = true, timer = 0, unit = 'celsius', range = RANGES[0], measureOff = false, hover = null;
  const plots = h('div', { class: 'trend-plots', id: 'trend-plots' });
  const rangeBar = h('div', { class: 'tools', role: 'group', id: 'trend-ranges', 'aria-label': t('trends.span') });
  for (const r of RANGES)
    rangeBar.append(h('button', { type: 'button', 'data-range': r[0], 'aria-pressed': String(r === range), 'data-i18n': 'trends.range.' + r[0] }));
  const status = h('span', { class: 'status', id: 'trend-status' });
  const section = h('section', { class: 'trends', id: 'trends' },
    h('div', { class: 'toolbar' }, h('span', { 'data-i18n': 'trends.span' }), rangeBar,
      h('span', { class: 'legend' }, ...LINES.map((l) => h('span', { class: 'key ' + l, 'data-i18n': 'rules.' + l }))), status),
    h('p', { class: 'hint', id: 'trend-source', 'data-i18n': 'trends.device' }), plots);
  view.append(section);
  applyI18n(section);
  for (const b of rangeBar.children)
    b.addEventListener('click', () => {
      range = RANGES.find((r) => r[0] === b.dataset.range);
      for (const x of rangeBar.children)
        x.setAttribute('aria-pressed', String(x === b));
      draw();
    });
  api('GET', 'config/thermometry', undefined, { quiet: true }).then((th) => { unit = th.unit || unit; draw(); }).catch(() => {});

  function plot(key, name, points, from, to) {
    const fig = h('figure', { class: 'trend', dataset: { key } });
    const cap = h('figcaption', {}, key === 'scene' ? t('trends.scene') : name || `#${key}`);
    const w = Math.max(280, plots.clientWidth - 2);
    const s = svg('svg', { viewBox: `0 0 ${w} ${PLOT_H}`, width: w, height: PLOT_H, role: 'img', 'data-points': points.length });
    const vals = points.flatMap((p) => LINES.map((l) => toUnit(p[l], unit)));
    let lo = Math.min(...vals), hi = Math.max(...vals);
    if (!points.length) {
      lo = 0;
      hi = 1;
    }
    if (hi - lo < 1) {
      const m = (hi + lo) / 2;
      lo = m - 0.5;
      hi = m + 0.5;
    }
    const pad = (hi - lo) * 0.08;
    lo -= pad;
    hi += pad;
    const X = (ms) => PAD.l + (ms - from) / (to - from) * (w - PAD.l - PAD.r);
    const Y = (v) => PAD.t + (hi - v) / (hi - lo) * (PLOT_H - PAD.t - PAD.b);
    for (const v of ticks(lo, hi, 4)) {
      s.append(svg('line', { class: 'grid', x1: PAD.l, x2: w - PAD.r, y1: Y(v), y2: Y(v) }));
      const tx = svg('text', { class: 'tick', x: PAD.l - 4, y: Y(v) + 4, 'text-anchor': 'end' });
      tx.textContent = formatTemp(fromUnit(v, unit), unit, hi - lo < 5 ? 1 : 0);
      s.append(tx);
    }
    const span = (to - from) / 1000;
    const tt = timeTicks(from, to, Math.max(2, Math.floor((w - PAD.l) / (span > 86400 ? 110 : 80))));
    for (const ms of tt.ticks) {
      s.append(svg('line', { class: 'grid', x1: X(ms), x2: X(ms), y1: PAD.t, y2: PLOT_H - PAD.b }));
      const tx = svg('text', { class: 'tick', x: X(ms), y: PLOT_H - 6, 'text-anchor': 'middle' });
      tx.textContent = timeLabel(ms, tt.step, span);
      s.append(tx);
    }
    // a line each, broken where the page saw nothing (a gap of 3 steps)
    const gap = range[2] * 3000 + POLL_MS * 3;
    for (const l of LINES) {
      let d = '', prev = null;
      for (const p of points) {
        d += `${prev === null || p.t - prev > gap ? 'M' : 'L'}${X(p.t).toFixed(1)},${Y(toUnit(p[l], unit)).toFixed(1)}`;
        prev = p.t;
      }
      if (d)
        s.append(svg('path', { class: 'line ' + l, d }));
      if (points.length === 1)
        s.append(svg('circle', { class: 'dot ' + l, cx: X(points[0].t), cy: Y(toUnit(points[0][l], unit)), r: 2.5 }));
    }
    const last = points[points.length - 1];
    const say = (p, when) => (p ? (when ? new Date(p.t).toLocaleTimeString(document.documentElement.lang) + '  ' : '')
      + LINES.map((l) => `${t('rules.' + l)} ${formatTemp(p[l], unit)}`).join('  ') : t('trends.nothing'));
    const now = h('span', { class: 'now' }, say(last, false));
    const cursorLine = svg('line', { class: 'cursor', y1: PAD.t, y2: PLOT_H - PAD.b, visibility: 'hidden' });
    s.append(cursorLine);
    // the readings at the pointer's time (kept across the redraws)
    const show = (px) => {
      if (px === null || !points.length) {
        cursorLine.setAttribute('visibility', 'hidden');
        now.textContent = say(last, false);
        return;
      }
      const ms = from + (px - PAD.l) / (w - PAD.l - PAD.r) * (to - from);
      let best = points[0];
      for (const p of points)
        if (Math.abs(p.t - ms) < Math.abs(best.t - ms))
          best = p;
      cursorLine.setAttribute('x1', X(best.t));
      cursorLine.setAttribute('x2', X(best.t));
      cursorLine.setAttribute('visibility', 'visible');
      now.textContent = say(best, true);
    };
    s.addEventListener('pointermove', (ev) => {
      const r = s.getBoundingClientRect();
      hover = { key, px: (ev.clientX - r.left) / r.width * w };
      show(hover.px);
    });
    s.addEventListener('pointerleave', () => { hover = null; show(null); });
    if (hover && hover.key === key)
      show(hover.px);
    cap.append(now);
    fig.append(cap, s);
    return fig;
  }

  async function draw() {
    const to = Date.now(), from = to - range[1] * 1000;
    const keys = await historySeries();
    const source = section.querySelector('#trend-source');
    source.dataset.i18n = historyFromDevice() ? 'trends.device' : 'trends.since';
    source.textContent = t(source.dataset.i18n);
    const figs = [];
    for (const { key, name } of keys) {
      const r = await historySource(key, from, to, range[2]);
      const points = (r.points || []).map((p) => ({ ...p, t: typeof p.t === 'string' ? Date.parse(p.t) : p.t }));
      figs.push(plot(key, name, points, from, to));
    }
    if (!alive)
      return;
    plots.replaceChildren(...figs);
    if (!figs.length)
      plots.append(h('p', { class: 'hint' }, t(measureOff ? 'trends.off' : 'trends.waiting')));
  }

  async function poll() {
    try {
      const r = await api('GET', 'temperatures');
      measureOff = false;
      seen.record(r);
      status.textContent = t('trends.seen', { time: new Date(Date.parse(r.time) || Date.now()).toLocaleTimeString(document.documentElement.lang) });
    } catch (e) {
      measureOff = e.code === 'measurement_off';
      status.textContent = e.message || String(e);
      if (e.status && e.status !== 401 && e.status !== 409 && e.status !== 503)
        flash(e.message, 'error');
    }
    if (!alive)
      return;
    await draw();
    timer = setTimeout(poll, POLL_MS);
  }
  const ro = new ResizeObserver(() => draw());
  ro.observe(plots);
  poll();
  return () => {
    alive = false;
    clearTimeout(timer);
    ro.disconnect();
  };
}
