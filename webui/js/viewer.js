// The radiometric picture viewer (manual 8.3, issue 16 item 3): an R-JPEG
// downloaded from the device, parsed here (flir.js), the temperature under the
// cursor read from the file's own counts and Planck constants, and point,
// line, rectangle and polygon tools as on the live view (the rule layer of
// rules.js, kept in the page: nothing is sent to the device), each with its
// max, min and average, and the whole picture's.
import { t, applyI18n } from './i18n.js';
import { h } from './ui.js';
import { RuleLayer } from './rules.js';
import { formatTemp } from './thermal.js';
import { readRadiometric, withParams } from './flir.js';
import { rasterize, stats } from './raster.js';
import { materialPicker } from './settings-time.js';

// the rule layer with its rules in the page only
class LocalRuleLayer extends RuleLayer {
  async load() {
    this.render();
    this.cb.changed(this.rules);
  }

  async create(type, points) {
    const id = this.rules.length ? Math.max(...this.rules.map((r) => r.id)) + 1 : 1;
    const name = t('viewer.shape.' + (type === 'polygon' && points.length === 4 && this.tool === 'rect' ? 'rect' : type), { n: id });
    this.rules.push({ id, name, type, points, enabled: true });
    this.cb.changed(this.rules);
    this.select(id);
  }

  async update(id, patch) {
    const rule = this.rules.find((r) => r.id === id);
    if (rule)
      Object.assign(rule, patch);
    this.cb.changed(this.rules);
    this.render();
    return rule;
  }

  async remove(id) {
    this.rules = this.rules.filter((r) => r.id !== id);
    this.readings.delete(id);
    if (this.selected === id)
      this.select(null);
    this.cb.changed(this.rules);
    this.render();
  }
}

// shows the viewer of @bytes (the file @name) in @host; returns its cleanup
export function renderViewer(host, { name, bytes, unit = 'celsius', back }) {
  const u = () => unit;
  let img;
  const root = h('section', { class: 'fv', 'aria-label': t('viewer.title') });
  host.replaceChildren(root);
  const head = h('div', { class: 'fv-head' },
    h('button', { type: 'button', id: 'fv-back', onclick: back }, '← ' + t('viewer.back')),
    h('h2', { class: 'fv-name' }, name));
  root.append(head);
  try {
    img = readRadiometric(bytes);
  } catch (e) {
    root.append(h('p', { class: 'error', id: 'fv-error', role: 'alert' },
      t(e.code === 'not_radiometric' ? 'viewer.notRadiometric' : 'viewer.unreadable', { why: e.message })));
    const url = URL.createObjectURL(new Blob([bytes], { type: /\.bmp$/i.test(name) ? 'image/bmp' : 'image/jpeg' }));
    root.append(h('img', { class: 'fv-plain', src: url, alt: name }));
    return () => URL.revokeObjectURL(url);
  }
  const W = img.width, H = img.height;
  let C = img.celsius, whole = stats(C, W, H, C.keys());
  const url = URL.createObjectURL(new Blob([bytes], { type: 'image/jpeg' }));

  const tools = h('div', { class: 'tools', id: 'fv-tools', role: 'toolbar', 'aria-label': t('viewer.tools') });
  for (const tool of ['point', 'line', 'rect', 'polygon'])
    tools.append(h('button', { type: 'button', 'data-tool': tool, 'aria-pressed': 'false', 'data-i18n': 'rules.' + tool }));
  tools.append(h('button', { type: 'button', id: 'fv-clear', 'data-i18n': 'viewer.clear' }));
  const hint = h('p', { class: 'hint', id: 'fv-hint' });
  const pic = h('div', { class: 'fv-pic', id: 'fv-pic', tabindex: '0', 'aria-label': t('viewer.keys') },
    h('img', { src: url, alt: name, draggable: 'false' }));
  pic.style.aspectRatio = `${W} / ${H}`;
  const overlay = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  overlay.setAttribute('class', 'overlay');
  overlay.id = 'fv-overlay';
  const cursor = h('div', { class: 'cursor-temp', id: 'fv-cursor', hidden: true });
  const markMax = h('span', { class: 'mark max', id: 'fv-max' }), markMin = h('span', { class: 'mark min', id: 'fv-min' });
  pic.append(h('div', { class: 'marks' }, markMax, markMin), overlay, cursor);
  const readout = h('p', { class: 'fv-readout', id: 'fv-readout', 'aria-live': 'polite' }, t('viewer.pointHint'));
  const list = h('table', { class: 'fv-table', id: 'fv-table' });
  // the object parameters: the file's, or others (as thermocam measure
  // --emissivity --distance --reflected)
  const num = (id, key, v, min, max, step) => h('label', { class: 'field' }, h('span', {}, t(key)),
    h('input', { type: 'number', id, value: v, min, max, step, required: true }));
  const params = h('form', { class: 'fv-params', id: 'fv-params', novalidate: true },
    h('h3', {}, t('viewer.params')),
    num('fv-emissivity', 'viewer.emissivity', +img.params.emissivity.toFixed(3), 0.01, 1, 'any'),
    materialPicker(null, null, 'fv-emissivity'),
    num('fv-distance', 'viewer.distanceM', +img.params.distance.toFixed(2), 0, 100000, 'any'),
    num('fv-reflected', 'viewer.reflectedC', +img.params.reflected.toFixed(2), -273, 2000, 'any'),
    h('p', { class: 'error', id: 'fv-params-error', role: 'alert' }),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', id: 'fv-apply' }, t('viewer.apply')),
      h('button', { type: 'button', id: 'fv-reset' }, t('viewer.fileParams'))));
  const info = h('dl', { class: 'fv-info' },
    h('dt', {}, t('viewer.size')), h('dd', {}, `${W} × ${H}`),
    h('dt', {}, t('viewer.camera')), h('dd', {}, [img.model, img.serial].filter(Boolean).join(' ') || '--'),
    h('dt', {}, t('viewer.range')), h('dd', {}, `${formatTemp(img.cal.rangeMin, unit, 0)} … ${formatTemp(img.cal.rangeMax, unit, 0)}`));
  const main = h('div', { class: 'fv-main' }, pic, readout);
  main.style.maxWidth = `calc((100vh - 170px) * ${(W / H).toFixed(4)})`;
  root.append(h('div', { class: 'fv-body' }, main,
    h('aside', { class: 'fv-side' }, tools, hint, list, params, info)));
  applyI18n(root);

  const place = (el, at, text, c) => {
    el.style.left = at[0] * 100 + '%';
    el.style.top = at[1] * 100 + '%';
    el.classList.toggle('at-left', at[0] < 0.08);
    el.classList.toggle('at-right', at[0] > 0.92);
    el.classList.toggle('at-top', at[1] < 0.06);
    el.textContent = text;
    el.dataset.celsius = c.toFixed(3);
  };
  function marks() {
    markMax.hidden = markMin.hidden = !whole.valid;
    if (whole.valid) {
      place(markMax, whole.max_at, '▲ ' + formatTemp(whole.max, unit), whole.max);
      place(markMin, whole.min_at, '▼ ' + formatTemp(whole.min, unit), whole.min);
    }
  }
  marks();

  const row = (id, label, r, del) => h('tr', { dataset: { id } },
    h('th', { scope: 'row' }, label),
    h('td', { class: 'num', dataset: { celsius: r.valid ? r.max.toFixed(3) : '' } }, r.valid ? formatTemp(r.max, unit) : '--'),
    h('td', { class: 'num' }, r.valid ? formatTemp(r.min, unit) : '--'),
    h('td', { class: 'num' }, r.valid ? formatTemp(r.avg, unit) : '--'),
    h('td', {}, del || ''));
  function renderTable() {
    const rows = [h('tr', {}, h('th', {}, ''), h('th', { scope: 'col' }, t('rules.max')), h('th', { scope: 'col' }, t('rules.min')),
      h('th', { scope: 'col' }, t('rules.avg')), h('th', {}, ''))];
    rows.push(row('whole', t('viewer.whole'), whole));
    for (const rule of layer.rules) {
      const r = vals.get(rule.id) || { valid: false };
      rows.push(row(String(rule.id), rule.name, r, h('button', {
        type: 'button', class: 'del', 'aria-label': t('viewer.remove', { name: rule.name }), onclick: () => layer.remove(rule.id),
      }, '×')));
    }
    list.replaceChildren(...rows);
  }

  // the readings of the shapes (the table has them; the labels on the
  // picture keep to the names)
  const vals = new Map();
  const layer = new LocalRuleLayer(pic, overlay, {
    select: () => {},
    changed: (rules) => {
      for (const rule of rules) {
        const s = stats(C, W, H, rasterize(rule.type, rule.points, W, H));
        vals.set(rule.id, s);
      }
      renderTable();
      layer.render();
    },
    error: () => {},
    unit: u,
  });
  function setTool(tool) {
    const now = layer.setTool(tool);
    for (const b of tools.querySelectorAll('[data-tool]'))
      b.setAttribute('aria-pressed', b.dataset.tool === now);
    hint.textContent = now ? t('rules.hint.' + now) : '';
  }
  for (const b of tools.querySelectorAll('[data-tool]'))
    b.addEventListener('click', () => setTool(b.dataset.tool));
  tools.querySelector('#fv-clear').addEventListener('click', () => {
    layer.rules = [];
    vals.clear();
    layer.select(null);
    layer.cb.changed(layer.rules);
  });
  layer.load();

  // the temperature at a pixel, from the file's counts: under the pointer,
  // or at the probe the arrow keys move (the picture has the focus)
  let at = null;
  function probe(x, y, px, py) {
    const r = pic.getBoundingClientRect();
    const c = C[y * W + x];
    at = [x, y];
    cursor.hidden = false;
    cursor.textContent = formatTemp(c, unit);
    cursor.style.left = Math.min(px + 14, r.width - 70) + 'px';
    cursor.style.top = Math.min(py + 14, r.height - 24) + 'px';
    Object.assign(cursor.dataset, { x, y, celsius: Number.isNaN(c) ? '' : c.toFixed(3) });
    readout.textContent = t('viewer.at', { x, y, temp: formatTemp(c, unit, 2) });
  }
  pic.addEventListener('pointermove', (ev) => {
    const r = pic.getBoundingClientRect();
    const fu = (ev.clientX - r.left) / r.width, fv = (ev.clientY - r.top) / r.height;
    if (fu < 0 || fv < 0 || fu >= 1 || fv >= 1) {
      cursor.hidden = true;
      return;
    }
    probe(Math.floor(fu * W), Math.floor(fv * H), ev.clientX - r.left, ev.clientY - r.top);
  });
  pic.addEventListener('pointerleave', () => { cursor.hidden = true; });
  const MOVES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  pic.addEventListener('keydown', (ev) => {
    const m = MOVES[ev.key];
    if (!m)
      return;
    ev.preventDefault();
    const k = ev.shiftKey ? 10 : 1;
    const [x0, y0] = at || [W >> 1, H >> 1];
    const x = Math.min(W - 1, Math.max(0, x0 + (at ? m[0] * k : 0))), y = Math.min(H - 1, Math.max(0, y0 + (at ? m[1] * k : 0)));
    const r = pic.getBoundingClientRect();
    probe(x, y, (x + 0.5) / W * r.width, (y + 0.5) / H * r.height);
  });

  // other object parameters: every number again
  const input = (id) => params.querySelector('#' + id);
  const perr = params.querySelector('#fv-params-error');
  function remeasure(p) {
    C = withParams(img, p).celsius;
    whole = stats(C, W, H, C.keys());
    marks();
    layer.cb.changed(layer.rules);
    if (at && !cursor.hidden)
      probe(at[0], at[1], parseFloat(cursor.style.left) - 14, parseFloat(cursor.style.top) - 14);
  }
  params.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const e = input('fv-emissivity'), d = input('fv-distance'), rf = input('fv-reflected');
    const bad = [e, d, rf].find((el) => el.value === '' || !el.checkValidity());
    if (bad) {
      perr.textContent = t('viewer.badParam', { name: bad.closest('label').firstChild.textContent, min: bad.min, max: bad.max });
      bad.focus();
      return;
    }
    perr.textContent = '';
    remeasure({ ...img.params, emissivity: Number(e.value), distance: Number(d.value), reflected: Number(rf.value) });
  });
  params.querySelector('#fv-reset').addEventListener('click', () => {
    input('fv-emissivity').value = +img.params.emissivity.toFixed(3);
    input('fv-distance').value = +img.params.distance.toFixed(2);
    input('fv-reflected').value = +img.params.reflected.toFixed(2);
    perr.textContent = '';
    remeasure(img.params);
  });
  const relabel = () => renderTable();
  window.addEventListener('langchange', relabel);
  return () => {
    window.removeEventListener('langchange', relabel);
    layer.destroy();
    URL.revokeObjectURL(url);
  };
}
