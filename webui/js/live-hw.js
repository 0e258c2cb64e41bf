// The live view's controls of the hardware a camera body may have (manual
// 6.1.8 zoom, focus and iris, 6.1.9 light, 6.1.10 wiper, 6.1.11 lens
// initialization, 6.1.12 auxiliary focus): shown only for what GET /device
// says is present (nothing on this appliance unless the hardware backend
// simulates it), for operators. Zoom, focus and iris move while their button
// is held; the light is its setting (hardware.light.enabled).
import { api } from './api.js';
import { t } from './i18n.js';
import { h } from './ui.js';

export function hardwareControls(toolbar, device, { info, error }) {
  const present = device?.hardware || {};
  if (!Object.values(present).some((v) => v))
    return;
  const box = h('span', { class: 'hw-tools', role: 'group', 'aria-label': t('hw.controls') });
  const post = (fn, action) => api('POST', `hardware/${fn}/${action}`).catch(error);
  // a move while held: its action on press, its stop on release
  const hold = (fn, action, stop) => {
    const b = h('button', { type: 'button', dataset: { hw: `${fn}.${action}` } }, t('hw.' + action));
    let moving = false;
    const end = () => {
      if (moving) {
        moving = false;
        post(fn, stop);
      }
    };
    b.addEventListener('pointerdown', (e) => {
      if (e.button !== 0)
        return;
      moving = true;
      post(fn, action);
    });
    for (const ev of ['pointerup', 'pointerleave', 'pointercancel', 'blur'])
      b.addEventListener(ev, end);
    // the keyboard: one press starts, the next stops
    b.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' && e.key !== ' ')
        return;
      e.preventDefault();
      if (moving)
        end();
      else {
        moving = true;
        post(fn, action);
      }
    });
    return b;
  };
  const once = (fn, action, done) => h('button', { type: 'button', dataset: { hw: `${fn}.${action}` },
    onclick: () => api('POST', `hardware/${fn}/${action}`).then(() => info(t(done))).catch(error) }, t('hw.' + action));
  if (present.lens)
    box.append(hold('lens', 'zoom_in', 'zoom_stop'), hold('lens', 'zoom_out', 'zoom_stop'),
      hold('lens', 'iris_open', 'iris_stop'), hold('lens', 'iris_close', 'iris_stop'),
      once('lens', 'init', 'hw.initStarted'));
  if (present.focus)
    box.append(hold('focus', 'near', 'stop'), hold('focus', 'far', 'stop'), once('focus', 'auto', 'hw.autoStarted'));
  if (present.wiper)
    box.append(once('wiper', 'once', 'hw.wipeStarted'));
  if (present.light) {
    const light = h('button', { type: 'button', 'aria-pressed': 'false', dataset: { hw: 'light' } }, t('hw.light'));
    const show = (on) => light.setAttribute('aria-pressed', String(!!on));
    api('GET', 'config/hardware').then((c) => show(c.light?.enabled)).catch(() => {});
    light.addEventListener('click', async () => {
      try {
        const c = await api('PUT', 'config/hardware', { light: { enabled: light.getAttribute('aria-pressed') !== 'true' } });
        show(c.light?.enabled);
      } catch (e) {
        error(e);
      }
    });
    box.append(light);
  }
  toolbar.insertBefore(box, toolbar.querySelector('.status'));
}
