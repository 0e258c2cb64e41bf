// The measurement rules drawn on the live picture (an SVG over the video):
// point, line, rectangle and polygon tools, dragging a vertex or the whole
// shape, each rule coloured by its alarm state with its readings beside it.
// The points are fractions 0..1 of the picture (config.schema.json
// $defs/point); every change goes through /api/v1/rules.
import { api } from './api.js';
import { t } from './i18n.js';
import { svg } from './ui.js';
import { ruleReadings } from './thermal.js';

const HANDLE = 5;       // px, the vertex handles
const ROUND = 1e5;      // stored to 5 decimals (a sensor pixel is 1/640)

const clamp01 = (x) => Math.min(1, Math.max(0, x));
const round = (x) => Math.round(clamp01(x) * ROUND) / ROUND;

export class RuleLayer {
  // host: the element whose box is the picture (its transform included)
  constructor(host, overlay, cb) {
    this.host = host;
    this.svg = overlay;
    this.cb = cb;                  // {select(rule|null), changed(rules), error(e), unit(), display() (optional)}
    this.rules = [];
    this.readings = new Map();     // id -> RuleReading
    this.states = new Map();       // id -> normal | pre_alarm | alarm
    this.selected = null;
    this.tool = '';
    this.draft = null;             // points being drawn
    this.drag = null;
    this.editable = true;
    this._wire();
  }

  async load() {
    this.rules = await api('GET', 'rules');
    this.render();
    this.cb.changed(this.rules);
  }

  setTool(tool) {
    this.tool = this.tool === tool ? '' : tool;
    this.draft = null;
    this.svg.classList.toggle('drawing', !!this.tool);
    this.render();
    return this.tool;
  }

  // picture fractions of a pointer event
  at(ev) {
    const r = this.host.getBoundingClientRect();
    return [clamp01((ev.clientX - r.left) / r.width), clamp01((ev.clientY - r.top) / r.height)];
  }

  setReading(reading) {
    for (const r of reading.rules || []) {
      this.readings.set(r.id, r);
      this.states.set(r.id, r.state);
    }
    this.render();
  }

  setState(id, state) {
    this.states.set(id, state);
    this.render();
  }

  select(id) {
    this.selected = id;
    this.render();
    this.cb.select(this.rules.find((r) => r.id === id) || null);
  }

  async create(type, points) {
    const n = this.rules.length ? Math.max(...this.rules.map((r) => r.id)) + 1 : 1;
    const body = { name: t('rules.defaultName', { n }), type, points: points.map(([u, v]) => [round(u), round(v)]) };
    try {
      const rule = await api('POST', 'rules', body);
      this.rules.push(rule);
      this.cb.changed(this.rules);
      this.select(rule.id);
    } catch (e) {
      this.cb.error(e);
    }
  }

  async update(id, patch) {
    try {
      const rule = await api('PUT', 'rules/' + id, patch);
      const i = this.rules.findIndex((r) => r.id === id);
      if (i >= 0)
        this.rules[i] = rule;
      this.cb.changed(this.rules);
      this.render();
      return rule;
    } catch (e) {
      this.cb.error(e);
      await this.load().catch(() => {});
      return null;
    }
  }

  async remove(id) {
    try {
      await api('DELETE', 'rules/' + id);
      this.rules = this.rules.filter((r) => r.id !== id);
      this.readings.delete(id);
      if (this.selected === id)
        this.select(null);
      this.cb.changed(this.rules);
      this.render();
    } catch (e) {
      this.cb.error(e);
    }
  }

  _wire() {
    const s = this.svg;
    s.addEventListener('pointerdown', (ev) => this._down(ev));
    s.addEventListener('pointermove', (ev) => this._move(ev));
    s.addEventListener('pointerup', (ev) => this._up(ev));
    s.addEventListener('dblclick', (ev) => { ev.preventDefault(); this._finishPolygon(); });
    s.addEventListener('contextmenu', (ev) => {
      if (this.tool === 'polygon') {
        ev.preventDefault();
        this._finishPolygon();
      }
    });
    this.keys = (ev) => {
      if (ev.key === 'Escape' && this.draft) {
        this.draft = null;
        this.render();
      } else if (ev.key === 'Enter') {
        this._finishPolygon();
      }
    };
    window.addEventListener('keydown', this.keys);
    this.ro = new ResizeObserver(() => this.render());
    this.ro.observe(this.host);
  }

  destroy() {
    window.removeEventListener('keydown', this.keys);
    this.ro.disconnect();
  }

  _down(ev) {
    if (ev.button !== 0 || !this.editable)
      return;
    const p = this.at(ev);
    if (this.tool === 'point') {
      this.create('point', [p]);
      return;
    }
    if (this.tool === 'line' || this.tool === 'rect') {
      this.draft = { type: this.tool, a: p, b: p };
      this.svg.setPointerCapture(ev.pointerId);
      return this.render();
    }
    if (this.tool === 'polygon') {
      if (!this.draft)
        this.draft = { type: 'polygon', points: [], hover: p };
      const pts = this.draft.points;
      if (pts.length >= 3 && this._near(pts[0], ev)) {
        this._finishPolygon();
        return;
      }
      // a double click's second press adds nothing
      if (pts.length < 16 && !(pts.length && this._near(pts[pts.length - 1], ev)))
        pts.push(p);
      return this.render();
    }
    // editing: a vertex handle, or a shape to move
    const el = ev.target.closest('[data-rule]');
    if (!el)
      return this.select(null);
    const id = Number(el.dataset.rule);
    const rule = this.rules.find((r) => r.id === id);
    if (!rule)
      return;
    this.select(id);
    this.drag = {
      id, start: p, orig: rule.points.map((q) => [...q]),
      vertex: el.dataset.vertex !== undefined ? Number(el.dataset.vertex) : -1, moved: false,
    };
    this.svg.setPointerCapture(ev.pointerId);
  }

  _move(ev) {
    const p = this.at(ev);
    this.cb.pointer?.(p);
    if (this.draft) {
      if (this.draft.type === 'polygon')
        this.draft.hover = p;
      else
        this.draft.b = p;
      return this.render();
    }
    const d = this.drag;
    if (!d)
      return;
    const rule = this.rules.find((r) => r.id === d.id);
    const du = p[0] - d.start[0], dv = p[1] - d.start[1];
    if (d.vertex >= 0) {
      rule.points = d.orig.map((q, i) => (i === d.vertex ? [clamp01(p[0]), clamp01(p[1])] : q));
    } else {
      // the whole shape, kept inside the picture
      const us = d.orig.map((q) => q[0]), vs = d.orig.map((q) => q[1]);
      const cu = Math.min(Math.max(du, -Math.min(...us)), 1 - Math.max(...us));
      const cv = Math.min(Math.max(dv, -Math.min(...vs)), 1 - Math.max(...vs));
      rule.points = d.orig.map((q) => [q[0] + cu, q[1] + cv]);
    }
    d.moved = true;
    this.render();
  }

  _up(ev) {
    if (this.draft && this.draft.type !== 'polygon') {
      const { type, a, b } = this.draft;
      this.draft = null;
      const small = Math.abs(a[0] - b[0]) < 0.005 && Math.abs(a[1] - b[1]) < 0.005;
      if (!small)
        this.create(type === 'line' ? 'line' : 'polygon', type === 'line' ? [a, b]
          : [[a[0], a[1]], [b[0], a[1]], [b[0], b[1]], [a[0], b[1]]]);
      return this.render();
    }
    const d = this.drag;
    this.drag = null;
    if (d && d.moved) {
      const rule = this.rules.find((r) => r.id === d.id);
      this.update(d.id, { points: rule.points.map(([u, v]) => [round(u), round(v)]) });
    }
  }

  _finishPolygon() {
    const d = this.draft;
    if (!d || d.type !== 'polygon' || d.points.length < 3)
      return;
    this.draft = null;
    this.create('polygon', d.points);
    this.render();
  }

  _near(q, ev) {
    const r = this.host.getBoundingClientRect();
    return Math.hypot(q[0] * r.width + r.left - ev.clientX, q[1] * r.height + r.top - ev.clientY) < HANDLE * 2;
  }

  render() {
    const w = this.host.clientWidth, hgt = this.host.clientHeight;
    if (!w || !hgt)
      return;
    this.svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
    const px = (q) => `${(q[0] * w).toFixed(1)},${(q[1] * hgt).toFixed(1)}`;
    const out = [];
    const unit = this.cb.unit();
    // the live view gives its display settings; the file viewer draws everything
    const d = this.cb.display ? this.cb.display() : { rules: true, temperature_info: true };
    // "rules" on the live view (manual 3.1 Local) off: none drawn, unless one is being drawn or edited
    this.svg.classList.toggle('rules-off', !d.rules && !this.tool && this.selected === null);
    for (const rule of this.rules) {
      const state = rule.enabled === false ? 'disabled' : this.states.get(rule.id) || 'normal';
      const g = svg('g', { class: `rule ${state}${rule.id === this.selected ? ' selected' : ''}`, 'data-rule': rule.id, 'data-state': state });
      const pts = rule.points.map(px).join(' ');
      if (rule.type === 'point') {
        const [x, y] = px(rule.points[0]).split(',').map(Number);
        g.append(svg('path', { d: `M${x - 8},${y}H${x + 8}M${x},${y - 8}V${y + 8}`, class: 'shape', 'data-rule': rule.id }));
        g.append(svg('circle', { cx: x, cy: y, r: 10, class: 'hit', 'data-rule': rule.id }));
      } else {
        g.append(svg(rule.type === 'line' ? 'polyline' : 'polygon', { points: pts, class: 'shape', 'data-rule': rule.id }));
      }
      if (rule.id === this.selected && rule.type !== 'point')
        rule.points.forEach((q, i) => {
          const [x, y] = px(q).split(',').map(Number);
          g.append(svg('rect', { x: x - HANDLE, y: y - HANDLE, width: HANDLE * 2, height: HANDLE * 2, class: 'handle', 'data-rule': rule.id, 'data-vertex': i }));
        });
      const label = svg('text', { class: 'label', x: 0, y: 0 });
      const [lx, ly] = px(rule.points[0]).split(',').map(Number);
      label.setAttribute('x', Math.min(lx + 6, w - 120));
      label.setAttribute('y', Math.max(ly - 6, 12));
      const r = this.readings.get(rule.id);
      let text = rule.name;
      // "display temperature info" (manual 3.1 Local) off: the names only
      if (r && r.valid && d.temperature_info) {
        const v = ruleReadings(r, unit, d.temperature_range);
        text += rule.type === 'point' ? ' ' + v.max
          : ` ${t('rules.max')} ${v.max} ${t('rules.min')} ${v.min} ${t('rules.avg')} ${v.avg}`;
        if (r.below_range || r.above_range)
          label.classList.add('out-of-range');
      }
      label.textContent = text;
      g.append(label);
      out.push(g);
    }
    if (this.draft) {
      const d = this.draft;
      let pts;
      if (d.type === 'polygon')
        pts = [...d.points, d.hover];
      else if (d.type === 'line')
        pts = [d.a, d.b];
      else
        pts = [d.a, [d.b[0], d.a[1]], d.b, [d.a[0], d.b[1]]];
      out.push(svg(d.type === 'line' ? 'polyline' : 'polygon', { points: pts.map(px).join(' '), class: 'draft' }));
    }
    this.svg.replaceChildren(...out);
  }
}
