// Maintenance (manual 10): device information, diagnostics download, reboot,
// restore, factory default (each confirmed, with what it keeps), and the
// configuration's export and import with a password.
import { api } from './api.js';
import { t } from './i18n.js';
import { flash } from './ui.js';
import { levelAllows } from './level.js';
import { strengthMeter } from './maint-users.js';
import { pageFrom, confirmDialog, showError, facts, formatUptime, download, send } from './maint-common.js';
import { setupUpgrade } from './maint-upgrade.js';

const MAX_IMPORT = 8 * 1024 * 1024;

export function renderMaintenance(view, { done }) {
  const page = pageFrom(view, 'maint-system');
  const infoEl = page.querySelector('#dev-info');
  let timer = 0;
  let uptimeAt = 0, uptime = 0, dev = null, diag = null;

  function showInfo() {
    if (!dev)
      return;
    const up = uptime + (performance.now() - uptimeAt) / 1000;
    facts(infoEl, [
      ['maint.deviceName', dev.device_name],
      ['maint.deviceNumber', dev.device_number],
      ['maint.model', dev.model],
      ['maint.serial', dev.serial_number],
      ['maint.firmware', `${dev.firmware_version} (${dev.firmware_build})`],
      ['maint.gstreamer', dev.gstreamer],
      ['maint.sensor', dev.sensor && `${dev.sensor.width} × ${dev.sensor.height}, ${dev.sensor.frame_rate} fps`],
      ['maint.io', t('maint.ioCount', { inputs: dev.alarm_inputs, outputs: dev.alarm_outputs })],
      ['maint.uptime', formatUptime(up)],
      ['maint.restarts', diag?.reboots],
      ['maint.cpu', diag?.cpu_seconds !== undefined ? diag.cpu_seconds.toFixed(1) + ' s' : undefined],
      ['maint.auditLost', diag?.audit ? String(diag.audit.lost) : undefined],
    ]);
  }

  async function load() {
    try {
      dev = await api('GET', 'device');
      diag = await api('GET', 'system/diagnostics').catch(() => null);
      uptime = dev.uptime_seconds;
      uptimeAt = performance.now();
      showInfo();
    } catch (e) {
      flash(e.message, 'error');
    }
  }

  // after a reboot: the device answers again
  async function waitBack() {
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      try {
        await api('GET', 'device', undefined, { quiet: true });
        flash(t('maint.back'));
        return load();
      } catch (e) {
        if (e.status === 401)
          return done('login');
      }
    }
    flash(t('maint.notBack'), 'error');
  }

  // the diagnose information: one tar archive (log, system, pipeline graph, counters)
  page.querySelector('#diag-download').addEventListener('click', async () => {
    try {
      await download('GET', 'system/diagnostics/archive', undefined, 'thermocam-diagnose.tar');
    } catch (e) {
      flash(e.message, 'error');
    }
  });

  page.querySelector('#reboot').addEventListener('click', async () => {
    if (!await confirmDialog(t('maint.rebootTitle'), t('maint.rebootText'), t('maint.reboot')))
      return;
    try {
      await api('POST', 'system/reboot');
      flash(t('maint.rebooting'), 'info', 10000);
      waitBack();
    } catch (e) {
      flash(e.message, 'error');
    }
  });

  page.querySelector('#restore').addEventListener('click', async () => {
    if (!await confirmDialog(t('maint.restoreTitle'), t('maint.restoreText'), t('maint.restore'), true))
      return;
    try {
      await api('POST', 'system/restore');
      flash(t('maint.restored'));
      load();
    } catch (e) {
      flash(e.message, 'error');
    }
  });

  page.querySelector('#factory')?.addEventListener('click', async () => {
    if (!await confirmDialog(t('maint.defaultTitle'), t('maint.defaultText'), t('maint.default'), true))
      return;
    try {
      await api('POST', 'system/default');
      done('activate');
    } catch (e) {
      flash(e.message, 'error');
    }
  });

  const exp = page.querySelector('#export-form');
  if (exp) {
    const err = page.querySelector('#exp-error');
    const meter = strengthMeter(exp.elements.password, page.querySelector('#exp-bar'), page.querySelector('#exp-strength'));
    exp.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      showError(exp, err, null);
      const s = meter();
      if (!s.ok)
        return showError(exp, err, { message: t('activate.weak') + (s.why ? ' (' + t(s.why, { kinds: s.kinds }) + ')' : ''), field: 'password' });
      if (exp.elements.password.value !== exp.elements.confirm.value)
        return showError(exp, err, { message: t('activate.mismatch'), field: 'confirm' });
      try {
        await download('POST', 'system/config-export', JSON.stringify({ password: exp.elements.password.value }),
          'thermocam-configuration.bin');
        flash(t('maint.exported'));
        exp.reset();
        meter();
      } catch (e) {
        showError(exp, err, e);
      }
    });
  }

  const imp = page.querySelector('#import-form');
  if (imp) {
    const err = page.querySelector('#imp-error');
    imp.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      showError(imp, err, null);
      const file = imp.elements.file.files[0];
      if (!file)
        return showError(imp, err, { message: t('maint.noFile'), field: 'file' });
      if (file.size > MAX_IMPORT)
        return showError(imp, err, { message: t('maint.tooBig'), field: 'file' });
      if (!imp.elements.password.value)
        return showError(imp, err, { message: t('maint.needPassword'), field: 'password' });
      if (!await confirmDialog(t('maint.importTitle'), t('maint.importText'), t('maint.importGo'), true))
        return;
      const fd = new FormData();
      fd.append('file', file, file.name);
      fd.append('password', imp.elements.password.value);
      const go = page.querySelector('#imp-go');
      go.disabled = true;
      try {
        await send('POST', 'system/config-import', fd);
        // every session ends with an import: log in again
        done('login', 'maint.imported');
      } catch (e) {
        const wrong = e.field === 'password';
        showError(imp, err, wrong ? { message: t('maint.wrongPassword') + ' (' + e.message + ')', field: 'password' } : e);
      } finally {
        go.disabled = false;
      }
    });
  }

  setupUpgrade(page, { waitBack });

  timer = setInterval(() => {
    const dd = infoEl.querySelector('dd[data-key="maint.uptime"]');
    if (dd)
      dd.textContent = formatUptime(uptime + (performance.now() - uptimeAt) / 1000);
  }, 1000);
  load();
  if (!levelAllows('administrator'))
    page.querySelector('#factory')?.remove();
  window.addEventListener('langchange', showInfo);
  return () => {
    clearInterval(timer);
    window.removeEventListener('langchange', showInfo);
  };
}
