// The system pages' widgets: the device's clock (manual 10.8: the time now,
// set by hand or to this computer's, the NTP Test with its offset and
// stratum), the device information (10.1, 3.1 Version) and the open source
// licenses (10.7); and the emissivity table of manual 11.1 (GET /materials)
// offered wherever an emissivity is chosen.
import { api } from './api.js';
import { t } from './i18n.js';
import { h } from './ui.js';
import { label } from './form.js';

const status = () => h('p', { class: 'test-result', role: 'status', 'aria-live': 'polite' });

// ---- the emissivity table ----

let materials = null;

// GET /materials, once
export function loadMaterials() {
  if (!materials)
    materials = api('GET', 'materials', undefined, { quiet: true }).then((j) => j.materials).catch((e) => { materials = null; throw e; });
  return materials;
}

// a select of the materials: picking one puts its emissivity in @input
// (or in the element of id @inputId) and tells @onPick; its options come when
// the table has loaded
export function materialPicker(input, onPick, inputId) {
  const id = (inputId || input.id || 'emissivity') + '-mat';
  const sel = h('select', { id, class: 'material-pick' }, h('option', { value: '' }, t('set.pickMaterial')));
  loadMaterials().then((list) => {
    for (const m of list)
      sel.append(h('option', { value: String(m.emissivity), dataset: { material: m.id } },
        `${label('mat.' + m.id, m.name)} (${m.emissivity.toFixed(2)})`));
  }).catch(() => { sel.disabled = true; });
  sel.addEventListener('change', () => {
    if (!sel.value)
      return;
    // the viewer's input is made after the picker: found by its id
    if (!input)
      input = document.getElementById(inputId);
    input.value = sel.value;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
    if (onPick)
      onPick(Number(sel.value));
  });
  return h('span', { class: 'field-extra' }, h('label', { for: id }, t('set.material')), sel);
}

// ---- same unit (manual 10.11) ----

// a unit field of another page (@el): while units.same_unit is on, it is set
// in Same unit only (the server refuses it apart)
export function sameUnit(el) {
  const input = el.querySelector('select, input');
  api('GET', 'config/units', undefined, { quiet: true }).then((u) => {
    if (!u.same_unit)
      return;
    input.disabled = true;
    el.append(h('span', { class: 'field-extra same-unit' }, t('units.locked'), ' ',
      h('a', { href: '#/settings/units' }, label('page.units', 'Same unit'))));
  }).catch(() => {});
}

// a distance field in metres (@el, a control of @form) shown in feet while
// same unit is on with the foot as the distance unit: the metres stay what
// is saved (the API speaks metres), the feet are what is typed
const FT_PER_M = 3.280839895;
export function distanceUnit(form, el) {
  const input = el.querySelector('input');
  api('GET', 'config/units', undefined, { quiet: true }).then((u) => {
    if (!u.same_unit || u.distance !== 'foot' || !input)
      return;
    const c = form.controls.find((x) => x.input === input);
    const toFt = (v) => (v === '' ? '' : String(Math.round(Number(v) * FT_PER_M * 100) / 100));
    const ft = h('input', { type: 'number', inputmode: 'decimal', step: 'any', id: input.id + '-ft',
      min: input.min === '' ? null : toFt(input.min), max: input.max === '' ? null : toFt(input.max),
      placeholder: input.placeholder || null, dataset: { unit: 'foot' } });
    ft.value = toFt(input.value);
    input.hidden = true;
    input.after(ft);
    const lab = el.querySelector(`label[for="${input.id}"]`);
    if (lab) {
      lab.setAttribute('for', ft.id);
      lab.textContent = lab.textContent.replace(/\((m|米)\)/, '(ft)').replace(/^([^(]*)$/, '$1 (ft)');
    }
    const range = el.querySelector('.field-range');
    if (range && input.min !== '' && input.max !== '')
      range.textContent = `${toFt(input.min)} – ${toFt(input.max)}`;
    if (c) {
      const show = c.show;
      c.show = (v) => { show(v); ft.value = toFt(input.value); };
    }
    ft.addEventListener('input', () => {
      input.value = ft.value === '' ? '' : String(Math.round(Number(ft.value) / FT_PER_M * 10000) / 10000);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
  }).catch(() => {});
}

// ---- the clock ----

const pad = (n) => String(n).padStart(2, '0');
// "YYYY-MM-DDTHH:MM:SS" of a Date in this browser's zone (datetime-local)
const localInput = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;

export const TIME_EXTRAS = {
  // the time page: what time the device has, and the ways to set it
  async clock(ctx) {
    const now = h('output', { id: 'device-time', class: 'device-time' });
    const zone = h('span', { id: 'device-zone', class: 'hint' });
    const ntpState = h('span', { id: 'ntp-state', class: 'hint' });
    let base = null; // {device ms, at performance.now()}
    const show = (j) => {
      base = { ms: j.epoch_ms, at: performance.now(), offset: j.utc_offset_s, local: j.local };
      const utc = j.local.endsWith('Z') ? 'UTC' : 'UTC' + j.local.slice(-6);
      zone.textContent = (j.timezone === utc ? utc : `${j.timezone} (${utc})`) + (j.dst ? ` ${t('time.dst')}` : '');
      ntpState.textContent = `${t('time.ntp')}: ${label('time.state.' + j.ntp.state, j.ntp.state)}`
        + (j.ntp.last_sync ? ` — ${t('time.lastSync')} ${j.ntp.last_sync.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}` : '')
        + (j.ntp.error ? ` — ${j.ntp.error}` : '');
      tick();
    };
    const tick = () => {
      if (!base)
        return;
      const ms = base.ms + (performance.now() - base.at) + base.offset * 1000;
      now.textContent = new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
    };
    const refresh = () => api('GET', 'time').then(show).catch((e) => { now.textContent = e.message; });
    const timer = setInterval(tick, 250);
    const poll = setInterval(refresh, 10000);
    ctx.cleanups.push(() => { clearInterval(timer); clearInterval(poll); });
    await refresh();

    // set by hand (in this browser's zone) or to this computer's time
    const out = status();
    const when = h('input', { type: 'datetime-local', id: 'set-time', step: '1', value: localInput(new Date()) });
    const put = async (body) => {
      out.className = 'test-result';
      try {
        show(await api('PUT', 'time', body));
        out.textContent = t('time.set');
        out.classList.add('ok');
      } catch (e) {
        out.textContent = e.message;
        out.classList.add('failed');
      }
    };
    const setBtn = h('button', { type: 'button', id: 'set-time-go' }, t('time.setTime'));
    setBtn.addEventListener('click', () => {
      const d = new Date(when.value);
      if (Number.isNaN(d.getTime())) {
        out.textContent = t('time.badTime');
        return;
      }
      put({ epoch_ms: d.getTime() });
    });
    const syncBtn = h('button', { type: 'button', id: 'sync-computer' }, t('time.syncComputer'));
    syncBtn.addEventListener('click', () => put({ epoch_ms: Date.now() }));

    // the NTP Test: the server and port as edited, not saved
    const testOut = status();
    testOut.id = 'ntp-test-result';
    const testBtn = h('button', { type: 'button', id: 'ntp-test' }, t('time.ntpTest'));
    testBtn.addEventListener('click', async () => {
      const form = ctx.forms.find((f) => f.section === 'time');
      const ntp = (form && form.cur.ntp) || {};
      testBtn.disabled = true;
      testOut.className = 'test-result';
      testOut.textContent = t('set.testing');
      try {
        const r = await api('POST', 'time/ntp/test', ntp.server ? { server: ntp.server, port: ntp.port } : {});
        testOut.textContent = t('time.ntpResult', { offset: r.offset_ms.toFixed(1), stratum: r.stratum, delay: r.delay_ms.toFixed(1) });
        testOut.classList.add('ok');
      } catch (e) {
        testOut.textContent = `${t('set.testFailed')}: ${e.message}`;
        testOut.classList.add('failed');
      } finally {
        testBtn.disabled = false;
      }
    });

    const box = h('fieldset', { class: 'set-group clock', dataset: { clock: 'true' } },
      h('legend', {}, t('time.deviceTime')),
      h('p', { class: 'clock-now' }, now, ' ', zone),
      h('p', {}, ntpState),
      h('div', { class: 'form-field inline clock-set' }, h('label', { for: when.id }, t('time.manual')), when, setBtn, syncBtn),
      out,
      h('div', { class: 'form-field inline clock-test' }, testBtn),
      testOut);
    if (ctx.alive)
      ctx.body.insertBefore(box, ctx.body.children[1] || null);
  },

  // the device information and the licenses of what it is built from
  async about(ctx) {
    const dev = await api('GET', 'device');
    const rows = [
      ['device_name', dev.device_name], ['device_number', dev.device_number], ['model', dev.model],
      ['serial_number', dev.serial_number], ['mac_address', dev.mac_address || '—'],
      ['firmware_version', `${dev.firmware_version} (${dev.firmware_build})`],
      ['encoding_version', dev.encoding_version || '—'], ['web_version', dev.web_version],
      ['algorithm_version', dev.algorithm_version], ['calibration_version', dev.calibration_version || '—'],
      ['uptime', uptime(dev.uptime_seconds)],
      // lens, focus, light, wiper, video output: those the hardware backend has
      ['hardware', Object.keys(dev.hardware || {}).filter((k) => dev.hardware[k]).map((k) => t('hw.' + k)).join(', ')
        || t('hw.none')],
    ];
    const info = h('fieldset', { class: 'set-group about', dataset: { about: 'device' } },
      h('legend', {}, t('about.device')),
      h('dl', { class: 'about-list' }, ...rows.flatMap(([k, v]) => [h('dt', {}, label('about.' + k, k)), h('dd', { dataset: { key: k } }, String(v))])));
    if (ctx.alive)
      ctx.body.append(info);
    const lic = await api('GET', 'system/licenses');
    const table = h('table', { class: 'licenses' },
      h('thead', {}, h('tr', {}, ...['about.component', 'about.version', 'about.license'].map((k) => h('th', {}, t(k))))),
      h('tbody', {}, ...lic.components.map((c) => h('tr', {},
        h('td', {}, c.homepage ? h('a', { href: c.homepage, target: '_blank', rel: 'noopener noreferrer' }, c.name) : c.name,
          c.elements ? h('span', { class: 'hint' }, ' ' + c.elements.join(', ')) : null),
        h('td', {}, c.version || ''),
        h('td', {}, c.license)))));
    const box = h('details', { class: 'set-group licenses-box', id: 'licenses' },
      h('summary', {}, t('about.licenses', { n: lic.components.length })),
      h('p', {}, `${lic.project.name}: ${lic.project.license}`),
      h('div', { class: 'table-wrap' }, table));
    if (ctx.alive)
      ctx.body.append(box);
  },
};

function uptime(s) {
  const d = Math.floor(s / 86400), hh = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
  return (d ? `${d} d ` : '') + `${pad(hh)}:${pad(m)}:${pad(s % 60)}`;
}
