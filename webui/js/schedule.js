// The week grid of an arming schedule (manual 5.1): a row a day, 24 hours
// wide; dragging the mouse over a day adds a period (by quarter hours, joined
// to those it touches), a click on a period removes it. The same by keyboard:
// the periods are buttons, and a day, a start and an end add one.
import { t } from './i18n.js';
import { h } from './ui.js';
import { label } from './form.js';

export const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const STEP = 15;                 // minutes a drag snaps to
const DAY = 24 * 60;

const toMin = (s) => { const [hh, mm] = s.split(':').map(Number); return hh * 60 + mm; };
const toHHMM = (m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
export const dayLabel = (d) => label('day.' + d, d);

// periods of a day with [s, e) joined when they overlap or touch
export function merge(periods) {
  const p = periods.map((x) => [toMin(x.start), toMin(x.end)]).sort((a, b) => a[0] - b[0]);
  const out = [];
  for (const [s, e] of p) {
    const last = out[out.length - 1];
    if (last && s <= last[1])
      last[1] = Math.max(last[1], e);
    else
      out.push([s, e]);
  }
  return out.map(([s, e]) => ({ start: toHHMM(s), end: toHHMM(e) }));
}

// a control of Form: value {monday: [{start, end}], ...}; onchange(value)
export function weekGrid(idBase, onchange) {
  let value = {};
  const err = h('span', { class: 'field-error', role: 'alert' });
  const rows = {};
  const grid = h('div', { class: 'week-grid', id: idBase });
  const hours = h('div', { class: 'wg-hours', 'aria-hidden': 'true' }, h('span'),
    h('div', { class: 'wg-scale' }, ...[0, 3, 6, 9, 12, 15, 18, 21, 24].map((x) => {
      const s = h('span', {}, String(x));
      s.style.left = `${(x / 24) * 100}%`;
      return s;
    })));
  grid.append(hours);
  let drag = null;

  const minuteAt = (track, clientX) => {
    const r = track.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (clientX - r.left) / r.width));
    return Math.round((f * DAY) / STEP) * STEP;
  };

  function draw() {
    for (const d of DAYS) {
      const track = rows[d];
      track.replaceChildren();
      for (const [i, p] of (value[d] || []).entries()) {
        const s = toMin(p.start), e = toMin(p.end);
        const b = h('button', { type: 'button', class: 'wg-period', dataset: { day: d, index: String(i) },
          title: t('sched.remove'), 'aria-label': `${dayLabel(d)} ${p.start}–${p.end}: ${t('sched.remove')}` });
        b.style.left = `${(s / DAY) * 100}%`;
        b.style.width = `${((e - s) / DAY) * 100}%`;
        b.addEventListener('mousedown', (ev) => ev.stopPropagation());
        b.addEventListener('click', () => {
          const list = [...value[d]];
          list.splice(i, 1);
          value = { ...value, [d]: list };
          draw();
          onchange(value);
        });
        track.append(b);
      }
    }
  }

  function add(d, s, e) {
    if (e <= s)
      return;
    const list = merge([...(value[d] || []), { start: toHHMM(s), end: toHHMM(e) }]);
    value = { ...value, [d]: list };
    draw();
    onchange(value);
  }

  for (const d of DAYS) {
    const track = h('div', { class: 'wg-track', dataset: { day: d } });
    rows[d] = track;
    track.addEventListener('mousedown', (ev) => {
      if (ev.button !== 0)
        return;
      ev.preventDefault();
      const m = minuteAt(track, ev.clientX);
      const draft = h('div', { class: 'wg-draft' });
      track.append(draft);
      drag = { d, track, from: m, to: m, draft };
      const place = () => {
        const s = Math.min(drag.from, drag.to), e = Math.max(drag.from, drag.to);
        draft.style.left = `${(s / DAY) * 100}%`;
        draft.style.width = `${((e - s) / DAY) * 100}%`;
      };
      place();
      const move = (mv) => { drag.to = minuteAt(track, mv.clientX); place(); };
      const up = (u) => {
        window.removeEventListener('mousemove', move);
        window.removeEventListener('mouseup', up);
        drag.to = minuteAt(track, u.clientX);
        const s = Math.min(drag.from, drag.to), e = Math.max(drag.from, drag.to);
        draft.remove();
        drag = null;
        add(d, s, e);
      };
      window.addEventListener('mousemove', move);
      window.addEventListener('mouseup', up);
    });
    grid.append(h('div', { class: 'wg-row' }, h('span', { class: 'wg-day' }, dayLabel(d)), track));
  }

  // by keyboard: a day, a start and an end
  const daySel = h('select', { id: idBase + '-day' }, ...DAYS.map((d) => h('option', { value: d }, dayLabel(d))));
  const start = h('input', { type: 'time', id: idBase + '-start', value: '08:00', step: 60 });
  const end = h('input', { type: 'time', id: idBase + '-end', value: '17:00', step: 60 });
  const addBtn = h('button', { type: 'button', onclick: () => {
    const s = toMin(start.value || '00:00');
    const e = end.value === '00:00' || !end.value ? DAY : toMin(end.value);
    add(daySel.value, s, e);
  } }, t('sched.add'));
  const clearBtn = h('button', { type: 'button', onclick: () => {
    value = { ...value, [daySel.value]: [] };
    draw();
    onchange(value);
  } }, t('sched.clearDay'));
  const adder = h('div', { class: 'wg-add' },
    h('label', { for: daySel.id }, t('sched.day')), daySel,
    h('label', { for: start.id }, t('sched.start')), start,
    h('label', { for: end.id }, t('sched.end')), end, addBtn, clearBtn);

  const el = h('div', { class: 'week' }, h('p', { class: 'hint' }, t('sched.hint')), grid, adder, err);
  return {
    el,
    // a day left out is the schema's default: the whole day
    show(v) {
      value = {};
      for (const d of DAYS)
        value[d] = v?.[d] ?? [{ start: '00:00', end: '24:00' }];
      draw();
    },
    setError(msg) { err.textContent = msg || ''; el.classList.toggle('invalid', !!msg); },
    focus() { daySel.focus(); },
    validate() {
      const over = DAYS.find((d) => (value[d] || []).length > 8);
      return over ? t('sched.tooMany', { day: dayLabel(over) }) : '';
    },
    get value() { return value; },
  };
}
