// The form engine of the settings pages: what a field is (type, limits,
// enum, default, help) comes from the configuration's JSON schema
// (GET /api/v1/schema/config), where it goes from a page's description.
// A form keeps the values as loaded and as edited, checks what the schema
// says before anything is sent, sends only what changed, and shows the
// server's refusal (error.field) at the field it names.
import { api } from './api.js';
import { t } from './i18n.js';
import { h } from './ui.js';

let schemaPromise = null;

export function loadSchema() {
  if (!schemaPromise)
    // application/schema+json: api() gives a Blob of it
    schemaPromise = api('GET', 'schema/config')
      .then(async (r) => (r instanceof Blob ? JSON.parse(await r.text()) : r))
      .catch((e) => { schemaPromise = null; throw e; });
  return schemaPromise;
}

// a label from the catalog, or @fallback when the catalog has none
export function label(key, fallback) {
  const s = t(key);
  return s === key ? fallback : s;
}

const human = (name) => name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

export function fieldLabel(name) { return label('f.' + name, human(name)); }
export function valueLabel(v) { return label('v.' + v, String(v)); }

// a schema node with its $ref resolved (the referring node's own members win)
export function resolve(root, node) {
  let n = node || {};
  while (n.$ref) {
    const def = root.$defs[n.$ref.replace('#/$defs/', '')];
    const { $ref, ...own } = n;
    n = { ...def, ...own };
  }
  return n;
}

// the schema of @path (['a', 'b', 0, 'c']) inside @node
export function schemaAt(root, node, path) {
  let n = resolve(root, node);
  for (const k of path) {
    if (typeof k === 'number')
      n = resolve(root, n.items || (n.prefixItems || [])[k]);
    else
      n = resolve(root, (n.properties || {})[k]);
  }
  return n;
}

export function getAt(obj, path) {
  let o = obj;
  for (const k of path) {
    if (o === undefined || o === null)
      return undefined;
    o = o[k];
  }
  return o;
}

export function setAt(obj, path, v) {
  let o = obj;
  path.slice(0, -1).forEach((k, i) => {
    if (o[k] === undefined || o[k] === null)
      o[k] = typeof path[i + 1] === 'number' ? [] : {};
    o = o[k];
  });
  o[path[path.length - 1]] = v;
}

// 'ports', ['inputs', 0, 'name'] -> 'ports.inputs[0].name' (the server's error.field)
export function pathName(prefix, path) {
  let s = prefix;
  for (const k of path)
    s += typeof k === 'number' ? `[${k}]` : (s ? '.' : '') + k;
  return s;
}

export const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// what changed between @a and @b: objects member by member, arrays and
// scalars whole; undefined when nothing did
export function diff(a, b) {
  if (b && typeof b === 'object' && !Array.isArray(b) && a && typeof a === 'object' && !Array.isArray(a)) {
    const out = {};
    for (const k of Object.keys(b)) {
      const d = diff(a[k], b[k]);
      if (d !== undefined)
        out[k] = d;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return same(a, b) ? undefined : b;
}

// what the schema says about @v: '' when it is fine, else the reason
export function check(s, v) {
  const types = [].concat(s.type || []);
  if (v === undefined)
    return '';                  // not set: the device's default
  if (v === null)
    return types.includes('null') ? '' : t('form.required');
  if (s.enum && !s.enum.some((e) => same(e, v)))
    return t('form.oneOf', { values: s.enum.join(', ') });
  if (typeof v === 'number') {
    if (Number.isNaN(v))
      return t('form.number');
    if (types.includes('integer') && !Number.isInteger(v))
      return t('form.integer');
    if (s.minimum !== undefined && v < s.minimum)
      return t('form.min', { min: s.minimum });
    if (s.maximum !== undefined && v > s.maximum)
      return t('form.max', { max: s.maximum });
  }
  if (typeof v === 'string') {
    if (s.minLength !== undefined && v.length < s.minLength)
      return s.minLength === 1 ? t('form.required') : t('form.minLength', { n: s.minLength });
    if (s.maxLength !== undefined && v.length > s.maxLength)
      return t('form.maxLength', { n: s.maxLength });
    if (s.pattern && !new RegExp(s.pattern).test(v))
      return t('form.pattern');
  }
  if (Array.isArray(v)) {
    if (s.maxItems !== undefined && v.length > s.maxItems)
      return t('form.maxItems', { n: s.maxItems });
    if (s.minItems !== undefined && v.length < s.minItems)
      return t('form.minItems', { n: s.minItems });
  }
  return '';
}

let uid = 0;
const nextId = () => `f${++uid}`;

// One form: @o.section (its name, the error.field prefix), @o.schema (the
// root schema), @o.node (the schema of the edited value), @o.load() -> value,
// @o.save(patch, value) -> the value as saved; @o.status: where the state is told
export class Form {
  constructor(o) {
    Object.assign(this, o);
    this.controls = [];
    this.orig = undefined;
    this.cur = undefined;
    this.listeners = [];
    this.resetFns = [];
    this.created = [];
  }

  // a member the device left out is its default (the schema's), in what was
  // loaded as in what is edited; an object left out whole (a rule's alarm)
  // is remembered, to be sent whole when one of its members changes
  fillDefaults() {
    for (const c of this.controls)
      this.fillOne(c);
  }

  fillOne(c) {
    if (getAt(this.cur, c.path) !== undefined || c.schema.default === undefined)
      return;
    const def = c.schema.default;
    // a row of a list that is not saved yet: only what is edited
    const newRow = c.path.some((k, i) => typeof k === 'number' && getAt(this.orig, c.path.slice(0, i + 1)) === undefined);
    if (!newRow) {
      for (let i = 1; i < c.path.length; i++) {
        const prefix = c.path.slice(0, i);
        if (getAt(this.orig, prefix) === undefined) {
          if (!this.created.some((p) => same(p, prefix)))
            this.created.push(prefix);
          break;
        }
      }
      setAt(this.orig, c.path, clone(def));
    }
    setAt(this.cur, c.path, clone(def));
  }

  patch() {
    const patch = diff(this.orig, this.cur);
    for (const p of this.created)
      if (patch !== undefined && getAt(patch, p) !== undefined)
        setAt(patch, p, clone(getAt(this.cur, p)));
    return patch;
  }

  // every control shows the current value again (lists first redraw their rows)
  refresh() {
    this.created = [];
    for (const fn of this.resetFns)
      fn();
    this.fillDefaults();
    for (const c of this.controls) {
      c.show(getAt(this.cur, c.path));
      c.setError('');
    }
  }

  onReset(fn) { this.resetFns.push(fn); }

  // forgets the controls under @path (a list redrawn)
  drop(path) {
    this.controls = this.controls.filter((c) => !same(c.path.slice(0, path.length), path));
  }

  async reload() {
    this.orig = await this.load();
    this.cur = clone(this.orig);
    this.refresh();
    this.setState('saved');
  }

  get dirty() { return diff(this.orig, this.cur) !== undefined; }

  onChange(fn) { this.listeners.push(fn); }

  set(path, v) {
    setAt(this.cur, path, v);
    for (const c of this.controls)
      if (same(c.path, path))
        c.setError('');
    this.setState(this.dirty ? 'unsaved' : 'saved');
    for (const fn of this.listeners)
      fn(path, v);
  }

  setState(state, text) {
    this.state = state;
    if (this.status) {
      this.status.dataset.state = state;
      this.status.textContent = text || t('form.' + state);
    }
    if (this.saveButton)
      this.saveButton.disabled = state === 'saving' || (state === 'saved');
    if (this.revertButton)
      this.revertButton.disabled = state === 'saving' || state === 'saved';
  }

  // the control showing @field (the server's name of it), the deepest that holds it
  controlFor(field) {
    let best = null;
    for (const c of this.controls) {
      const name = pathName(this.section, c.path);
      if ((field === name || field.startsWith(name + '.') || field.startsWith(name + '['))
          && (!best || name.length > pathName(this.section, best.path).length))
        best = c;
    }
    return best;
  }

  // checks every control; true when all are fine
  validate() {
    let first = null;
    for (const c of this.controls) {
      const msg = c.validate ? c.validate() : check(c.schema, getAt(this.cur, c.path));
      c.setError(msg);
      if (msg && !first)
        first = c;
    }
    if (first) {
      first.focus();
      this.setState('failed', t('form.invalid'));
      return false;
    }
    return true;
  }

  async submit() {
    if (!this.validate())
      return false;
    const patch = this.patch();
    if (patch === undefined) {
      this.setState('saved');
      return true;
    }
    this.setState('saving');
    try {
      const saved = await this.save(patch, this.cur);
      this.orig = saved !== undefined && saved !== null ? saved : clone(this.cur);
      this.cur = clone(this.orig);
      this.refresh();
      this.setState('saved');
      return true;
    } catch (e) {
      const c = e.field ? this.controlFor(e.field) : null;
      if (c) {
        c.setError(e.message);
        c.focus();
      }
      this.setState('failed', c ? t('form.refused') : `${t('form.failed')}: ${e.message}`);
      return false;
    }
  }

  revert() {
    this.cur = clone(this.orig);
    this.refresh();
    this.setState('saved');
  }

  // a custom control: @c {path, schema, show(v), setError(msg), focus(), validate?()}
  add(c) {
    this.controls.push(c);
    if (this.cur !== undefined)
      this.fillOne(c);
    return c;
  }

  // the field of @path: label, control, help and the place of its error
  field(path, opts = {}) {
    const s = opts.schema || schemaAt(this.schema, this.node, path);
    const name = path.filter((k) => typeof k === 'string').pop();
    // 'f.security.authentication.rtsp' where a name says something else elsewhere, else 'f.rtsp'
    const text = opts.label || label(['f', this.section, ...path.filter((k) => typeof k === 'string')].filter((k) => k).join('.'), fieldLabel(name));
    const id = nextId();
    const err = h('span', { class: 'field-error', id: id + '-err', role: 'alert' });
    // the schema's description, or the catalog's words for it (h.section.member)
    const helpText = label(['h', this.section, ...path.filter((k) => typeof k === 'string')].filter((k) => k).join('.'), s.description || '');
    const help = helpText ? h('span', { class: 'field-help', id: id + '-help' }, helpText) : null;
    const types = [].concat(s.type || []);
    let input, read, show;
    const attrs = { id, name: pathName(this.section, path), 'aria-describedby': `${id}-err${help ? ' ' + id + '-help' : ''}` };
    if (types.includes('boolean')) {
      input = h('input', { type: 'checkbox', ...attrs });
      read = () => input.checked;
      show = (v) => { input.checked = v === undefined ? !!s.default : !!v; };
    } else if (s.enum) {
      input = h('select', attrs, ...s.enum.map((v) => h('option', { value: JSON.stringify(v) }, opts.values?.[v] || valueLabel(v))));
      read = () => JSON.parse(input.value);
      show = (v) => { input.value = JSON.stringify(v ?? s.default ?? s.enum[0]); };
    } else if (types.includes('integer') || types.includes('number')) {
      input = h('input', { type: 'number', inputmode: 'decimal', min: s.minimum, max: s.maximum,
        step: types.includes('integer') ? 1 : 'any', placeholder: types.includes('null') ? t('form.unset') : null, ...attrs });
      read = () => {
        if (input.value === '')
          return types.includes('null') ? null : (input.validity.badInput ? NaN : null);
        return Number(input.value);
      };
      show = (v) => { input.value = v === null || v === undefined ? String(s.default ?? '') : String(v); };
    } else if (s.uniqueItems && resolve(this.schema, s.items).type === 'integer') {
      // a set of small numbers (linkage.alarm_outputs): a box each
      const item = resolve(this.schema, s.items);
      const boxes = [];
      input = h('span', { class: 'checks', role: 'group', id, name: attrs.name, 'aria-labelledby': id + '-label' });
      for (let n = item.minimum; n <= item.maximum; n++) {
        const b = h('input', { type: 'checkbox', id: `${id}-${n}`, value: String(n) });
        b.addEventListener('change', () => this.set(path, read()));
        boxes.push(b);
        input.append(h('label', { class: 'check-one', for: b.id }, b, ' ' + n));
      }
      read = () => boxes.filter((b) => b.checked).map((b) => Number(b.value));
      show = (v) => { for (const b of boxes) b.checked = (v || []).includes(Number(b.value)); };
      input.focus = () => boxes[0].focus();
    } else if (types.includes('array') || s.items) {
      // a list of strings, one a line
      const item = resolve(this.schema, s.items);
      input = h('textarea', { rows: opts.rows || 4, ...attrs });
      read = () => input.value.split('\n').map((l) => l.trim()).filter((l) => l);
      show = (v) => { input.value = (v || []).join('\n'); };
      opts.validate = () => {
        const v = read();
        return check(s, v) || v.map((x) => check(item, x) && `${x}: ${check(item, x)}`).find((m) => m) || '';
      };
    } else if (s.pattern === '^#[0-9a-fA-F]{6}$') {
      input = h('input', { type: 'color', ...attrs });
      read = () => input.value;
      show = (v) => { input.value = v || s.default || '#000000'; };
    } else {
      const secret = opts.secret || /password|^key$|^token$/.test(name);
      if ((s.maxLength || 0) > 1024) {
        // a long text of several lines (a certificate or key in PEM), that
        // an <input> would join into one line
        input = h('textarea', { rows: opts.rows || 4, class: 'pem', spellcheck: 'false',
          placeholder: secret ? t('form.keepSecret') : null, ...attrs });
      } else {
        // a password is write-only: the device never shows it, empty keeps it
        input = h('input', { type: secret ? 'password' : 'text', autocomplete: secret ? 'new-password' : 'off',
          spellcheck: 'false', placeholder: secret ? t('form.keepSecret') : null, ...attrs });
      }
      read = () => input.value;
      show = (v) => { input.value = v ?? s.default ?? ''; };
    }
    if (input.tagName !== 'SPAN')
      input.addEventListener(input.tagName === 'SELECT' || input.type === 'checkbox' ? 'change' : 'input', () => {
      this.set(path, read());
    });
    const wrap = h('div', { class: 'form-field' + (input.type === 'checkbox' ? ' check' : '') },
      input.tagName === 'SPAN' ? h('span', { class: 'label', id: id + '-label' }, text) : h('label', { for: id }, text),
      input,
      s.minimum !== undefined && s.maximum !== undefined && input.type === 'number'
        ? h('span', { class: 'field-range' }, `${s.minimum} – ${s.maximum}`) : null,
      err, help);
    this.add({
      path, schema: s, el: wrap, input,
      show,
      validate: opts.validate || (() => check(s, read())),
      setError(msg) {
        err.textContent = msg || '';
        wrap.classList.toggle('invalid', !!msg);
        input.setAttribute('aria-invalid', msg ? 'true' : 'false');
      },
      focus() { input.focus(); },
    });
    if (this.cur !== undefined)
      show(getAt(this.cur, path));
    return wrap;
  }

  // the Save and Revert buttons and the state, for the end of the page
  bar() {
    this.status = h('span', { class: 'form-state', role: 'status', 'aria-live': 'polite' });
    this.saveButton = h('button', { type: 'submit', class: 'primary' }, t('form.save'));
    this.revertButton = h('button', { type: 'button', onclick: () => this.revert() }, t('form.revert'));
    this.setState(this.state || 'saved');
    return h('div', { class: 'form-bar' }, this.saveButton, this.revertButton, this.status);
  }
}

// every form of a page that has unsaved changes
const openForms = new Set();
export function track(form) { openForms.add(form); return () => openForms.delete(form); }
export function anyDirty() { return [...openForms].some((f) => f.dirty); }
export function untrackAll() { openForms.clear(); }
