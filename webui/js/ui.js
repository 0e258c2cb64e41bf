// Small DOM helpers shared by the pages.
let flashTimer = 0;

// a transient message under the header ('error' or 'info')
export function flash(text, kind = 'info', ms = 5000) {
  const el = document.getElementById('flash');
  el.textContent = text;
  el.className = 'flash ' + kind;
  el.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { el.hidden = true; }, ms);
}

// a copy of <template id="tpl-NAME">'s content
export function fromTemplate(name) {
  return document.getElementById('tpl-' + name).content.cloneNode(true);
}

// h('button', {type: 'button', class: 'x', onclick: f}, 'text', child...)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false)
      continue;
    if (k.startsWith('on'))
      el.addEventListener(k.slice(2), v);
    else if (k === 'class')
      el.className = v;
    else if (k === 'dataset')
      Object.assign(el.dataset, v);
    else
      el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children)
    if (c !== undefined && c !== null && c !== false)
      el.append(c instanceof Node ? c : String(c));
  return el;
}

export const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs))
    el.setAttribute(k, v);
  return el;
}

// "m:ss"
export function mmss(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// keeps a list's children one per item, by key, so that a list redrawn with
// each reading keeps its elements (a click is never lost to a redraw):
// make(item) builds an element once, update(el, item) refreshes it
export function keyedList(list, items, key, make, update) {
  const old = new Map([...list.children].map((el) => [el.dataset.key, el]));
  const want = items.map((item) => {
    const k = String(key(item));
    let el = old.get(k);
    if (el)
      old.delete(k);
    else {
      el = make(item);
      el.dataset.key = k;
    }
    update(el, item);
    return el;
  });
  for (const el of old.values())
    el.remove();
  want.forEach((el, i) => {
    if (list.children[i] !== el)
      list.insertBefore(el, list.children[i] || null);
  });
}
