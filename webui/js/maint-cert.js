// The HTTPS certificate (manual 10.12.5): the installed one, a self-signed
// one made, a request (CSR) made and downloaded, a signed one installed.
import { api } from './api.js';
import { t } from './i18n.js';
import { flash } from './ui.js';
import { pageFrom, confirmDialog, showError, facts, formatTime, saveBlob, send, download } from './maint-common.js';

const MAX_PEM = 64 * 1024;
const TEXT_RE = /^[\x20-\x7e]{0,64}$/;
const HOST_RE = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function hostOk(s) {
  const m = IPV4_RE.exec(s);
  if (m)
    return m.slice(1).every((n) => Number(n) <= 255);
  return s.includes(':') ? /^[0-9A-Fa-f:.]+$/.test(s) : HOST_RE.test(s);
}

// the parameters of the form, checked as the device checks them
// (core/tcd-certs-make.c): an object, or {error, field}
function params(form, needDays) {
  const el = form.elements;
  const p = { country: el.country.value.trim(), host: el.host.value.trim() };
  if (!/^[A-Za-z]{2}$/.test(p.country))
    return { error: t('cert.badCountry'), field: 'country' };
  if (!hostOk(p.host))
    return { error: t('cert.badHost'), field: 'host' };
  for (const f of ['organization', 'state', 'locality', 'email']) {
    const v = el[f].value.trim();
    if (!v)
      continue;
    if (!TEXT_RE.test(v) || (f === 'email' && !/^[^@\s]+@[^@\s]+$/.test(v)))
      return { error: t('cert.badText', { field: t('cert.' + f) }), field: f };
    p[f] = v;
  }
  if (needDays) {
    const d = Number(el.days.value);
    if (!Number.isInteger(d) || d < 1 || d > 3650)
      return { error: t('cert.badDays'), field: 'days' };
    p.days = d;
  }
  return p;
}

export function renderCert(view) {
  const page = pageFrom(view, 'maint-cert');
  const form = page.querySelector('#cert-form');
  const err = page.querySelector('#cert-error');
  const install = page.querySelector('#cert-install');
  const installErr = page.querySelector('#install-error');
  let info = null;

  async function load() {
    try {
      info = await api('GET', 'security/certificate');
    } catch (e) {
      info = null;
      if (e.status !== 404)
        flash(e.message, 'error');
    }
    show();
  }

  function show() {
    const has = !!info?.subject;
    page.querySelector('#cert-none').hidden = has;
    page.querySelector('#cert-download').hidden = !info?.pem;
    page.querySelector('#cert-delete').hidden = !has;
    facts(page.querySelector('#cert-info'), has ? [
      ['cert.subject', info.subject],
      ['cert.issuer', info.self_signed ? info.issuer + ' (' + t('cert.isSelfSigned') + ')' : info.issuer],
      ['cert.hosts', (info.hosts || []).join(', ')],
      ['cert.notBefore', info.not_before && formatTime(info.not_before)],
      ['cert.notAfter', info.not_after && formatTime(info.not_after)],
      ['cert.serial', info.serial],
      ['cert.sha256', info.sha256],
    ] : []);
    const req = info?.request;
    page.querySelector('#cert-request').hidden = !req;
    facts(page.querySelector('#cert-request-info'), req ? [
      ['cert.subject', req.subject], ['cert.hosts', (req.hosts || []).join(', ')]] : []);
    // the form starts from what is installed
    if (has && !form.elements.host.value) {
      const cn = /(?:^|,\s*)CN=([^,]+)/.exec(info.subject)?.[1];
      const c = /(?:^|,\s*)C=([^,]+)/.exec(info.subject)?.[1];
      if (cn)
        form.elements.host.value = cn;
      if (c)
        form.elements.country.value = c;
    }
    if (!form.elements.host.value)
      form.elements.host.value = location.hostname;
  }

  async function make(selfSigned) {
    showError(form, err, null);
    const p = params(form, selfSigned);
    if (p.error)
      return showError(form, err, { message: p.error, field: p.field });
    const buttons = form.querySelectorAll('button');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      if (selfSigned) {
        await api('POST', 'security/certificate/self-signed', p);
        flash(t('cert.madeSelf'));
      } else {
        const r = await send('POST', 'security/certificate/request', JSON.stringify(p), 'application/json');
        saveBlob(await r.blob(), 'thermocam.csr');
        flash(t('cert.madeCsr'));
      }
      await load();
    } catch (e) {
      showError(form, err, e);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  page.querySelector('#cert-self').addEventListener('click', () => make(true));
  page.querySelector('#cert-csr').addEventListener('click', () => make(false));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); make(true); });
  page.querySelector('#csr-download').addEventListener('click', async () => {
    try {
      await download('GET', 'security/certificate/request', undefined, 'thermocam.csr');
    } catch (e) {
      flash(e.message, 'error');
    }
  });
  page.querySelector('#cert-download').addEventListener('click', () => {
    if (info?.pem)
      saveBlob(new Blob([info.pem], { type: 'application/x-pem-file' }), 'thermocam.crt');
  });
  page.querySelector('#cert-delete').addEventListener('click', async () => {
    if (!await confirmDialog(t('cert.deleteTitle'), t('cert.deleteText'), t('cert.delete'), true))
      return;
    try {
      await api('DELETE', 'security/certificate');
      flash(t('cert.deleted'));
    } catch (e) {
      flash(e.message, 'error');
    }
    load();
  });
  install.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError(install, installErr, null);
    const file = install.elements.file.files[0];
    if (!file)
      return showError(install, installErr, { message: t('cert.noFile'), field: 'file' });
    if (file.size > MAX_PEM)
      return showError(install, installErr, { message: t('cert.tooBig'), field: 'file' });
    const text = await file.text();
    if (!text.includes('-----BEGIN CERTIFICATE-----'))
      return showError(install, installErr, { message: t('cert.notPem'), field: 'file' });
    try {
      await send('PUT', 'security/certificate', text, 'application/x-pem-file');
      flash(t('cert.installedOk'));
      install.reset();
      await load();
    } catch (e) {
      showError(install, installErr, e, { certificate: 'file' });
    }
  });
  window.addEventListener('langchange', show);
  load();
  return () => window.removeEventListener('langchange', show);
}
