// The files kept on the device (manual 8.2, 8.3): captures (GET /captures)
// and recordings (GET /recordings) in one list, newest first, filtered by
// type and by day, a page at a time; each with its thumbnail, size and time,
// a download link, delete (confirmed) and, for a picture, the viewer
// (viewer.js: a radiometric JPEG measured from its own data).
//
// Thumbnails: a radiometric JPEG is mostly its raw counts (about 700 KB at
// 640x512, before its picture), so the device makes each card's picture
// small (GET /captures/{name}/thumbnail: at most 320 pixels a side, a few
// KB), and the first 16 KB of the file (a Range request) tell whether it is
// radiometric (its FLIR segments come first). Only the cards on screen ask
// (an IntersectionObserver), THUMB_AT_ONCE at a time, one page of PAGE cards;
// each answer is kept in memory (THUMB_MAX at most, forgotten on reload and
// when an account that may not see files opens the page) for the next
// filter, page or visit. A recording is an MP4 of the main stream with no
// picture of its own: its card says so and plays it when asked.
import { api } from './api.js';
import { t, applyI18n } from './i18n.js';
import { h, flash } from './ui.js';
import { levelAllows } from './level.js';
import { isRadiometric } from './flir.js';
import { renderViewer } from './viewer.js';

const PAGE = 24;
const POLL_MS = 10000;
const KINDS = ['all', 'pictures', 'manual', 'timed', 'event', 'recordings'];
const THUMB_MAX = 300;
const THUMB_AT_ONCE = 4;
const thumbs = new Map();      // "name|size|time" -> {url (data: JPEG), radiometric}

// a Blob as a data: URL (kept after the Blob is gone)
function dataUrl(blob) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}

// "20261124T100512.204Z-rule-3-1.jpg" -> "rule-3"; recordings: null
function triggerOf(name) {
  const m = /^\d{8}T\d{6}(?:\.\d+)?Z-(.+)-\d+\.[a-z]+$/.exec(name);
  return m ? m[1] : null;
}

function kindOf(f) {
  if (f.store === 'recordings')
    return 'recording';
  const tag = triggerOf(f.name);
  return tag === 'manual' ? 'manual' : tag === 'timed' ? 'timed' : 'event';
}

export function formatSize(n) {
  if (n < 1024)
    return n + ' B';
  if (n < 1024 * 1024)
    return (n / 1024).toFixed(1) + ' KiB';
  return (n / 1024 / 1024).toFixed(1) + ' MiB';
}

// the local day of an ISO time: "2026-11-24"
function dayOf(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

// the files of a kind (KINDS) and a local day ("" for any)
export function filterFiles(files, kind, day) {
  return files.filter((f) => {
    const k = kindOf(f);
    const ok = kind === 'all' || (kind === 'pictures' && k !== 'recording')
      || (kind === 'recordings' && k === 'recording') || kind === k;
    return ok && (!day || dayOf(f.time) === day);
  });
}

// a modal question; resolves true when confirmed
export function confirmDialog(text, ok) {
  return new Promise((resolve) => {
    const yes = h('button', { type: 'button', class: 'danger', id: 'confirm-yes' }, ok);
    const no = h('button', { type: 'button', id: 'confirm-no' }, t('files.cancel'));
    const dlg = h('dialog', { class: 'confirm', 'aria-label': text }, h('p', {}, text), h('div', { class: 'buttons' }, no, yes));
    const end = (v) => { dlg.close(); dlg.remove(); resolve(v); };
    yes.addEventListener('click', () => end(true));
    no.addEventListener('click', () => end(false));
    dlg.addEventListener('cancel', (ev) => { ev.preventDefault(); end(false); });
    document.body.append(dlg);
    dlg.showModal();
    no.focus();
  });
}

export function renderFiles(view, { unit = () => 'celsius' } = {}) {
  if (!levelAllows('operator')) {
    thumbs.clear();
    view.append(h('section', { class: 'card refused', id: 'files-refused' },
      h('h1', {}, t('files.title')), h('p', { role: 'alert' }, t('files.refused'))));
    return null;
  }
  let alive = true;
  const st = { files: [], kind: 'all', day: '', page: 0, selected: new Set() };
  const idOf = (f) => f.store + '/' + f.name;
  const error = (e) => e.status !== 401 && flash(e.message || String(e), 'error');

  const kindSel = h('select', { id: 'files-kind' },
    ...KINDS.map((k) => h('option', { value: k, 'data-i18n': 'files.kind.' + k })));
  const daySel = h('select', { id: 'files-day' });
  const count = h('span', { class: 'status', id: 'files-count' });
  const refresh = h('button', { type: 'button', id: 'files-refresh', 'data-i18n': 'files.refresh' });
  const delSel = h('button', { type: 'button', class: 'danger', id: 'files-delete-selected', disabled: true });
  const prev = h('button', { type: 'button', id: 'files-prev', 'data-i18n': 'files.prev' });
  const next = h('button', { type: 'button', id: 'files-next', 'data-i18n': 'files.next' });
  const grid = h('ul', { class: 'files-grid', id: 'files-grid' });
  const empty = h('p', { class: 'hint files-empty', id: 'files-empty', hidden: true });
  const listPart = h('div', { class: 'files-list' },
    h('div', { class: 'toolbar' },
      h('label', {}, h('span', { 'data-i18n': 'files.type' }), ' ', kindSel),
      h('label', {}, h('span', { 'data-i18n': 'files.day' }), ' ', daySel),
      refresh, delSel, count),
    empty, grid,
    h('nav', { class: 'files-pager', 'aria-label': t('files.pages') }, prev, h('span', { id: 'files-pageno' }), next));
  const viewerPart = h('div', { class: 'files-viewer', hidden: true });
  const section = h('section', { class: 'files', id: 'files' }, listPart, viewerPart);
  view.append(section);
  applyI18n(section);

  // ---- thumbnails of the cards on screen, THUMB_AT_ONCE downloads at a time
  // (the device serves the page too)
  const waiting = [];
  let fetching = 0;
  function nextThumb() {
    while (fetching < THUMB_AT_ONCE && waiting.length) {
      const li = waiting.shift();
      if (!li.isConnected)
        continue;
      fetching++;
      loadThumb(li).finally(() => { fetching--; nextThumb(); });
    }
  }
  const observer = new IntersectionObserver((entries) => {
    for (const e of entries)
      if (e.isIntersecting) {
        observer.unobserve(e.target);
        waiting.push(e.target);
      }
    nextThumb();
  }, { rootMargin: '200px' });
  function showThumb(li, th) {
    const im = li.querySelector('img.thumb-img');
    im.src = th.url;
    im.hidden = false;
    li.querySelector('.thumb-wait').hidden = true;
    li.dataset.radiometric = th.radiometric;
    li.querySelector('.badge').textContent = t(th.radiometric ? 'files.radiometric' : /\.bmp$/i.test(li.file.name) ? 'files.bmp' : 'files.picture');
  }
  async function loadThumb(li) {
    const f = li.file, key = `${f.name}|${f.size}|${f.time}`;
    if (thumbs.has(key))
      return showThumb(li, thumbs.get(key));
    try {
      const path = '/api/v1/captures/' + encodeURIComponent(f.name);
      const [pic, head] = await Promise.all([fetch(path + '/thumbnail', { credentials: 'same-origin' }),
        fetch(path, { credentials: 'same-origin', headers: { Range: `bytes=0-${Math.max(0, Math.min(16383, f.size - 1))}` } })]);
      if (!pic.ok || !head.ok)
        throw new Error('HTTP ' + (pic.ok ? head.status : pic.status));
      const th = { url: await dataUrl(await pic.blob()), radiometric: isRadiometric(new Uint8Array(await head.arrayBuffer())) };
      thumbs.delete(key);
      thumbs.set(key, th);
      while (thumbs.size > THUMB_MAX)
        thumbs.delete(thumbs.keys().next().value);
      if (alive)
        showThumb(li, th);
    } catch {
      if (alive)
        li.querySelector('.thumb-wait').textContent = t('files.noThumb');
    }
  }

  function card(f) {
    const path = (f.store === 'recordings' ? 'recordings/' : 'captures/') + encodeURIComponent(f.name);
    const kind = kindOf(f), tag = triggerOf(f.name);
    const when = new Date(f.time);
    const li = h('li', { class: 'file-card ' + kind, dataset: { name: f.name, store: f.store } });
    li.file = f;
    let pic;
    if (f.store === 'recordings') {
      pic = h('div', { class: 'thumb video', 'aria-hidden': 'true' }, h('span', { class: 'film' }, '▶'), h('span', {}, t('files.video')));
    } else {
      pic = h('div', { class: 'thumb' },
        h('img', { class: 'thumb-img', alt: '', hidden: true, draggable: 'false' }),
        h('span', { class: 'thumb-wait' }, '…'));
    }
    const dl = h('a', { class: 'button', href: '/api/v1/' + path, download: f.name, 'data-act': 'download' }, t('files.download'));
    const del = h('button', { type: 'button', class: 'danger', 'data-act': 'delete' }, t('files.delete'));
    del.addEventListener('click', () => remove(f));
    const open = h('button', { type: 'button', 'data-act': 'open' },
      t(f.store === 'recordings' ? 'files.play' : 'files.open'));
    open.addEventListener('click', () => (f.store === 'recordings' ? play(f) : openViewer(f)));
    li.append(pic,
      h('div', { class: 'meta' },
        h('span', { class: 'fname', title: f.name }, f.name),
        h('span', { class: 'badge' }, f.store === 'recordings' ? t('files.recording') : ''),
        h('span', { class: 'trigger' }, f.store === 'recordings' ? '' : kind === 'event' ? t('files.trigger.event', { tag }) : t('files.trigger.' + kind)),
        h('span', { class: 'size' }, formatSize(f.size)),
        h('time', { datetime: f.time }, when.toLocaleString(document.documentElement.lang))),
      h('div', { class: 'buttons' }, open, dl, del,
        h('label', { class: 'pick' }, h('input', { type: 'checkbox', 'data-act': 'select', checked: st.selected.has(idOf(f)) }),
          ' ', t('files.select'))));
    li.querySelector('[data-act="select"]').addEventListener('change', (ev) => {
      if (ev.target.checked)
        st.selected.add(idOf(f));
      else
        st.selected.delete(idOf(f));
      showSelected();
    });
    return li;
  }

  function showSelected() {
    delSel.textContent = t('files.deleteSelected', { n: st.selected.size });
    delSel.disabled = st.selected.size === 0;
  }

  function render() {
    const ids = new Set(st.files.map(idOf));
    for (const id of st.selected)
      if (!ids.has(id))
        st.selected.delete(id);
    showSelected();
    const days = new Map();
    for (const f of st.files)
      days.set(dayOf(f.time), (days.get(dayOf(f.time)) || 0) + 1);
    if (st.day && !days.has(st.day))
      st.day = '';
    daySel.replaceChildren(h('option', { value: '' }, t('files.allDays')),
      ...[...days].sort((a, b) => b[0].localeCompare(a[0])).map(([d, n]) => h('option', { value: d }, `${d} (${n})`)));
    daySel.value = st.day;
    const list = filterFiles(st.files, st.kind, st.day);
    const pages = Math.max(1, Math.ceil(list.length / PAGE));
    st.page = Math.min(st.page, pages - 1);
    const shown = list.slice(st.page * PAGE, (st.page + 1) * PAGE);
    observer.disconnect();
    waiting.length = 0;
    grid.replaceChildren(...shown.map(card));
    for (const li of grid.children)
      if (li.dataset.store === 'captures')
        observer.observe(li);
    count.textContent = t('files.count', { n: list.length, total: st.files.length });
    empty.hidden = list.length > 0;
    empty.textContent = t(st.files.length ? 'files.noneMatch' : 'files.none');
    document.getElementById('files-pageno').textContent = t('files.page', { n: st.page + 1, of: pages });
    prev.disabled = st.page === 0;
    next.disabled = st.page >= pages - 1;
  }

  // the list, and again every POLL_MS while the page is open (timed and event
  // captures, a recording growing): redrawn only when it changed
  let seenList = '', pollTimer = 0, loading = null;
  const load = () => (loading ||= fetchList().finally(() => { loading = null; }));
  // the list as it is now (not an answer already on its way)
  const reload = async () => {
    await loading;
    return load();
  };
  async function fetchList() {
    clearTimeout(pollTimer);
    try {
      const [caps, recs] = await Promise.all([api('GET', 'captures'), api('GET', 'recordings')]);
      if (!alive)
        return;
      const files = [...caps.map((f) => ({ ...f, store: 'captures' })), ...recs.map((f) => ({ ...f, store: 'recordings' }))]
        .sort((a, b) => b.time.localeCompare(a.time) || b.name.localeCompare(a.name));
      const sig = files.map((f) => `${f.name}|${f.size}|${f.time}`).join('\n');
      if (sig !== seenList) {
        seenList = sig;
        st.files = files;
        render();
      }
    } catch (e) {
      error(e);
    }
    clearTimeout(pollTimer);
    if (alive)
      pollTimer = setTimeout(load, POLL_MS);
  }

  async function remove(f) {
    if (!await confirmDialog(t('files.confirmDelete', { name: f.name }), t('files.delete')))
      return;
    try {
      await api('DELETE', (f.store === 'recordings' ? 'recordings/' : 'captures/') + encodeURIComponent(f.name));
      flash(t('files.deleted', { name: f.name }), 'info', 2500);
    } catch (e) {
      error(e);
    }
    await reload();
  }

  async function removeSelected() {
    const chosen = st.files.filter((f) => st.selected.has(idOf(f)));
    if (!chosen.length || !await confirmDialog(t('files.confirmDeleteSelected', { n: chosen.length }), t('files.delete')))
      return;
    let done = 0;
    for (const f of chosen) {
      try {
        await api('DELETE', (f.store === 'recordings' ? 'recordings/' : 'captures/') + encodeURIComponent(f.name));
        st.selected.delete(idOf(f));
        done++;
      } catch (e) {
        error(e);
        break;
      }
    }
    if (done)
      flash(t('files.deletedN', { n: done }), 'info', 2500);
    await reload();
  }

  function play(f) {
    const video = h('video', { controls: true, autoplay: true, src: '/api/v1/recordings/' + encodeURIComponent(f.name) });
    const close = h('button', { type: 'button' }, t('common.close'));
    const dlg = h('dialog', { class: 'player', 'aria-label': f.name }, h('p', {}, f.name), video, h('div', { class: 'buttons' }, close));
    const end = () => { video.pause(); video.removeAttribute('src'); video.load(); dlg.close(); dlg.remove(); };
    close.addEventListener('click', end);
    dlg.addEventListener('cancel', end);
    document.body.append(dlg);
    dlg.showModal();
  }

  let closeViewer = null;
  async function openViewer(f) {
    try {
      const [bytes, th] = await Promise.all([api('GET', 'captures/' + encodeURIComponent(f.name)),
        api('GET', 'config/thermometry').catch(() => null)]);
      const buf = await bytes.arrayBuffer();
      if (!alive)
        return;
      listPart.hidden = true;
      viewerPart.hidden = false;
      closeViewer = renderViewer(viewerPart, {
        name: f.name, bytes: buf, unit: th?.unit || unit(),
        back: () => {
          closeViewer?.();
          closeViewer = null;
          viewerPart.replaceChildren();
          viewerPart.hidden = true;
          listPart.hidden = false;
        },
      });
    } catch (e) {
      error(e);
    }
  }

  kindSel.addEventListener('change', () => { st.kind = kindSel.value; st.page = 0; render(); });
  daySel.addEventListener('change', () => { st.day = daySel.value; st.page = 0; render(); });
  refresh.addEventListener('click', reload);
  delSel.addEventListener('click', removeSelected);
  prev.addEventListener('click', () => { st.page--; render(); });
  next.addEventListener('click', () => { st.page++; render(); });
  const relabel = () => render();
  window.addEventListener('langchange', relabel);
  load();
  return () => {
    window.removeEventListener('langchange', relabel);
    alive = false;
    clearTimeout(pollTimer);
    observer.disconnect();
    closeViewer?.();
  };
}
