// Activation (manual 2.2) and login (2.3, the illegal login lock of 2.3.2).
import { api, setCsrf } from './api.js';
import { t, applyI18n } from './i18n.js';
import { fromTemplate, mmss } from './ui.js';

// The device's rule (core/tcd-users.c, tcd_password_is_strong): 8 or more
// characters, at most 64 bytes of UTF-8, and at least three kinds of: ASCII
// upper case, ASCII lower case, ASCII digits, anything else (a special).
export function passwordStrength(pw) {
  const chars = [...pw].length;
  const bytes = new TextEncoder().encode(pw).length;
  let upper = false, lower = false, digit = false, special = false;
  for (const c of pw) {
    if (c >= 'A' && c <= 'Z') upper = true;
    else if (c >= 'a' && c <= 'z') lower = true;
    else if (c >= '0' && c <= '9') digit = true;
    else special = true;
  }
  const kinds = upper + lower + digit + special;
  const ok = chars >= 8 && bytes <= 64 && kinds >= 3;
  let level = 0;                            // 0 empty, 1 weak, 2 medium, 3 strong
  if (pw.length)
    level = !ok ? 1 : (kinds === 4 || chars >= 12) ? 3 : 2;
  let why = '';
  if (pw.length && chars < 8) why = 'strength.short';
  else if (bytes > 64) why = 'strength.long';
  else if (pw.length && kinds < 3) why = 'strength.kinds';
  return { ok, level, kinds, chars, why };
}

export function renderActivate(view, { activated }) {
  view.append(fromTemplate('activate'));
  applyI18n(view);
  const pw = view.querySelector('#act-password');
  const confirm = view.querySelector('#act-confirm');
  const bar = view.querySelector('#act-bar');
  const text = view.querySelector('#act-strength');
  const err = view.querySelector('#act-error');
  const names = ['', 'strength.weak', 'strength.medium', 'strength.strong'];

  function update() {
    const s = passwordStrength(pw.value);
    bar.className = 'bar level' + s.level;
    text.textContent = s.level ? t(names[s.level]) + (s.why ? ': ' + t(s.why, { kinds: s.kinds }) : '') : '';
    text.dataset.level = s.level;
    return s;
  }
  pw.addEventListener('input', update);
  window.addEventListener('langchange', update);
  view.querySelector('#activate-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const s = update();
    if (!s.ok)
      return void (err.textContent = t('activate.weak'));
    if (pw.value !== confirm.value)
      return void (err.textContent = t('activate.mismatch'));
    try {
      await api('POST', 'activate', { password: pw.value }, { quiet: true });
      activated();
    } catch (e) {
      if (e.code === 'already_activated')
        activated();
      else
        err.textContent = e.code === 'weak_password' ? t('activate.weak') + ' (' + e.message + ')' : e.message;
    }
  });
  pw.focus();
  return () => window.removeEventListener('langchange', update);
}

// the lock of the address: until when (ms, the page's clock)
let lockedUntil = 0;

// from a 403 locked answer: Retry-After, else the seconds in its message
export function setLock(e) {
  let s = parseInt(e.headers?.get('Retry-After') || '', 10);
  if (!(s > 0)) {
    const m = /(\d+) more second/.exec(e.message || '');
    s = m ? parseInt(m[1], 10) : 60;
  }
  lockedUntil = Date.now() + s * 1000;
}

export function renderLogin(view, { notice, loggedIn }) {
  view.append(fromTemplate('login'));
  applyI18n(view);
  const name = view.querySelector('#login-name');
  const pw = view.querySelector('#login-password');
  const err = view.querySelector('#login-error');
  const submit = view.querySelector('#login-submit');
  const note = view.querySelector('#login-notice');
  let timer = 0, errKey = '', errVars = null, errText = '';

  function showNotice() {
    note.textContent = notice ? t(notice) : '';
    note.hidden = !notice;
    note.classList.toggle('warn', notice === 'login.expired');
  }
  function showError() {
    err.textContent = errKey ? t(errKey, errVars) + (errText ? ' (' + errText + ')' : '') : errText;
  }
  function tick() {
    const left = (lockedUntil - Date.now()) / 1000;
    if (left > 0) {
      errKey = 'login.locked';
      errVars = { time: mmss(left) };
      errText = '';
      err.classList.add('locked');
      submit.disabled = true;
    } else if (timer) {
      clearInterval(timer);
      timer = 0;
      errKey = 'login.unlocked';
      errVars = null;
      err.classList.remove('locked');
      submit.disabled = false;
    }
    showError();
  }
  function startLock() {
    clearInterval(timer);
    timer = setInterval(tick, 250);
    tick();
  }
  function relabel() { showNotice(); showError(); }
  window.addEventListener('langchange', relabel);
  showNotice();
  if (notice === 'login.activated')
    name.value = 'admin';
  if (lockedUntil > Date.now())
    startLock();

  view.querySelector('#login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (submit.disabled)
      return;
    errKey = ''; errText = '';
    showError();
    if (!name.value || !pw.value) {
      errKey = 'login.missing';
      return showError();
    }
    submit.disabled = true;
    try {
      const s = await api('POST', 'session', { name: name.value, password: pw.value }, { quiet: true });
      setCsrf(s.csrf_token);
      await loggedIn({ name: s.name, level: s.level, permissions: s.permissions });
    } catch (e) {
      submit.disabled = false;
      pw.value = '';
      if (e.code === 'locked') {
        setLock(e);
        return startLock();
      }
      errVars = null;
      if (e.code === 'unauthorized') {
        const left = e.detail?.attempts_left ?? null;
        errKey = left !== null ? 'login.wrongLeft' : 'login.wrong';
        errVars = { n: left };
      } else if (e.code === 'not_activated') {
        location.reload();
      } else {
        errKey = 'login.failed';
        errText = e.message;
      }
      showError();
      pw.focus();
    }
  });
  (name.value ? pw : name).focus();
  return () => {
    clearInterval(timer);
    window.removeEventListener('langchange', relabel);
  };
}
