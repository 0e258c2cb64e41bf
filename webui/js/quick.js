// Quick settings of the live view (manual 6.1.7): palette, palette range,
// DDE, brightness and contrast, from the configuration's image section and
// applied at once with PUT /api/v1/config/image.
import { api } from './api.js';
import { t } from './i18n.js';
import { h } from './ui.js';
import { PALETTES, tempToUnit, tempFromUnit, unitSymbol } from './thermal.js';

export class QuickSettings {
  constructor(root, cb) {
    this.root = root;
    this.cb = cb;                 // {error(e), changed(image), unit()}
    this.image = null;
    this.timer = 0;
    this.pending = {};
  }

  async load() {
    this.image = await api('GET', 'config/image');
    this.render();
    this.cb.changed(this.image);
  }

  // merges a patch and sends it (sliders: debounced)
  apply(patch, later = false) {
    const merge = (a, b) => {
      for (const [k, v] of Object.entries(b))
        a[k] = v && typeof v === 'object' && !Array.isArray(v) ? merge(a[k] || {}, v) : v;
      return a;
    };
    merge(this.pending, patch);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this._send(), later ? 250 : 0);
  }

  async _send() {
    const patch = this.pending;
    this.pending = {};
    try {
      await api('PUT', 'config/image', patch);
      this.image = await api('GET', 'config/image');
      this.cb.changed(this.image);
    } catch (e) {
      this.cb.error(e);
      this.load().catch(() => {});
    }
  }

  render() {
    const im = this.image;
    const slider = (name, value, min, max, patchOf) => {
      const out = h('output', {}, value);
      const input = h('input', { type: 'range', name, min, max, value,
        oninput: (ev) => { out.textContent = ev.target.value; this.apply(patchOf(Number(ev.target.value)), true); } });
      return h('label', { class: 'field' }, h('span', {}, t('quick.' + name)), input, out);
    };
    const manual = im.range?.mode === 'manual';
    // the palette's range in the display unit (the API speaks Celsius)
    const unit = this.cb.unit ? this.cb.unit() : 'celsius';
    const rangeLabel = (k) => t(k).replace('(°C)', `(${unitSymbol(unit)})`);
    const rangeNum = (k) => h('input', { type: 'number', name: 'range.' + k, step: 'any', value: tempToUnit(im.range?.[k], unit) ?? '',
      dataset: { unit }, disabled: !manual,
      onchange: (ev) => this.apply({ range: { [k]: tempFromUnit(Number(ev.target.value), unit) } }) });
    this.root.replaceChildren(
      h('label', { class: 'field' }, h('span', {}, t('quick.palette')),
        h('select', { name: 'palette', onchange: (ev) => this.apply({ palette: ev.target.value }) },
          ...PALETTES.map((p) => h('option', { value: p, selected: p === im.palette }, t('palette.' + p))))),
      h('label', { class: 'field' }, h('span', {}, t('quick.range')),
        h('select', { name: 'range.mode', onchange: (ev) => { this.apply({ range: { mode: ev.target.value } }); this.image.range.mode = ev.target.value; this.render(); } },
          h('option', { value: 'auto', selected: !manual }, t('quick.auto')),
          h('option', { value: 'manual', selected: manual }, t('quick.manual')))),
      h('label', { class: 'field' }, h('span', {}, rangeLabel('quick.rangeMin')), rangeNum('min')),
      h('label', { class: 'field' }, h('span', {}, rangeLabel('quick.rangeMax')), rangeNum('max')),
      h('label', { class: 'field' }, h('span', {}, t('quick.dde')),
        h('select', { name: 'dde.mode', onchange: (ev) => this.apply({ dde: { mode: ev.target.value } }) },
          h('option', { value: 'off', selected: im.dde?.mode !== 'normal' }, t('quick.off')),
          h('option', { value: 'normal', selected: im.dde?.mode === 'normal' }, t('quick.normal')))),
      slider('ddeLevel', im.dde?.level ?? 50, 1, 100, (v) => ({ dde: { level: v } })),
      slider('brightness', im.brightness ?? 50, 0, 100, (v) => ({ brightness: v })),
      slider('contrast', im.contrast ?? 50, 0, 100, (v) => ({ contrast: v })));
  }
}
