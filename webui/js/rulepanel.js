// The side panel of the rules: the list (enable, select, delete, the live
// readings), the editor of one rule (name, emissivity, distance, reflected
// temperature, the alarm of manual 3.3.1) and the area comparisons (3.3).
import { api } from './api.js';
import { t } from './i18n.js';
import { h, keyedList } from './ui.js';
import { formatDelta, ruleReadings, unitSymbol, tempToUnit, tempFromUnit, deltaToUnit, deltaFromUnit,
  distToUnit, distFromUnit, distSymbol } from './thermal.js';
import { materialPicker } from './settings-time.js';

const num = (v) => (v === '' || v === null || v === undefined ? null : Number(v));

// the emissivity with the materials of manual 11.1 to pick from
function emissivityField(value) {
  const input = number('emissivity', value, { min: 0.01, max: 1, placeholder: t('rules.global') });
  input.id = 'rule-emissivity';
  return h('div', { class: 'field-with-extra' }, field(t('rules.emissivity'), input), materialPicker(input));
}

// a label's unit "(°C)" or "(m)" as the page shows it
const inUnit = (label, sym) => label.replace(/\((°C|m)\)/, `(${sym})`);

function field(label, input) {
  return h('label', { class: 'field' }, h('span', {}, label), input);
}

function select(name, value, options) {
  return h('select', { name }, ...options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

function number(name, value, attrs = {}) {
  return h('input', { name, type: 'number', value: value ?? '', step: 'any', ...attrs });
}

// the alarm fields of a rule or a comparison (config.schema.json $defs/alarm),
// in the display unit (@delta: a comparison's thresholds are differences)
function alarmFields(a = {}, unit = 'celsius', delta = false) {
  const sym = unitSymbol(unit);
  const thr = (v) => (delta ? deltaToUnit(v, unit) : tempToUnit(v, unit));
  return [
    field(t('alarm.enabled'), h('input', { name: 'alarm.enabled', type: 'checkbox', checked: !!a.enabled })),
    field(t('alarm.on'), select('alarm.on', a.on || 'max', [['max', t('rules.max')], ['min', t('rules.min')], ['avg', t('rules.avg')]])),
    field(t('alarm.condition'), select('alarm.condition', a.condition || 'above', [['above', t('alarm.above')], ['below', t('alarm.below')]])),
    field(inUnit(t('alarm.preAlarm'), sym), number('alarm.pre_alarm', thr(a.pre_alarm ?? 50), { dataset: { unit } })),
    field(inUnit(t('alarm.alarm'), sym), number('alarm.alarm', thr(a.alarm ?? 55), { dataset: { unit } })),
    field(inUnit(t('alarm.tolerance'), sym), number('alarm.tolerance', deltaToUnit(a.tolerance ?? 3, unit), { min: 0, dataset: { unit } })),
    field(t('alarm.filterTime'), number('alarm.filter_time', a.filter_time ?? 0, { min: 0, max: 3600, step: 1 })),
  ];
}

function readAlarm(form, unit = 'celsius', delta = false) {
  const v = (n) => form.elements[n];
  const thr = (x) => (delta ? deltaFromUnit(x, unit) : tempFromUnit(x, unit));
  return {
    enabled: v('alarm.enabled').checked,
    on: v('alarm.on').value,
    condition: v('alarm.condition').value,
    pre_alarm: thr(num(v('alarm.pre_alarm').value)),
    alarm: thr(num(v('alarm.alarm').value)),
    tolerance: deltaFromUnit(num(v('alarm.tolerance').value), unit),
    filter_time: Math.round(num(v('alarm.filter_time').value) || 0),
  };
}

export class RulePanel {
  constructor(root, layer, cb) {
    this.list = root.querySelector('#rule-list');
    this.editor = root.querySelector('#rule-editor');
    this.comp = root.querySelector('#comparisons');
    this.layer = layer;
    this.cb = cb;                     // {error(e), info(text), unit(), display()}
    this.comparisons = [];
    this.compReadings = new Map();
  }

  async loadComparisons() {
    this.comparisons = await api('GET', 'config/comparisons');
    this.renderComparisons();
  }

  renderList() {
    const unit = this.cb.unit();
    const d = this.cb.display();
    keyedList(this.list, this.layer.rules, (r) => r.id, (r) => h('li', {},
      h('input', { type: 'checkbox', title: t('rules.enabled'),
        onchange: (ev) => this.layer.update(r.id, { enabled: ev.target.checked }) }),
      h('button', { type: 'button', class: 'link', onclick: () => this.layer.select(r.id) }),
      h('span', { class: 'vals' }),
      h('button', { type: 'button', class: 'del', onclick: () => this.layer.remove(r.id) }, '×')),
    (li, r) => {
      const reading = this.layer.readings.get(r.id);
      const state = r.enabled === false ? 'disabled' : this.layer.states.get(r.id) || 'normal';
      li.className = `${state}${r.id === this.layer.selected ? ' selected' : ''}`;
      li.dataset.rule = r.id;
      li.dataset.state = state;
      const [box, link, vals, del] = li.children;
      box.checked = r.enabled !== false;
      box.title = t('rules.enabled');
      link.textContent = `${r.id}. ${r.name}`;
      // "display temperature info" off: no readings on the live view
      const v = reading && reading.valid && d.temperature_info ? ruleReadings(reading, unit, d.temperature_range) : null;
      vals.hidden = !d.temperature_info;
      vals.classList.toggle('out-of-range', !!(v && (reading.below_range || reading.above_range)));
      vals.textContent = v ? (r.type === 'point' ? v.max : `${v.max} / ${v.min} / ${v.avg}`) : '--';
      del.title = t('rules.delete');
      del.setAttribute('aria-label', del.title);
    });
  }

  edit(rule) {
    this.renderList();
    if (!rule) {
      this.editor.hidden = true;
      this.editor.replaceChildren();
      return;
    }
    const unit = this.cb.unit(), du = this.cb.display().distance_unit;
    const form = h('form', { class: 'rule-form', dataset: { rule: rule.id } },
      h('h3', {}, t('rules.edit', { id: rule.id })),
      field(t('rules.name'), h('input', { name: 'name', value: rule.name, maxlength: 32, required: true })),
      field(t('rules.enabled'), h('input', { name: 'enabled', type: 'checkbox', checked: rule.enabled !== false })),
      emissivityField(rule.emissivity),
      field(inUnit(t('rules.distance'), distSymbol(du)), number('distance', distToUnit(rule.distance, du),
        { min: 0, max: distToUnit(10000, du), placeholder: t('rules.global'), dataset: { unit: du } })),
      field(inUnit(t('rules.reflected'), unitSymbol(unit)), number('reflected_temperature', tempToUnit(rule.reflected_temperature, unit),
        { placeholder: t('rules.global'), dataset: { unit } })),
      h('h4', {}, t('alarm.title')),
      ...alarmFields(rule.alarm, unit),
      h('div', { class: 'buttons' },
        h('button', { type: 'submit' }, t('common.save')),
        h('button', { type: 'button', onclick: () => this.layer.select(null) }, t('common.close'))));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = form.elements;
      const patch = {
        name: f.name.value.trim(),
        enabled: f.enabled.checked,
        emissivity: num(f.emissivity.value),
        distance: distFromUnit(num(f.distance.value), du),
        reflected_temperature: tempFromUnit(num(f.reflected_temperature.value), unit),
        alarm: readAlarm(form, unit),
      };
      if (await this.layer.update(rule.id, patch))
        this.cb.info(t('common.saved'));
    });
    this.editor.replaceChildren(form);
    this.editor.hidden = false;
  }

  setReading(reading) {
    for (const c of reading.comparisons || [])
      this.compReadings.set(c.id, c);
    this.renderList();
    this.renderComparisons(false);
  }

  // the list, and (withForm) the form of a new comparison
  renderComparisons(withForm = true) {
    const rules = this.layer.rules;
    const unit = this.cb.unit();
    const ruleName = (id) => rules.find((r) => r.id === id)?.name ?? '#' + id;
    this.compList ||= h('ul', { class: 'comp-list' });
    keyedList(this.compList, this.comparisons, (c) => c.id, (c) => h('li', {},
      h('span', { class: 'what' }),
      h('span', { class: 'vals' }),
      h('button', { type: 'button', class: 'del',
        onclick: () => this.saveComparisons(this.comparisons.filter((x) => x.id !== c.id)) }, '×')),
    (li, c) => {
      const r = this.compReadings.get(c.id);
      li.className = r?.state || 'normal';
      li.dataset.comparison = c.id;
      li.dataset.state = r?.state || 'normal';
      const [what, vals, del] = li.children;
      what.textContent = `${c.name}: ${ruleName(c.rules[0])} − ${ruleName(c.rules[1])} =`;
      vals.hidden = !this.cb.display().temperature_info;
      vals.textContent = r && r.valid ? formatDelta(r.value, unit) : '--';
      del.title = t('rules.delete');
      del.setAttribute('aria-label', del.title);
    });
    if (!withForm && this.comp.firstChild)
      return;
    const opts = rules.map((r) => [String(r.id), `${r.id}. ${r.name}`]);
    const form = h('form', { class: 'comp-form' },
      field(t('comp.name'), h('input', { name: 'name', maxlength: 32, value: t('comp.defaultName') })),
      field(t('comp.a'), select('a', opts[0]?.[0], opts)),
      field(t('comp.b'), select('b', opts[1]?.[0], opts)),
      ...alarmFields({ enabled: true, on: 'max', pre_alarm: 10, alarm: 15, tolerance: 1 }, unit, true),
      h('button', { type: 'submit', disabled: rules.length < 2 }, t('comp.add')));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const a = Number(form.elements.a.value), b = Number(form.elements.b.value);
      if (a === b)
        return this.cb.error(new Error(t('comp.same')));
      const id = this.comparisons.length ? Math.max(...this.comparisons.map((c) => c.id)) + 1 : 1;
      this.saveComparisons([...this.comparisons,
        { id, name: form.elements.name.value.trim() || t('comp.defaultName'), enabled: true, rules: [a, b], alarm: readAlarm(form, unit, true) }]);
    });
    this.comp.replaceChildren(h('h3', {}, t('comp.title')), this.compList,
      h('details', {}, h('summary', {}, t('comp.new')), form));
  }

  async saveComparisons(list) {
    try {
      await api('PUT', 'config/comparisons', list);
      await this.loadComparisons();
    } catch (e) {
      this.cb.error(e);
    }
  }
}
