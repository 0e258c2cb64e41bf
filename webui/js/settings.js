// The Configuration area: a page per section group (settings-pages.js), its
// forms made by form.js from the schema; operators and administrators only
// (the nav hides it from users, the route refuses them, and so does the API).
import { api } from './api.js';
import { t } from './i18n.js';
import { h } from './ui.js';
import { levelAllows } from './level.js';

// the network chapter's sections: read by an operator, changed by the
// administrator only (the API's routes say the same: a change there can cut
// the camera off its network)
const ADMIN_SECTIONS = ['network', 'ports', 'snmp', 'upnp', 'onvif'];
import { Form, loadSchema, label, fieldLabel, resolve, schemaAt, getAt, clone } from './form.js';
import { CHAPTERS, PAGES } from './settings-pages.js';
import { EXTRAS, FIELD_EXTRAS, PART_EXTRAS } from './settings-extras.js';

export const pageTitle = (id) => label('page.' + id, id);

function sideNav(current) {
  return h('nav', { class: 'set-nav', 'aria-label': t('set.title') },
    ...CHAPTERS.map((c) => h('div', { class: 'set-chapter' },
      h('h2', {}, label('chap.' + c.id, c.id)),
      h('ul', {}, ...c.pages.map((p) => h('li', {}, h('a', { href: '#/settings/' + p,
        class: p === current ? 'current' : null, 'aria-current': p === current ? 'page' : null }, pageTitle(p))))))));
}

// the element of one member (@f: 'a.b' or {path, extra}) under @base
function member(form, f, base) {
  const spec = typeof f === 'string' ? { path: f } : f;
  const path = [...base, ...spec.path.split('.')];
  const s = schemaAt(form.schema, form.node, path);
  if (s.type === 'object' && s.properties) {
    const name = path[path.length - 1];
    return h('fieldset', { class: 'set-sub' }, h('legend', {}, fieldLabel(name)),
      ...Object.keys(s.properties).filter((k) => k !== 'schedule').map((k) => member(form, k, path)));
  }
  const el = form.field(path);
  if (spec.extra)
    FIELD_EXTRAS[spec.extra](form, path, el);
  if (spec.when) {
    // shown only while another member has one of some values (DNR levels in expert mode)
    const [other, values] = spec.when;
    const otherPath = [...base, ...other.split('.')];
    const update = () => { el.hidden = ![].concat(values).includes(getAt(form.cur, otherPath)); };
    form.onChange(update);
    form.onReset(() => queueMicrotask(update));
    update();
  }
  return el;
}

// a list of objects (alarm inputs, receivers): a fieldset a row, redrawn
// when a row comes or goes
function list(form, g, box) {
  const path = [g.list];
  const s = schemaAt(form.schema, form.node, path);
  const draw = () => {
    form.drop(path);
    box.replaceChildren();
    const items = getAt(form.cur, path) || [];
    if (!items.length)
      box.append(h('p', { class: 'hint' }, t('set.none')));
    items.forEach((item, i) => {
      const row = h('fieldset', { class: 'set-item' },
        h('legend', {}, `${t(g.item)} ${item.id ?? i + 1}`),
        ...g.fields.map((f) => member(form, f, [g.list, i])));
      if (g.grow)
        row.append(h('button', { type: 'button', class: 'del', onclick: () => {
          const next = clone(items);
          next.splice(i, 1);
          form.set(path, next);
          draw();
        } }, t('set.remove')));
      if (g.extra)
        PART_EXTRAS[g.extra](form, item, row);
      box.append(row);
    });
    if (g.grow)
      box.append(h('button', { type: 'button', class: 'add', disabled: items.length >= (s.maxItems || 8),
        onclick: () => {
          form.set(path, [...clone(items), clone(g.grow)]);
          draw();
          box.querySelector('.set-item:last-of-type input')?.focus();
        } }, t('set.add')));
    for (const c of form.controls)
      if (c.path[0] === g.list)
        c.show(getAt(form.cur, c.path));
  };
  form.onReset(draw);
  draw();
}

// one section's form: its groups, Save, Revert, the state, and a test button
async function part(root, p, forms) {
  const node = root.properties[p.section];
  const form = new Form({ section: p.section, schema: root, node,
    load: () => api('GET', 'config/' + p.section),
    save: (patch) => api('PUT', 'config/' + p.section, patch) });
  await form.reload();
  forms.push(form);
  const el = h('form', { class: 'set-part', novalidate: true, dataset: { section: p.section } });
  el.addEventListener('submit', (e) => { e.preventDefault(); form.submit(); });
  const sec = resolve(root, node);
  const groups = p.groups || [{ title: 'sec.' + p.section,
    fields: Object.keys(sec.properties).filter((k) => k !== 'schedule') }];
  if (!p.groups && sec.description)
    el.append(h('p', { class: 'hint' }, sec.description));
  for (const g of groups) {
    const fs = h('fieldset', { class: 'set-group' }, h('legend', {}, label(g.title, p.section)));
    if (g.list) {
      const box = h('div', { class: 'set-list' });
      fs.append(box);
      list(form, g, box);
    } else {
      const grid = h('div', { class: 'set-fields' }, ...g.fields.map((f) => member(form, f, [])));
      fs.append(grid);
    }
    el.append(fs);
  }
  if (p.note)
    el.append(h('p', { class: 'hint' }, t(p.note), ' ', h('a', { href: '#/settings/schedules' }, pageTitle('schedules'))));
  if (ADMIN_SECTIONS.includes(p.section) && !levelAllows('administrator')) {
    for (const fs of el.querySelectorAll('fieldset'))
      fs.disabled = true;
    el.prepend(h('p', { class: 'hint set-admin-only', role: 'note' }, t('set.adminOnly')));
    return el;
  }
  const bar = form.bar();
  if (p.test)
    bar.append(...EXTRAS.test(form, p.test));
  el.append(bar);
  return el;
}

export function confirmLeave() {
  return window.confirm(t('form.leave'));
}

// a page; a new language draws it again (when nothing is left unsaved)
export function renderSettings(view, id) {
  let page = renderPage(view, id);
  if (!page)
    return null;
  const onLang = () => {
    if (page.guard !== undefined && !page.dirty()) {
      page();
      view.replaceChildren();
      page = renderPage(view, id);
    }
  };
  window.addEventListener('langchange', onLang);
  const cleanup = () => {
    window.removeEventListener('langchange', onLang);
    page();
  };
  cleanup.guard = () => page.guard();
  return cleanup;
}

function renderPage(view, id) {
  if (!levelAllows('operator')) {
    view.append(h('section', { class: 'card set-refused', role: 'alert' },
      h('h1', {}, t('set.title')), h('p', {}, t('set.refused')), h('a', { href: '#/live' }, t('nav.live'))));
    return null;
  }
  const desc = PAGES[id];
  const forms = [];
  const body = h('div', { class: 'set-body' }, h('h1', {}, pageTitle(id), desc.manual ? h('span', { class: 'manual' }, `§${desc.manual}`) : null));
  const nav = sideNav(id);
  view.append(h('section', { class: 'settings', dataset: { settings: id } }, nav, body));
  // a phone's nav is one row that scrolls: the page shown in sight
  const cur = nav.querySelector('a.current');
  if (cur && nav.scrollWidth > nav.clientWidth)
    nav.scrollLeft = cur.offsetLeft - (nav.clientWidth - cur.offsetWidth) / 2;
  const ctx = { forms, body, alive: true, cleanups: [] };
  (async () => {
    const root = await loadSchema();
    for (const p of desc.parts || []) {
      const el = await part(root, p, forms);
      if (ctx.alive)
        body.append(el);
    }
    if (desc.extra && ctx.alive)
      await EXTRAS[desc.extra](ctx, root);
    body.dataset.ready = 'true';
  })().catch((e) => {
    body.append(h('p', { class: 'error', role: 'alert' }, `${t('form.loadFailed')}: ${e.message} `,
      h('button', { type: 'button', onclick: () => window.dispatchEvent(new HashChangeEvent('hashchange')) }, t('set.retry'))));
    body.dataset.ready = 'true';
  });
  const dirty = () => forms.some((f) => f.dirty);
  const unload = (e) => {
    if (dirty()) {
      e.preventDefault();
      e.returnValue = '';
    }
  };
  window.addEventListener('beforeunload', unload);
  const cleanup = () => {
    ctx.alive = false;
    window.removeEventListener('beforeunload', unload);
    for (const fn of ctx.cleanups)
      fn();
  };
  // asked by the router before it leaves the page
  cleanup.guard = () => !dirty() || confirmLeave();
  cleanup.dirty = dirty;
  return cleanup;
}

// the routes: #/settings (the first page) and #/settings/ID
export function settingsRoutes() {
  const routes = { '/settings': (view) => renderSettings(view, CHAPTERS[0].pages[0]) };
  for (const id of Object.keys(PAGES))
    routes['/settings/' + id] = (view) => renderSettings(view, id);
  return routes;
}
