// Users and their levels (manual 10.13): the list, add, edit (level,
// password, remote permissions: a checkbox each, greyed out where the level
// cannot hold it, as the API refuses it), delete; the password rule of 2.2 shown and checked as typed.
// admin is protected as the API protects it (core/tcd-users.c): its level
// stays, it is not deleted, and its own password needs the current one.
import { api } from './api.js';
import { t } from './i18n.js';
import { h, flash } from './ui.js';
import { passwordStrength } from './auth.js';
import { pageFrom, confirmDialog, showError } from './maint-common.js';

const NAME_RE = /^[A-Za-z0-9._-]{1,32}$/;
const STRENGTH = ['', 'strength.weak', 'strength.medium', 'strength.strong'];
// the remote permissions (manual 10.13.1), in the API's order, and what each
// level may hold (core/tcd-users.c): a user live view only, an operator any
export const PERMS = ['live_view', 'playback', 'parameters', 'log_status', 'maintenance',
  'capture', 'alarm_output', 'serial'];
const ALLOWED = { user: ['live_view'], operator: PERMS, administrator: PERMS };

// the strength meter of the activation page on @input, shown in @bar/@text
export function strengthMeter(input, bar, text, name = () => '') {
  const update = () => {
    const s = passwordStrength(input.value);
    const n = name();
    if (s.ok && n && input.value.toLowerCase().includes(n.toLowerCase())) {
      s.ok = false;
      s.level = 1;
      s.why = 'users.hasName';
    }
    bar.className = 'bar level' + s.level;
    text.textContent = s.level ? t(STRENGTH[s.level]) + (s.why ? ': ' + t(s.why, { kinds: s.kinds }) : '') : '';
    text.dataset.level = s.level;
    return s;
  };
  input.addEventListener('input', update);
  return update;
}

export function renderUsers(view, { session }) {
  const page = pageFrom(view, 'maint-users');
  const list = page.querySelector('#user-list');
  const form = page.querySelector('#user-form');
  const err = page.querySelector('#uf-error');
  const title = page.querySelector('#user-form-title');
  const el = form.elements;
  let editing = null;               // the account edited, null when adding
  let users = [];

  const meter = strengthMeter(el.password, page.querySelector('#uf-bar'),
    page.querySelector('#uf-strength'), () => el.name.value);

  async function load() {
    try {
      users = await api('GET', 'users');
    } catch (e) {
      return flash(e.message, 'error');
    }
    list.replaceChildren(...users.map((u) => {
      const admin = u.name === 'admin';
      return h('tr', { dataset: { user: u.name } },
        h('td', {}, u.name, u.name === session?.name ? ' ' + t('users.you') : ''),
        h('td', { class: 'lvl' }, t('level.' + u.level)),
        h('td', { class: 'perms' }, (u.permissions || []).length
          ? u.permissions.map((p) => t('perm.' + p)).join(', ') : t('users.permsNone')),
        h('td', { class: 'mt-row-buttons' },
          h('button', { type: 'button', class: 'edit', onclick: () => open(u),
            'aria-label': t('users.editOf', { name: u.name }) }, t('users.edit')),
          admin ? null : h('button', { type: 'button', class: 'del danger', onclick: () => remove(u),
            'aria-label': t('users.deleteOf', { name: u.name }) }, t('users.delete'))));
    }));
  }

  const boxes = [...form.querySelectorAll('input[name="perm"]')];
  // the boxes the level may hold enabled, the others off and greyed out;
  // @checked: the names to tick (a level's defaults: all it may hold)
  function setPerms(level, checked) {
    const allowed = ALLOWED[level] || [];
    for (const b of boxes) {
      const ok = allowed.includes(b.value) && level !== 'administrator';
      b.disabled = !ok;
      b.checked = allowed.includes(b.value) && (checked ? checked.includes(b.value) : true);
      b.closest('label').classList.toggle('disabled', !allowed.includes(b.value));
    }
  }
  el.level.addEventListener('change', () => setPerms(el.level.value, null));

  function open(u) {
    editing = u;
    form.reset();
    showError(form, err, null);
    const admin = u?.name === 'admin';
    title.textContent = u ? t('users.editTitle', { name: u.name }) : t('users.addTitle');
    el.name.value = u ? u.name : '';
    el.name.readOnly = !!u;
    // admin's level is not to be changed: not offered
    el.level.closest('label').hidden = admin;
    el.level.value = u && !admin ? u.level : 'user';
    setPerms(admin ? 'administrator' : el.level.value, u ? u.permissions || [] : null);
    // one's own password: the current one proves it is oneself
    page.querySelector('#uf-old-row').hidden = !(u && u.name === session?.name);
    page.querySelector('#uf-pw-label').textContent = t(u ? 'users.newPassword' : 'users.password');
    meter();
    form.hidden = false;
    page.querySelector('#user-add').hidden = true;
    (u ? (admin ? el.password : el.level) : el.name).focus();
  }

  function close() {
    form.hidden = true;
    form.reset();
    editing = null;
    page.querySelector('#user-add').hidden = false;
  }

  async function remove(u) {
    if (!await confirmDialog(t('users.deleteTitle', { name: u.name }), t('users.deleteText'), t('users.delete'), true))
      return;
    try {
      await api('DELETE', 'users/' + encodeURIComponent(u.name));
      flash(t('users.deleted', { name: u.name }));
    } catch (e) {
      flash(e.message, 'error');
    }
    if (editing?.name === u.name)
      close();
    load();
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError(form, err, null);
    const name = el.name.value.trim();
    const pw = el.password.value;
    if (!editing && !NAME_RE.test(name))
      return showError(form, err, { message: t('users.badName'), field: 'name' });
    if (!editing && users.some((u) => u.name === name))
      return showError(form, err, { message: t('users.exists', { name }), field: 'name' });
    if (!editing || pw) {
      const s = meter();
      if (!s.ok)
        return showError(form, err, { message: t('activate.weak') + (s.why ? ' (' + t(s.why, { kinds: s.kinds }) + ')' : ''), field: 'password' });
      if (pw !== el.confirm.value)
        return showError(form, err, { message: t('activate.mismatch'), field: 'confirm' });
    }
    const body = {};
    if (pw)
      body.password = pw;
    const perms = boxes.filter((b) => b.checked && !b.disabled).map((b) => b.value);
    if (!editing) {
      body.name = name;
      body.level = el.level.value;
      body.permissions = perms;
    } else {
      if (editing.name !== 'admin' && el.level.value !== editing.level)
        body.level = el.level.value;
      if (editing.name !== 'admin' && (body.level
          || perms.join() !== PERMS.filter((p) => (editing.permissions || []).includes(p)).join()))
        body.permissions = perms;
      if (pw && editing.name === session?.name)
        body.old_password = el.old_password.value;
      if (!Object.keys(body).length)
        return close();
    }
    el.password.value = el.confirm.value = el.old_password.value = '';
    meter();
    const submit = form.querySelector('#uf-submit');
    submit.disabled = true;
    try {
      if (editing)
        await api('PUT', 'users/' + encodeURIComponent(editing.name), body);
      else
        await api('POST', 'users', body);
      flash(t(editing ? 'users.saved' : 'users.added', { name: editing ? editing.name : name }));
      close();
      load();
    } catch (e) {
      showError(form, err, e);
    } finally {
      submit.disabled = false;
    }
  });
  page.querySelector('#uf-cancel').addEventListener('click', close);
  page.querySelector('#user-add').addEventListener('click', () => open(null));
  const relabel = () => { meter(); load(); };
  window.addEventListener('langchange', relabel);
  load();
  return () => window.removeEventListener('langchange', relabel);
}
