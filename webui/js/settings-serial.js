// The widgets of the RS-232 page (manual 10.9: the port's state and counters,
// GET /serial) and of the hardware page (manual 6.1.8-6.1.12, 7.2.9: what the
// device has, each function's state, its actions, GET /hardware and POST
// /hardware/{function}/{action}).
import { api } from './api.js';
import { t } from './i18n.js';
import { h } from './ui.js';
import { valueLabel } from './form.js';

const alive = (ctx, el) => { if (ctx.alive) ctx.body.append(el); return el; };

const row = (name, value) => [h('dt', {}, name), h('dd', {}, String(value))];

export const SERIAL_EXTRAS = {
  async serialState(ctx) {
    const box = alive(ctx, h('dl', { class: 'about-list serial-state', role: 'status', 'aria-live': 'polite' }));
    const show = (st) => {
      const ch = st.channel || {};
      box.replaceChildren(
        ...row(t('serial.state'), st.open ? t('serial.open') : (st.device ? t('serial.closed') : t('serial.noDevice'))),
        ...(st.error ? row(t('serial.error'), st.error) : []),
        ...row(t('serial.settings'), st.line || st.settings),
        ...row(t('serial.bytes'), t('serial.inOut', { i: st.bytes_in, o: st.bytes_out, d: st.dropped })),
        ...(st.use === 'console' ? row(t('serial.console'), st.console?.user || t('serial.noLogin'))
          : row(t('serial.channel'), ch.port ? t('serial.port', { port: ch.port }) + (ch.client
            ? ` – ${ch.client.address}${ch.client.user ? ` (${ch.client.user})` : ''}` : '') : t('serial.notListening'))));
    };
    const refresh = () => api('GET', 'serial').then(show).catch(() => {});
    show(await api('GET', 'serial'));
    alive(ctx, h('button', { type: 'button', class: 'refresh', onclick: refresh }, t('serial.refresh')));
    const form = ctx.forms[0];
    const save = form.save;
    form.save = async (patch) => {
      const r = await save(patch);
      refresh();
      return r;
    };
  },

  async hardware(ctx) {
    const box = alive(ctx, h('div', { class: 'hw-state' }));
    const out = h('p', { class: 'test-result', role: 'status', 'aria-live': 'polite' });
    // after an action, the state is read again while something moves (at most 20 s)
    let polls = 0;
    const moving = (st) => ['lens', 'focus', 'wiper'].some((fn) => st[fn] && (st[fn].zooming || st[fn].iris_moving
      || st[fn].moving || st[fn].initializing || st[fn].auto_focusing || st[fn].wiping));
    const follow = () => setTimeout(() => {
      if (!ctx.alive)
        return;
      api('GET', 'hardware').then((st) => {
        if (!box.contains(document.activeElement))
          show(st);
        if (moving(st) && ++polls < 40)
          follow();
      }).catch(() => {});
    }, 500);
    const act = (fn, action) => async () => {
      out.className = 'test-result';
      out.textContent = '';
      try {
        const st = await api('POST', `hardware/${fn}/${action}`);
        show(st);
        polls = 0;
        if (moving(st))
          follow();
      } catch (e) {
        out.textContent = e.message;
        out.classList.add('failed');
      }
    };
    const state = (fn, st) => {
      if (!st)
        return t('hw.absent');
      return Object.entries(st).map(([k, v]) => `${k.replace(/_/g, ' ')}: ${v === null ? '–' : valueLabel(v)}`).join(', ');
    };
    const show = (st) => {
      box.replaceChildren(h('p', { class: 'hint' }, `${t('hw.backend')}: ${st.backend}${st.simulated && st.backend !== 'simulated' ? ` (${t('hw.simulated')})` : ''}`),
        ...Object.keys(st.present).map((fn) => h('div', { class: 'hw-function', dataset: { hw: fn } },
          h('h3', {}, t('hw.' + fn)),
          h('p', { class: 'hw-present' }, st.present[fn] ? state(fn, st[fn]) : t('hw.absent')),
          ...(st.actions[fn].length ? [h('div', { class: 'hw-actions' }, ...st.actions[fn].map((a) =>
            h('button', { type: 'button', dataset: { action: a }, onclick: act(fn, a) }, t('hw.' + a))))] : []))),
        out);
    };
    show(await api('GET', 'hardware'));
    const form = ctx.forms[0];
    const save = form.save;
    form.save = async (patch) => {
      const r = await save(patch);
      api('GET', 'hardware').then(show).catch(() => {});
      return r;
    };
  },
};
