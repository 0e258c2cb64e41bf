// The message catalog (i18n/messages.json: {"en": {...}, "zh": {...}}) and the
// page's language, remembered in localStorage.
const KEY = 'thermocam.lang';
const HTML_LANG = { en: 'en', zh: 'zh-CN' };
let catalog = { en: {} };
let lang = 'en';

export async function loadI18n() {
  const r = await fetch('i18n/messages.json', { cache: 'no-cache' });
  catalog = await r.json();
  // the labels of the settings' fields and values, in a catalog of their own
  const f = await fetch('i18n/fields.json', { cache: 'no-cache' });
  if (f.ok)
    for (const [l, strings] of Object.entries(await f.json()))
      catalog[l] = { ...strings, ...catalog[l] };
  const saved = localStorage.getItem(KEY);
  const guess = (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh' : 'en';
  lang = catalog[saved] ? saved : guess;
  document.documentElement.lang = HTML_LANG[lang];
}

export function getLang() { return lang; }
export function languages() { return Object.keys(catalog); }

// t('key', {n: 3}) -> the string of the current language, {n} filled in;
// English when the key is missing there, the key itself when missing everywhere
export function t(key, vars) {
  let s = catalog[lang]?.[key] ?? catalog.en?.[key] ?? key;
  if (vars)
    s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

// fills data-i18n (text), data-i18n-title, data-i18n-placeholder, data-i18n-aria
export function applyI18n(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]'))
    el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-title]'))
    el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]'))
    el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-aria]'))
    el.setAttribute('aria-label', t(el.dataset.i18nAria));
}

export function setLang(l) {
  if (!catalog[l] || l === lang)
    return;
  lang = l;
  localStorage.setItem(KEY, l);
  document.documentElement.lang = HTML_LANG[l];
  applyI18n();
  window.dispatchEvent(new CustomEvent('langchange', { detail: l }));
}
