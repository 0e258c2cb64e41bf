// Maintenance (manual 10.6): the running version, the last upgrade, and an
// upgrade with a signed package: sent, checked and
// installed by the device, which restarts into it (or rolls back by itself).
import { api, request } from './api.js';
import { t } from './i18n.js';
import { flash } from './ui.js';
import { confirmDialog, showError, facts } from './maint-common.js';

// POST the package (the answer comes once it is checked and installed)
async function upload(file, force) {
  const r = await request('POST', 'system/upgrade' + (force ? '?force=true' : ''), file,
    { contentType: 'application/octet-stream' });
  return r.json();
}

export function setupUpgrade(page, { waitBack }) {
  const form = page.querySelector('#upgrade-form');
  if (!form)
    return;
  const info = page.querySelector('#upgrade-info');
  const err = page.querySelector('#upg-error');
  const status = page.querySelector('#upg-status');

  function describe(last) {
    if (!last)
      return t('maint.upgradeNone');
    const key = 'maint.upgradeState.' + last.state;
    const s = t(key, { version: last.version, message: last.message || '' });
    return s === key ? `${last.version}: ${last.state}` : s;
  }

  async function load() {
    try {
      const u = await api('GET', 'system/upgrade');
      facts(info, [['maint.upgradeVersion', u.version], ['maint.upgradeLast', describe(u.last)]]);
      return u;
    } catch (e) {
      return null;
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError(form, err, null);
    const file = form.elements.file.files[0];
    if (!file)
      return showError(form, err, { message: t('maint.noFile'), field: 'file' });
    if (!await confirmDialog(t('maint.upgradeTitle'), t('maint.upgradeText'), t('maint.upgradeGo'), true))
      return;
    const go = page.querySelector('#upg-go');
    go.disabled = true;
    try {
      status.textContent = t('maint.upgradeChecking');
      const r = await upload(file, form.elements.force.checked);
      status.textContent = t('maint.upgradeInstalled', { version: r.version });
      flash(status.textContent, 'info', 10000);
      form.reset();
      await waitBack();
      const u = await load();
      if (u?.last?.state === 'rolled_back')
        flash(t('maint.upgradeRolledBack', { version: u.version }), 'error', 15000);
      else if (u)
        status.textContent = t('maint.upgradeDone', { version: u.version });
    } catch (e) {
      status.textContent = '';
      showError(form, err, e.field ? e : { message: e.message, field: 'file' });
    } finally {
      go.disabled = false;
    }
  });
  load();
}
