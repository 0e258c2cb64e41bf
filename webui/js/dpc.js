// Manual defective pixel correction on the live view (manual 7.5): with
// "Pick pixels" on, a click on the picture places a cursor on the sensor pixel
// under it (the picture may be scaled, zoomed or mirrored: the click is turned
// back into sensor coordinates), the arrows move it one pixel, Add marks it;
// Correct corrects the marked pixels together, Cancel undoes the last
// correction; the list shows them (and removes one). Marks on the picture:
// the cursor, the marked pixels and the corrected ones.
import { api } from './api.js';
import { t } from './i18n.js';
import { h } from './ui.js';

const FLIP_X = new Set(['horizontal', 'both']), FLIP_Y = new Set(['vertical', 'both']);

export class DpcPanel {
  // @root: the panel's element; @zoomer: what holds the picture (its box is
  // the picture's); cb: {error, info, picking(on)}
  constructor(root, zoomer, cb) {
    this.root = root;
    this.zoomer = zoomer;
    this.cb = cb;
    this.st = { width: 640, height: 512, mirror: 'none', pixels: [], pending: [], can_cancel: false };
    this.cursor = null;
    this.picking = false;
    const $ = (id) => root.querySelector('#' + id);
    this.el = {
      pick: $('dpc-pick'), at: $('dpc-at'), add: $('dpc-add'), correct: $('dpc-correct'),
      cancel: $('dpc-cancel'), list: $('dpc-list'), count: $('dpc-count'),
    };
    this.layer = h('div', { class: 'dpc-marks', id: 'dpc-marks' });
    zoomer.append(this.layer);
    this.el.pick.addEventListener('click', () => this.setPicking(!this.picking));
    for (const [id, dx, dy] of [['dpc-up', 0, -1], ['dpc-down', 0, 1], ['dpc-left', -1, 0], ['dpc-right', 1, 0]])
      $(id).addEventListener('click', () => this.move(dx, dy));
    this.el.add.addEventListener('click', () => this.add());
    this.el.correct.addEventListener('click', () => this.act('correct', 'dpc.correctedDone'));
    this.el.cancel.addEventListener('click', () => this.act('cancel', 'dpc.cancelled'));
    // before the rule layer and the zoom see it
    this.onClick = (ev) => {
      if (!this.picking)
        return;
      const at = this.toSensor(ev.clientX, ev.clientY);
      if (!at)
        return;
      ev.stopPropagation();
      ev.preventDefault();
      this.cursor = at;
      this.render();
    };
    zoomer.addEventListener('click', this.onClick, true);
    this.onResize = () => this.render();
    window.addEventListener('resize', this.onResize);
    this.render();
  }

  destroy() {
    this.zoomer.removeEventListener('click', this.onClick, true);
    window.removeEventListener('resize', this.onResize);
    this.layer.remove();
  }

  async load() {
    this.show(await api('GET', 'image/dpc'));
  }

  show(state) {
    this.st = state;
    if (this.cursor)
      this.cursor = this.clamp(this.cursor.x, this.cursor.y);
    this.render();
  }

  setPicking(on) {
    this.picking = on;
    this.el.pick.setAttribute('aria-pressed', on);
    this.zoomer.classList.toggle('picking', on);
    if (on)
      this.cb.picking?.(true);
    this.render();
  }

  clamp(x, y) {
    return { x: Math.min(this.st.width - 1, Math.max(0, x)), y: Math.min(this.st.height - 1, Math.max(0, y)) };
  }

  // a point of the screen -> the sensor pixel under it (null: off the picture)
  toSensor(clientX, clientY) {
    const r = this.zoomer.getBoundingClientRect();
    let u = (clientX - r.left) / r.width, v = (clientY - r.top) / r.height;
    if (!(u >= 0 && v >= 0 && u < 1 && v < 1))
      return null;
    if (FLIP_X.has(this.st.mirror))
      u = 1 - u;
    if (FLIP_Y.has(this.st.mirror))
      v = 1 - v;
    return this.clamp(Math.floor(u * this.st.width), Math.floor(v * this.st.height));
  }

  // a sensor pixel's centre on the picture, [0, 1]
  toPicture(p) {
    let u = (p.x + 0.5) / this.st.width, v = (p.y + 0.5) / this.st.height;
    if (FLIP_X.has(this.st.mirror))
      u = 1 - u;
    if (FLIP_Y.has(this.st.mirror))
      v = 1 - v;
    return [u, v];
  }

  // the arrows move the cursor on the picture as shown (mirrored too)
  move(dx, dy) {
    if (!this.cursor)
      return;
    if (FLIP_X.has(this.st.mirror))
      dx = -dx;
    if (FLIP_Y.has(this.st.mirror))
      dy = -dy;
    this.cursor = this.clamp(this.cursor.x + dx, this.cursor.y + dy);
    this.render();
  }

  async add() {
    if (!this.cursor)
      return;
    try {
      this.show(await api('POST', 'image/dpc/add', { pixels: [this.cursor] }));
    } catch (e) {
      this.cb.error(e);
    }
  }

  async act(what, done) {
    try {
      this.show(await api('POST', 'image/dpc/' + what));
      this.cb.info(t(done));
    } catch (e) {
      this.cb.error(e);
    }
  }

  async remove(p) {
    try {
      this.show(await api('POST', 'image/dpc/remove', { pixels: [{ x: p.x, y: p.y }] }));
    } catch (e) {
      this.cb.error(e);
    }
  }

  render() {
    const { pixels, pending } = this.st;
    const at = this.el.at;
    at.textContent = this.cursor ? `x ${this.cursor.x}, y ${this.cursor.y}` : t('dpc.noCursor');
    at.dataset.x = this.cursor ? this.cursor.x : '';
    at.dataset.y = this.cursor ? this.cursor.y : '';
    this.el.add.disabled = !this.cursor;
    this.el.correct.disabled = !pending.length;
    this.el.cancel.disabled = !this.st.can_cancel;
    this.el.count.textContent = t('dpc.count', { n: pixels.length, m: pending.length });
    // the marks: cursor, pending, corrected
    const mark = (p, kind) => {
      const [u, v] = this.toPicture(p);
      const el = h('span', { class: 'dpc-mark ' + kind, dataset: { x: p.x, y: p.y } });
      el.style.left = u * 100 + '%';
      el.style.top = v * 100 + '%';
      return el;
    };
    this.layer.replaceChildren(...pixels.map((p) => mark(p, 'corrected')), ...pending.map((p) => mark(p, 'pending')),
      ...(this.cursor ? [mark(this.cursor, 'cursor')] : []));
    this.layer.hidden = !this.picking && !pending.length;
    // the list
    const row = (p, kind) => h('li', { class: 'dpc-item ' + kind, dataset: { x: p.x, y: p.y } },
      h('span', {}, `(${p.x}, ${p.y})`), h('span', { class: 'dim' }, t('dpc.' + kind)),
      h('button', { type: 'button', class: 'dpc-remove', onclick: () => this.remove(p) }, t('dpc.remove')));
    this.el.list.replaceChildren(...pending.map((p) => row(p, 'pending')), ...pixels.map((p) => row(p, 'corrected')));
  }
}
