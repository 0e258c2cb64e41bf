// What the maintenance pages share (users, certificate, logs, maintenance):
// the level a page needs, a confirmation dialog, file downloads and uploads
// with the session's CSRF token, a field's error, a date.
import { request } from './api.js';
import { t, applyI18n } from './i18n.js';
import { h } from './ui.js';
import { levelAllows, pruneByLevel } from './level.js';

// a page for @level and up; below it, a refusal and no call to the API
export function guarded(level, render) {
  return (view, ctx) => {
    if (!levelAllows(level)) {
      view.append(h('section', { class: 'mt-page' },
        h('p', { class: 'error mt-refused', role: 'alert', 'data-i18n': 'maint.refused' }, t('maint.refused')),
        h('p', { class: 'mt-refused-back' }, h('a', { href: '#/live', 'data-i18n': 'maint.toLive' }, t('maint.toLive')))));
      return null;
    }
    return render(view, ctx);
  };
}

// the section <template id="tpl-NAME"> filled in, translated, pruned by level
export function pageFrom(view, name) {
  const frag = document.getElementById('tpl-' + name).content.cloneNode(true);
  applyI18n(frag);
  pruneByLevel(frag);
  view.append(frag);
  return view.firstElementChild;
}

// a modal question: resolves true on OK, false on Cancel or Escape
export function confirmDialog(title, text, okLabel, danger = false) {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'button', class: 'mt-ok' + (danger ? ' danger' : ''), value: 'ok' }, okLabel);
    const cancel = h('button', { type: 'button', class: 'mt-cancel', value: 'cancel' }, t('maint.cancel'));
    const dlg = h('dialog', { class: 'mt-dialog', 'aria-labelledby': 'mt-dialog-title' },
      h('h2', { id: 'mt-dialog-title' }, title),
      ...String(text).split('\n').map((line) => h('p', {}, line)),
      h('div', { class: 'mt-buttons' }, cancel, ok));
    const done = (answer) => {
      dlg.close();
      dlg.remove();
      resolve(answer);
    };
    ok.addEventListener('click', () => done(true));
    cancel.addEventListener('click', () => done(false));
    dlg.addEventListener('cancel', (ev) => { ev.preventDefault(); done(false); });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
  });
}

// a request whose answer may be a file: the Response, or an ApiError thrown
export function send(method, path, body, contentType) {
  return request(method, path, body, { contentType, accept: 'application/json, */*' });
}

// saves a Blob as a file named @name
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// downloads the answer of a request, named as its Content-Disposition says
export async function download(method, path, body, fallback) {
  const r = await send(method, path, body, body !== undefined ? 'application/json' : undefined);
  const cd = r.headers.get('Content-Disposition') || '';
  const name = /filename="?([^";]+)"?/.exec(cd)?.[1] || fallback;
  saveBlob(await r.blob(), name);
  return name;
}

// a form's error line and the field it names (aria-invalid)
export function showError(form, el, e, fields = {}) {
  for (const f of form.querySelectorAll('[aria-invalid]'))
    f.removeAttribute('aria-invalid');
  if (!e) {
    el.textContent = '';
    return;
  }
  el.textContent = typeof e === 'string' ? e : e.message;
  const name = e.field && (fields[e.field] || e.field);
  const input = name && form.elements[name];
  if (input && input.setAttribute) {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
}

// "2026-12-03 16:40:12", the browser's local time
export function formatTime(iso) {
  const d = new Date(iso);
  if (isNaN(d))
    return String(iso ?? '');
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// "3 d 04:05:06"
export function formatUptime(s) {
  const d = Math.floor(s / 86400), p = (n) => String(n).padStart(2, '0');
  const rest = `${p(Math.floor(s % 86400 / 3600))}:${p(Math.floor(s % 3600 / 60))}:${p(Math.floor(s % 60))}`;
  return d ? t('maint.days', { n: d }) + ' ' + rest : rest;
}

// a <dl> of [label key, value] pairs
export function facts(dl, rows) {
  dl.replaceChildren();
  for (const [key, value] of rows) {
    if (value === undefined || value === null || value === '')
      continue;
    dl.append(h('dt', {}, t(key)), h('dd', { dataset: { key } }, String(value)));
  }
}
