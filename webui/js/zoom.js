// Digital zoom of the live picture (manual 6.1.6): the wheel zooms around the
// cursor; in zoom mode a dragged box is zoomed into and a click goes back to
// the whole picture. A CSS transform of the picture's box (the rules' overlay
// and the marks zoom with it).
const MAX = 8;

export class Zoom {
  constructor(frame, target, box, changed) {
    this.frame = frame;
    this.target = target;
    this.boxEl = box;
    this.changed = changed;
    this.s = 1; this.tx = 0; this.ty = 0;
    this.mode = false;
    this.drag = null;
    this.onWheel = (ev) => this._wheel(ev);
    this.onDown = (ev) => this._down(ev);
    this.onMove = (ev) => this._move(ev);
    this.onUp = (ev) => this._up(ev);
    frame.addEventListener('wheel', this.onWheel, { passive: false });
    frame.addEventListener('pointerdown', this.onDown, true);
    frame.addEventListener('pointermove', this.onMove);
    frame.addEventListener('pointerup', this.onUp);
  }

  destroy() {
    this.frame.removeEventListener('wheel', this.onWheel);
    this.frame.removeEventListener('pointerdown', this.onDown, true);
  }

  toggleMode() {
    this.mode = !this.mode;
    this.frame.classList.toggle('zoom-mode', this.mode);
    return this.mode;
  }

  reset() { this._set(1, 0, 0); }

  _set(s, tx, ty) {
    const w = this.target.offsetWidth, h = this.target.offsetHeight;
    this.s = Math.min(MAX, Math.max(1, s));
    // the picture keeps covering its box
    this.tx = Math.min(0, Math.max(w * (1 - this.s), tx));
    this.ty = Math.min(0, Math.max(h * (1 - this.s), ty));
    this.target.style.transform = this.s === 1 ? '' : `translate(${this.tx}px, ${this.ty}px) scale(${this.s})`;
    this.frame.classList.toggle('zoomed', this.s > 1);
    this.changed();
  }

  // a pointer position in the picture box's own (unzoomed) pixels
  _local(ev) {
    const r = this.frame.getBoundingClientRect();
    return [ev.clientX - r.left - this.target.offsetLeft, ev.clientY - r.top - this.target.offsetTop];
  }

  _wheel(ev) {
    ev.preventDefault();
    const [px, py] = this._local(ev);
    const s = Math.min(MAX, Math.max(1, this.s * Math.exp(-ev.deltaY * 0.001)));
    const k = s / this.s;
    this._set(s, px - (px - this.tx) * k, py - (py - this.ty) * k);
  }

  _down(ev) {
    if (!this.mode || ev.button !== 0)
      return;
    ev.stopPropagation();
    ev.preventDefault();            // no native drag of the picture
    this.drag = { a: this._local(ev), b: this._local(ev) };
    this.frame.setPointerCapture(ev.pointerId);
    this._box();
  }

  _move(ev) {
    if (!this.drag)
      return;
    this.drag.b = this._local(ev);
    this._box();
  }

  _up() {
    const d = this.drag;
    if (!d)
      return;
    this.drag = null;
    this.boxEl.hidden = true;
    const bw = Math.abs(d.a[0] - d.b[0]), bh = Math.abs(d.a[1] - d.b[1]);
    if (bw < 8 || bh < 8)
      return this.reset();
    const w = this.target.offsetWidth, h = this.target.offsetHeight;
    // the box in the picture's own coordinates, then scaled to fill
    const x0 = (Math.min(d.a[0], d.b[0]) - this.tx) / this.s, y0 = (Math.min(d.a[1], d.b[1]) - this.ty) / this.s;
    const s = Math.min(MAX, this.s * Math.min(w / bw, h / bh));
    this._set(s, -x0 * s, -y0 * s);
  }

  _box() {
    const d = this.drag;
    Object.assign(this.boxEl.style, {
      left: Math.min(d.a[0], d.b[0]) + this.target.offsetLeft + 'px',
      top: Math.min(d.a[1], d.b[1]) + this.target.offsetTop + 'px',
      width: Math.abs(d.a[0] - d.b[0]) + 'px', height: Math.abs(d.a[1] - d.b[1]) + 'px',
    });
    this.boxEl.hidden = false;
  }
}
