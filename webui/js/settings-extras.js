// The widgets some settings pages add to their forms: the emissivity table
// (manual 11.1), time zones, the test buttons of FTP, email and the center,
// the rules list, the arming schedules' week grid, the alarm outputs' manual
// trigger and clear, the OSD preview and picture upload, the ports in use and
// the Modbus register map.
import { api, ApiError } from './api.js';
import { t } from './i18n.js';
import { h, svg } from './ui.js';
import { Form, label, fieldLabel, valueLabel, getAt, clone, diff } from './form.js';
import { weekGrid, DAYS, dayLabel } from './schedule.js';
import { NETWORK_EXTRAS } from './settings-network.js';
import { SERIAL_EXTRAS } from './settings-serial.js';
import { distanceUnit, materialPicker, sameUnit, TIME_EXTRAS } from './settings-time.js';

const status = () => h('p', { class: 'test-result', role: 'status', 'aria-live': 'polite' });

export const FIELD_EXTRAS = {
  // the emissivity table (manual 11.1, GET /materials)
  materials(form, path, el) {
    const input = el.querySelector('input');
    el.append(materialPicker(input, (v) => {
      form.set(path, v);
      form.controls.find((c) => c.input === input).show(v);
    }));
  },
  // a distance in feet while same unit says so (manual 10.11)
  distance(form, path, el) {
    distanceUnit(form, el);
  },
  // the temperature unit, set in Same unit while it is on (manual 10.11)
  sameUnit(form, path, el) {
    sameUnit(el);
  },
  zones(form, path, el) {
    const input = el.querySelector('input');
    const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    const dl = h('datalist', { id: input.id + '-list' }, ...['UTC', ...zones].map((z) => h('option', { value: z })));
    input.setAttribute('list', dl.id);
    el.append(dl);
  },
};

export const PART_EXTRAS = {
  // an alarm output's state and its manual trigger and clear (POST /io/outputs/N/...)
  output(form, item, row) {
    const state = h('span', { class: 'io-state', dataset: { output: String(item.id) } });
    const act = (what) => async () => {
      try {
        show(await api('POST', `io/outputs/${item.id}/${what}`));
      } catch (e) {
        state.textContent = e.message;
      }
    };
    const show = (io) => {
      const o = io.outputs.find((x) => x.id === item.id);
      state.textContent = o.on ? (o.manual ? t('set.onManual') : t('set.on')) : t('set.off');
      state.classList.toggle('on', o.on);
    };
    row.append(h('div', { class: 'io-row' }, state,
      h('button', { type: 'button', class: 'trigger', onclick: act('trigger') }, t('set.trigger')),
      h('button', { type: 'button', class: 'clear', onclick: act('clear') }, t('set.clear'))));
    api('GET', 'io').then(show).catch(() => {});
  },
};

// an element only while the page is open
const alive = (ctx, el) => { if (ctx.alive) ctx.body.append(el); return el; };

export const EXTRAS = {
  ...TIME_EXTRAS,
  ...NETWORK_EXTRAS,
  ...SERIAL_EXTRAS,
  // the test button of a part: the settings as edited, not saved
  test(form, path) {
    const out = status();
    const btn = h('button', { type: 'button', class: 'test' }, t('set.test'));
    btn.addEventListener('click', async () => {
      if (!form.validate())
        return;
      const body = clone(form.cur);
      const changed = diff(form.orig, form.cur) || {};
      if (!('password' in changed))
        delete body.password;
      btn.disabled = true;
      out.className = 'test-result';
      out.textContent = t('set.testing');
      try {
        await api('POST', path, body);
        out.textContent = t('set.testOk');
        out.classList.add('ok');
      } catch (e) {
        out.textContent = `${t('set.testFailed')}: ${e.message}`;
        out.classList.add('failed');
        if (e.field)
          form.controlFor(e.field)?.setError(e.message);
      } finally {
        btn.disabled = false;
      }
    });
    return [btn, out];
  },

  // the rules (manual 3.3) as a list, a form a rule, over the picture they measure
  async rules(ctx, root) {
    const rules = await api('GET', 'rules');
    const pic = h('div', { class: 'rules-preview' });
    const img = h('img', { alt: t('set.preview'), src: 'api/v1/snapshot?t=' + Date.now() });
    const over = svg('svg', { class: 'rules-shapes', viewBox: '0 0 1 1', preserveAspectRatio: 'none' });
    pic.append(img, over);
    const draw = () => {
      over.replaceChildren();
      for (const r of rules) {
        const pts = r.points.map((p) => p.join(',')).join(' ');
        const shape = r.type === 'point'
          ? svg('circle', { cx: r.points[0][0], cy: r.points[0][1], r: 0.01 })
          : svg(r.type === 'polygon' ? 'polygon' : 'polyline', { points: pts });
        shape.setAttribute('class', r.enabled === false ? 'off' : '');
        over.append(shape);
      }
    };
    draw();
    alive(ctx, h('div', { class: 'rules-head' }, pic, h('p', {}, t('set.rulesIntro'), ' ',
      h('a', { href: '#/live', class: 'to-live' }, t('set.toLive')))));
    if (!rules.length)
      alive(ctx, h('p', { class: 'hint' }, t('set.noRules')));
    const node = root.$defs.rule;
    for (const r of rules) {
      const form = new Form({ section: '', schema: root, node, load: async () => clone(r),
        save: (patch) => api('PUT', `rules/${r.id}`, patch) });
      await form.reload();
      ctx.forms.push(form);
      const el = h('form', { class: 'set-part rule-form', novalidate: true, dataset: { rule: String(r.id) } });
      el.addEventListener('submit', (e) => { e.preventDefault(); form.submit(); });
      el.append(h('fieldset', { class: 'set-group' },
        h('legend', {}, `${r.id}: ${r.name} (${valueLabel(r.type)})`),
        h('div', { class: 'set-fields' },
          form.field(['name']), form.field(['enabled']),
          ...['enabled', 'on', 'condition', 'pre_alarm', 'alarm', 'tolerance', 'filter_time'].map((k) =>
            form.field(['alarm', k], { label: k === 'enabled' ? t('set.alarmEnabled') : undefined }))),
        // the rule's own object parameters; empty: the global thermometry values
        h('div', { class: 'set-fields' }, ...['emissivity', 'distance', 'reflected_temperature'].map((k) => {
          const f = form.field([k]);
          if (k === 'emissivity')
            FIELD_EXTRAS.materials(form, [k], f);
          if (k === 'distance')
            distanceUnit(form, f);
          return f;
        }))),
      form.bar());
      form.onChange(() => { r.enabled = form.cur.enabled; draw(); });
      alive(ctx, el);
    }
  },

  // the arming schedules (manual 5.1): one source at a time, drawn on a week grid
  async schedules(ctx, root) {
    const sources = [
      ['scene', 'events', ['scene', 'schedule']], ['rules', 'events', ['rules', 'schedule']],
      ['comparisons', 'events', ['comparisons', 'schedule']],
      ['environment', 'environment_alarm', ['schedule']], ['timed_capture', 'capture', ['timed', 'schedule']],
      ...[1, 2, 3, 4].map((n) => [`input-${n}`, 'alarm_inputs', ['inputs', n - 1, 'schedule']]),
      ...[1, 2, 3, 4].map((n) => [`output-${n}`, 'alarm_outputs', ['outputs', n - 1, 'schedule']]),
    ];
    const srcLabel = (s) => s.replace(/^(input|output)-(\d)$/, (m, k, n) => `${t('set.' + k)} ${n}`)
      .replace(/^[a-z_]+$/, (k) => label('src.' + k, k));
    const sel = h('select', { id: 'sched-source' }, ...sources.map(([s]) => h('option', { value: s }, srcLabel(s))));
    const box = h('div', { class: 'sched-box' });
    alive(ctx, h('div', { class: 'form-field inline' }, h('label', { for: sel.id }, t('set.scheduleOf')), sel));
    alive(ctx, box);
    let form = null, shown = sel.value;
    const open = async () => {
      const [source, section, path] = sources.find(([s]) => s === sel.value);
      shown = source;
      ctx.forms.length = 0;
      form = new Form({ section, schema: root, node: root.properties[section],
        load: () => api('GET', 'config/' + section),
        save: (patch) => api('PUT', 'config/' + section, patch) });
      await form.reload();
      ctx.forms.push(form);
      const grid = weekGrid('week', (v) => form.set(path, clone(v)));
      form.add({ path, schema: {}, ...grid, show: grid.show, setError: grid.setError, focus: grid.focus, validate: grid.validate });
      grid.show(getAt(form.cur, path));
      const el = h('form', { class: 'set-part', novalidate: true, dataset: { section, source } });
      el.addEventListener('submit', (e) => { e.preventDefault(); form.submit(); });
      // copy a day to others (POST /events/schedule-copy, saved at once)
      const from = h('select', { id: 'copy-from' }, ...DAYS.map((d) => h('option', { value: d }, dayLabel(d))));
      const to = DAYS.map((d) => h('input', { type: 'checkbox', id: 'copy-' + d, value: d }));
      const out = status();
      const copy = h('button', { type: 'button', id: 'copy-go' }, t('sched.copy'));
      copy.addEventListener('click', async () => {
        const days = to.filter((b) => b.checked && b.value !== from.value).map((b) => b.value);
        if (!days.length) {
          out.textContent = t('sched.copyNone');
          return;
        }
        if (form.dirty && !(await form.submit()))
          return;
        try {
          await api('POST', 'events/schedule-copy', { source, from: from.value, to: days });
          await form.reload();
          out.textContent = t('sched.copied', { day: dayLabel(from.value), n: days.length });
        } catch (e) {
          out.textContent = e.message;
        }
      });
      el.append(h('fieldset', { class: 'set-group' }, h('legend', {}, srcLabel(source)), grid.el),
        h('fieldset', { class: 'set-group copy' }, h('legend', {}, t('sched.copyTitle')),
          h('div', { class: 'copy-row' }, h('label', { for: from.id }, t('sched.copyFrom')), from,
            h('span', { class: 'label' }, t('sched.copyTo')),
            ...to.map((b) => h('label', { class: 'check-one', for: b.id }, b, ' ' + dayLabel(b.value))), copy),
          out),
        form.bar());
      box.replaceChildren(el);
    };
    sel.addEventListener('change', () => {
      if (form?.dirty && !window.confirm(t('form.leave'))) {
        sel.value = shown;
        return;
      }
      open().catch((e) => box.replaceChildren(h('p', { class: 'error' }, e.message)));
    });
    await open();
  },

  // the inputs' contacts as they are now (GET /io)
  async inputs(ctx) {
    const io = await api('GET', 'io');
    if (ctx.alive)
      ctx.body.insertBefore(h('p', { class: 'hint io-inputs' }, `${t('set.contacts')}: `,
        ...io.inputs.map((i) => h('span', { class: 'io-state' + (i.alarm ? ' on' : '') }, `${i.id} ${i.contact}${i.alarm ? ' !' : ''}`))),
      ctx.body.querySelector('.set-part'));
  },

  async outputs(ctx) {
    if (ctx.alive)
      ctx.body.insertBefore(h('p', { class: 'hint' }, t('set.outputsHint')), ctx.body.querySelector('.set-part'));
  },

  // a preview of the picture as streamed, and the overlay picture (PUT /osd/picture)
  async osd(ctx) {
    const img = h('img', { class: 'osd-preview', alt: t('set.preview'), src: 'api/v1/snapshot?t=' + Date.now() });
    const refresh = h('button', { type: 'button', onclick: () => { img.src = 'api/v1/snapshot?t=' + Date.now(); } }, t('set.refreshPreview'));
    const file = h('input', { type: 'file', id: 'osd-file', accept: '.bmp,image/bmp' });
    const out = status();
    const up = h('button', { type: 'button', id: 'osd-upload' }, t('set.upload'));
    up.addEventListener('click', async () => {
      const f = file.files[0];
      if (!f) {
        out.textContent = t('set.pickFile');
        return;
      }
      const r = await fetch('api/v1/osd/picture', { method: 'PUT', body: f, credentials: 'same-origin',
        headers: { 'Content-Type': 'image/bmp', 'X-CSRF-Token': sessionStorage.getItem('thermocam.csrf') || '' } });
      if (r.ok) {
        out.textContent = t('set.uploaded');
        img.src = 'api/v1/snapshot?t=' + Date.now();
      } else {
        let e = {};
        try { e = (await r.json()).error || {}; } catch { /* not JSON */ }
        out.textContent = `${t('form.failed')}: ${new ApiError(r.status, e.code, e.message).message}`;
      }
    });
    alive(ctx, h('fieldset', { class: 'set-group osd-extra' }, h('legend', {}, t('set.preview')),
      img, h('div', { class: 'buttons' }, refresh),
      h('div', { class: 'form-field' }, h('label', { for: file.id }, t('set.overlayFile')), file, up),
      h('p', { class: 'hint' }, t('set.overlayHint')), out));
  },

  // what the servers listen on now and what the command line fixes
  async ports(ctx) {
    const body = h('tbody');
    const show = (p) => body.replaceChildren(...Object.entries(p.in_use || {}).map(([k, v]) => h('tr', {},
      h('th', {}, fieldLabel(k)), h('td', {}, String(v || '–')),
      h('td', {}, (p.from_flags || []).includes(k) ? t('set.fromFlags') : ''))));
    show(await api('GET', 'config/ports'));
    // what a saved change put in use (the servers restart in place)
    const form = ctx.forms[0];
    const save = form.save;
    form.save = async (patch) => {
      const r = await save(patch);
      setTimeout(() => api('GET', 'config/ports').then(show).catch(() => {}), 1500);
      return r;
    };
    alive(ctx, h('fieldset', { class: 'set-group' }, h('legend', {}, t('set.inUse')), h('table', { class: 'set-table' }, body)));
  },

  // the register map the Modbus TCP and RTU servers share (GET /modbus/registers)
  async registers(ctx) {
    const m = await api('GET', 'modbus/registers');
    const rows = (m.blocks || []).map((b) => h('tr', {},
      h('td', {}, b.table), h('td', { class: 'num' }, String(b.address)), h('td', { class: 'num' }, String(b.count ?? 1)),
      h('td', {}, b.type), h('td', {}, b.name), h('td', {}, b.access || ''), h('td', {}, b.description || '')));
    alive(ctx, h('details', { class: 'set-group registers', open: true }, h('summary', {}, t('set.registers')),
      h('p', { class: 'hint' }, m.description || ''),
      h('div', { class: 'table-wrap' }, h('table', { class: 'set-table' },
        h('thead', {}, h('tr', {}, ...['table', 'address', 'count', 'type', 'name', 'access', 'description'].map((k) => h('th', {}, label('reg.' + k, k))))),
        h('tbody', {}, ...rows)))));
  },
};
