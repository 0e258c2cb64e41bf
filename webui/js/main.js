// The frame: language, session, user menu, hash routes (#/activate, #/login,
// #/live) and what the user's level may see.
import { loadI18n, applyI18n, setLang, getLang, t } from './i18n.js';
import { api, setCsrf, onAuthLost, ApiError } from './api.js';
import { renderActivate, renderLogin, setLock } from './auth.js';
import { renderLive } from './live.js';
import { renderFiles } from './files.js';
import { renderTrends } from './trends.js';
import { flash } from './ui.js';
import { setLevel, levelAllows, permissionAllows } from './level.js';
import { guarded } from './maint-common.js';
import { renderUsers } from './maint-users.js';
import { renderCert } from './maint-cert.js';
import { renderLogs, stopCollecting } from './maint-logs.js';
import { renderMaintenance } from './maint-system.js';
import { settingsRoutes } from './settings.js';

const state = { activated: true, session: null, device: null, notice: '' };
let cleanup = null;

function go(hash) {
  if (location.hash === hash)
    route();
  else
    location.hash = hash;
}

async function loadSession() {
  try {
    const s = await api('GET', 'session', undefined, { quiet: true });
    state.activated = true;
    state.session = { name: s.name, level: s.level, permissions: s.permissions };
    if (s.csrf_token)
      setCsrf(s.csrf_token);
  } catch (e) {
    state.session = null;
    if (e.code === 'not_activated')
      state.activated = false;
    else if (e.code === 'locked')
      setLock(e);
  }
}

async function loadDevice() {
  try {
    state.device = await api('GET', 'device');
    document.getElementById('device-name').textContent = state.device.device_name;
    document.title = `${state.device.device_name} - thermocam`;
  } catch { /* the frame keeps its default name */ }
}

function showFrame() {
  const s = state.session;
  document.getElementById('nav').hidden = !s;
  document.getElementById('user-menu').hidden = !s;
  document.getElementById('user-pop').hidden = true;
  if (s) {
    document.getElementById('user-name').textContent = s.name;
    document.getElementById('user-level').textContent = t('level.' + s.level);
  }
  document.body.dataset.level = s ? s.level : '';
  setLevel(s?.level, s?.permissions);
  for (const a of document.querySelectorAll('#nav [data-level]'))
    a.hidden = !levelAllows(a.dataset.level) || !permissionAllows(a.dataset.permission);
}

// the maintenance page ended the session (import) or the device's state (default)
function sessionEnded(to, notice) {
  stopCollecting();
  setCsrf(null);
  state.session = null;
  state.notice = notice || '';
  if (to === 'activate')
    state.activated = false;
  go(to === 'activate' ? '#/activate' : '#/login');
}

const pages = {
  '/activate': (view) => renderActivate(view, {
    activated: () => { state.activated = true; state.notice = 'login.activated'; go('#/login'); },
  }),
  '/login': (view) => renderLogin(view, {
    notice: state.notice,
    loggedIn: async (s) => {
      state.notice = '';
      state.session = s;
      await loadDevice();
      go('#/live');
    },
  }),
  '/live': (view) => renderLive(view, { session: state.session, device: state.device }),
  '/users': guarded('administrator', (view) => renderUsers(view, { session: state.session })),
  '/certificate': guarded('operator', renderCert),
  '/logs': guarded('operator', renderLogs),
  '/maintenance': guarded('operator', (view) => renderMaintenance(view, { done: sessionEnded })),
  '/files': (view) => renderFiles(view),
  '/trends': (view) => renderTrends(view),
  ...settingsRoutes(),
};
let shown = '';

function route() {
  let path = location.hash.replace(/^#/, '') || '/live';
  if (!state.activated)
    path = '/activate';
  else if (!state.session && path !== '/login')
    path = '/login';
  else if (state.session && (path === '/login' || path === '/activate'))
    path = '/live';
  if (!pages[path])
    path = '/live';
  // a page with unsaved changes is left only when the user says so
  if (cleanup?.guard && shown !== '#' + path && state.session && !cleanup.guard()) {
    history.replaceState(null, '', shown);
    return;
  }
  if (location.hash !== '#' + path)
    history.replaceState(null, '', '#' + path);
  shown = '#' + path;
  if (cleanup)
    cleanup();
  cleanup = null;
  showFrame();
  const view = document.getElementById('view');
  view.replaceChildren();
  view.dataset.page = path.slice(1);
  for (const a of document.querySelectorAll('#nav a'))
    a.classList.toggle('current', a.getAttribute('href') === '#' + path || (path.startsWith('/settings') && a.getAttribute('href') === '#/settings'));
  cleanup = pages[path](view) || null;
}

function wireFrame() {
  const sel = document.getElementById('lang');
  sel.value = getLang();
  sel.addEventListener('change', () => setLang(sel.value));
  window.addEventListener('langchange', showFrame);
  const pop = document.getElementById('user-pop');
  document.getElementById('user-button').addEventListener('click', () => { pop.hidden = !pop.hidden; });
  document.getElementById('logout').addEventListener('click', async () => {
    try {
      await api('DELETE', 'session', undefined, { quiet: true });
    } catch (e) {
      if (e.status !== 401)
        flash(e.message, 'error');
    }
    setCsrf(null);
    stopCollecting();
    state.session = null;
    state.notice = 'login.loggedOut';
    go('#/login');
  });
  onAuthLost((e) => {
    if (e.code === 'not_activated') {
      state.activated = false;
    } else if (state.session) {
      state.notice = 'login.expired';
    }
    state.session = null;
    setCsrf(null);
    stopCollecting();
    go(state.activated ? '#/login' : '#/activate');
  });
  window.addEventListener('hashchange', route);
}

async function start() {
  await loadI18n();
  applyI18n();
  wireFrame();
  await loadSession();
  if (state.session)
    await loadDevice();
  route();
}

start().catch((e) => flash(e instanceof ApiError ? e.message : String(e), 'error'));
