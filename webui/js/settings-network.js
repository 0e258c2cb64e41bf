// The network pages' widgets (manual 9.1, 9.5): what the network backend
// holds, the confirmation a change of the IP settings waits for (it is
// rolled back by itself after the time set), the test of an address, the
// state of DDNS with an update now, and the certificate store the 802.1X
// settings name their certificates from (manual 10.12.7).
import { api } from './api.js';
import { t } from './i18n.js';
import { h } from './ui.js';

const status = () => h('p', { class: 'test-result', role: 'status', 'aria-live': 'polite' });
const alive = (ctx, el) => { if (ctx.alive) ctx.body.append(el); return el; };

// polls @fn every @ms while the page is open
function every(ctx, ms, fn) {
  const id = setInterval(() => { if (ctx.alive) fn(); }, ms);
  ctx.cleanups.push(() => clearInterval(id));
}

export const NETWORK_EXTRAS = {
  async network(ctx) {
    const backend = h('p', { class: 'hint' });
    const pending = h('div', { class: 'net-pending', role: 'alert', hidden: true });
    const show = (st) => {
      backend.textContent = `${t('net.backend')}: ${st.backend}${st.simulated ? ` (${t('net.simulated')})` : ''}`
        + (st.error ? ` – ${st.error}` : '');
      pending.hidden = !st.pending;
      if (st.pending) {
        const btn = h('button', { type: 'button', class: 'primary' }, t('net.confirm'));
        btn.addEventListener('click', async () => {
          btn.disabled = true;
          try {
            show(await api('POST', 'network/confirm'));
          } catch (e) {
            pending.append(h('span', { class: 'error' }, ` ${e.message}`));
          }
        });
        pending.replaceChildren(h('span', {}, t('net.pending', { s: st.pending.seconds_left })), ' ', btn);
      }
    };
    const refresh = () => api('GET', 'network/status').then(show).catch(() => {});
    show(await api('GET', 'network/status'));
    every(ctx, 1000, refresh);
    // a saved change shows its countdown at once
    const form = ctx.forms[0];
    const save = form.save;
    form.save = async (patch) => {
      const r = await save(patch);
      refresh();
      return r;
    };
    // manual 9.1: Test whether the address is free
    const out = status();
    const test = h('button', { type: 'button', class: 'test' }, t('net.testAddress'));
    test.addEventListener('click', async () => {
      const address = form.cur?.ipv4?.address || '';
      test.disabled = true;
      out.className = 'test-result';
      out.textContent = t('set.testing');
      try {
        const r = await api('POST', 'network/test-address', { address });
        out.textContent = `${address}: ${r.free ? t('net.free') : t('net.inUse')} (${r.detail})`;
        out.classList.add(r.free ? 'ok' : 'failed');
      } catch (e) {
        out.textContent = `${t('set.testFailed')}: ${e.message}`;
        out.classList.add('failed');
      } finally {
        test.disabled = false;
      }
    });
    alive(ctx, h('fieldset', { class: 'set-group' }, h('legend', {}, t('net.state')),
      backend, pending, h('div', { class: 'buttons' }, test), out));
  },

  // the certificate store (GET/POST /security/certificates, DELETE .../{name}):
  // the names network.ieee8021x.ca_certificate and client_certificate take
  async certstore(ctx) {
    const body = h('tbody');
    const out = status();
    const fail = (e) => { out.textContent = `${t('form.failed')}: ${e.message}`; out.className = 'test-result failed'; };
    const show = (j) => body.replaceChildren(...(j.certificates.length ? j.certificates.map((c) => {
      const del = h('button', { type: 'button', class: 'danger', 'aria-label': `${t('net.certs.delete')} ${c.name}` }, t('net.certs.delete'));
      del.addEventListener('click', async () => {
        try {
          await api('DELETE', 'security/certificates/' + encodeURIComponent(c.name));
          out.textContent = '';
          show(await api('GET', 'security/certificates'));
        } catch (e) {
          fail(e);
        }
      });
      return h('tr', { dataset: { cert: c.name } }, h('td', {}, c.name), h('td', {}, t('net.certs.kind.' + c.kind)),
        h('td', {}, c.subject), h('td', {}, (c.not_after || '').slice(0, 10) + (c.expired ? ` (${t('net.certs.expired')})` : '')),
        h('td', {}, del));
    }) : [h('tr', {}, h('td', { colspan: 5 }, t('net.certs.none')))]));
    const name = h('input', { id: 'cert-name', type: 'text', maxlength: 32, pattern: '[A-Za-z0-9][A-Za-z0-9_\\-]{0,31}', required: true });
    const kind = h('select', { id: 'cert-kind' }, h('option', { value: 'ca' }, t('net.certs.kind.ca')),
      h('option', { value: 'client' }, t('net.certs.kind.client')));
    const file = h('input', { id: 'cert-file', type: 'file', accept: '.pem,.crt,.cer,.key,application/x-pem-file' });
    const add = h('button', { type: 'button', id: 'cert-add', class: 'primary' }, t('net.certs.add'));
    add.addEventListener('click', async () => {
      const f = file.files[0];
      if (!name.reportValidity())
        return;
      if (!f) {
        out.textContent = t('net.certs.pickFile');
        return;
      }
      try {
        await api('POST', 'security/certificates', { name: name.value, kind: kind.value, pem: await f.text() });
        out.textContent = t('set.uploaded');
        out.className = 'test-result ok';
        name.value = '';
        file.value = '';
        show(await api('GET', 'security/certificates'));
      } catch (e) {
        fail(e);
      }
    });
    show(await api('GET', 'security/certificates'));
    const field = (el, key) => h('div', { class: 'form-field' }, h('label', { for: el.id }, t(key)), el);
    alive(ctx, h('fieldset', { class: 'set-group cert-store' }, h('legend', {}, t('net.certs.title')),
      h('p', { class: 'hint' }, t('net.certs.hint')),
      h('table', { class: 'set-table' }, h('thead', {}, h('tr', {}, ...['name', 'kind', 'subject', 'until', 'action']
        .map((k) => h('th', {}, t('net.certs.col.' + k))))), body),
      field(name, 'net.certs.name'), field(kind, 'net.certs.kindLabel'), field(file, 'net.certs.file'),
      h('div', { class: 'buttons' }, add), out));
  },

  async ddns(ctx) {
    const body = h('tbody');
    const row = (k, v) => h('tr', {}, h('th', {}, t('net.ddns.' + k)), h('td', {}, v == null ? '–' : String(v)));
    const show = (st) => {
      const d = st.ddns || {};
      body.replaceChildren(row('state', d.state), row('answer', d.answer), row('address', d.address),
        row('last_update', d.last_update), row('next_update', d.next_update));
    };
    const refresh = () => api('GET', 'network/status').then(show).catch(() => {});
    show(await api('GET', 'network/status'));
    every(ctx, 3000, refresh);
    const out = status();
    const btn = h('button', { type: 'button', class: 'test' }, t('net.ddns.update'));
    btn.addEventListener('click', async () => {
      out.textContent = '';
      try {
        show(await api('POST', 'network/ddns/update'));
        setTimeout(refresh, 1500);
      } catch (e) {
        out.textContent = e.message;
        out.className = 'test-result failed';
      }
    });
    alive(ctx, h('fieldset', { class: 'set-group' }, h('legend', {}, t('net.ddns.title')),
      h('table', { class: 'set-table' }, body), h('div', { class: 'buttons' }, btn), out));
  },
};
