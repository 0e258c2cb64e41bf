// The Configuration area (issue 16, items 1 and 2) in headless Chromium
// against a real daemon (run.py --activated --config-ports --peers): every
// page opens without a console error, with a label for every input; a setting
// of every section changed by typing and clicking is what GET /config shows,
// and still what the page shows after the daemon restarts; the browser stops
// what the schema refuses, the server's refusal shows at its field; the FTP
// and email tests reach real servers; the week grid drawn with the mouse is
// saved; a user-level account gets no settings; the keyboard reaches the
// controls; screenshots of every page at 1280x800 and 390x844.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ok, finish, waitFor, shot, apiIn, consoleErrors, console_, launch, openAs, sleep, PASSWORD, BASE } from './lib.mjs';

const PAGES = ['thermometry', 'scene-alarm', 'rules', 'alarm-inputs', 'exceptions', 'burning', 'environment',
  'schedules', 'alarm-outputs', 'ftp', 'email', 'center', 'video', 'image', 'osd', 'capture', 'ports',
  'modbus', 'mqtt', 'metrics', 'device', 'time', 'security', 'delivery', 'history', 'log-server'];
// the network chapter (issue 18)
PAGES.push('tcpip', 'ddns', 'network-advanced', 'snmp', 'upnp');
// ONVIF (issue 17) and the system chapter's units (issue 19)
PAGES.push('onvif', 'units');
// RS-232 and the hardware the appliance may lack (issue 19, items 8 and 13)
PAGES.push('serial', 'hardware');
const CONTROL = process.env.WEB_CONTROL;
const t0 = Date.now();

async function open(page, id) {
  await page.evaluate((h) => { location.hash = h; }, '#/settings/' + id);
  return waitFor(page, (id) => document.querySelector(`[data-settings="${id}"] .set-body[data-ready]`), id, 15000);
}

// the field named @name (the server's path of it) of the page
const field = (name) => `[name="${name}"]`;

async function typeInto(page, name, value) {
  const sel = field(name);
  await page.click(sel, { clickCount: 3 });
  await page.$eval(sel, (e) => { e.select?.(); });
  await page.keyboard.press('Backspace');
  await page.type(sel, String(value));
}

async function choose(page, name, value) {
  await page.select(field(name), JSON.stringify(value));
}

async function saveOf(page, section) {
  await page.click(`form[data-section="${section}"] .form-bar .primary`);
  return waitFor(page, (s) => document.querySelector(`form[data-section="${s}"] .form-state`)?.dataset.state !== 'saving'
    && ['saved', 'failed'].includes(document.querySelector(`form[data-section="${s}"] .form-state`)?.dataset.state), section);
}

const stateOf = (page, section) => page.$eval(`form[data-section="${section}"] .form-state`, (e) => e.dataset.state);

// every PUT and POST the page sends
function recorder(page) {
  const sent = [];
  page.on('request', (r) => {
    if (r.method() !== 'GET' && r.url().includes('/api/v1/'))
      sent.push(`${r.method()} ${new URL(r.url()).pathname} ${r.postData() || ''}`.trim());
  });
  return sent;
}

// a free port of loopback, or one held (a server bound on it) until closed
function holdPort() {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

// a 24-bit BMP of w x h, one colour
function bmp(w, h) {
  const row = Math.ceil((w * 3) / 4) * 4, size = 54 + row * h;
  const b = Buffer.alloc(size);
  b.write('BM', 0); b.writeUInt32LE(size, 2); b.writeUInt32LE(54, 10); b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18); b.writeInt32LE(h, 22); b.writeUInt16LE(1, 26); b.writeUInt16LE(24, 28);
  b.writeUInt32LE(row * h, 34);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      b.writeUIntLE(0x20c0ff, 54 + y * row + x * 3, 3);
  return b;
}

// drags the mouse over @day of the week grid from hour @from to hour @to
async function drag(page, day, from, to) {
  const r = await page.$eval(`.wg-track[data-day="${day}"]`, (e) => { const b = e.getBoundingClientRect(); return { x: b.left, y: b.top, w: b.width, h: b.height }; });
  const y = r.y + r.h / 2;
  await page.mouse.move(r.x + (r.w * from) / 24, y);
  await page.mouse.down();
  await page.mouse.move(r.x + (r.w * (from + to)) / 48, y, { steps: 4 });
  await page.mouse.move(r.x + (r.w * to) / 24, y, { steps: 4 });
  await page.mouse.up();
}

// a change per section, made as a person would, and what GET then shows
const CHANGES = [
  ['thermometry', 'thermometry', async (p) => { await p.select('[name="thermometry.emissivity"] ~ .field-extra select', '0.85'); },
    (c) => c.emissivity === 0.85, (p) => p.$eval(field('thermometry.emissivity'), (e) => e.value === '0.85')],
  ['scene-alarm', 'scene_alarm', async (p) => { await typeInto(p, 'scene_alarm.alarm', 61.5); },
    (c) => c.alarm === 61.5, (p) => p.$eval(field('scene_alarm.alarm'), (e) => e.value === '61.5')],
  ['scene-alarm', 'events', async (p) => { await p.click('[name="events.scene.linkage.alarm_outputs"] input[value="2"]'); },
    (c) => JSON.stringify(c.scene.linkage.alarm_outputs) === '[2]',
    (p) => p.$eval('[name="events.scene.linkage.alarm_outputs"] input[value="2"]', (e) => e.checked)],
  ['alarm-inputs', 'alarm_inputs', async (p) => { await typeInto(p, 'alarm_inputs.inputs[1].name', 'Door contact'); },
    (c) => c.inputs[1].name === 'Door contact', (p) => p.$eval(field('alarm_inputs.inputs[1].name'), (e) => e.value === 'Door contact')],
  ['exceptions', 'exceptions', async (p) => { await p.click(field('exceptions.ip_conflict.linkage.email')); },
    (c) => c.ip_conflict.linkage.email === true, (p) => p.$eval(field('exceptions.ip_conflict.linkage.email'), (e) => e.checked)],
  ['burning', 'burning_prevention', async (p) => { await typeInto(p, 'burning_prevention.threshold', 420); },
    (c) => c.threshold === 420, (p) => p.$eval(field('burning_prevention.threshold'), (e) => e.value === '420')],
  ['environment', 'environment_alarm', async (p) => { await p.click(field('environment_alarm.enabled')); await typeInto(p, 'environment_alarm.threshold', 65); },
    (c) => c.enabled === true && c.threshold === 65, (p) => p.$eval(field('environment_alarm.threshold'), (e) => e.value === '65')],
  ['alarm-outputs', 'alarm_outputs', async (p) => { await typeInto(p, 'alarm_outputs.outputs[2].delay', 12); },
    (c) => c.outputs[2].delay === 12, (p) => p.$eval(field('alarm_outputs.outputs[2].delay'), (e) => e.value === '12')],
  ['center', 'center', async (p) => {
    await p.click('form[data-section="center"] .set-list > .add');
    await typeInto(p, 'center.receivers[0].url', 'http://127.0.0.1:9/alarms');
  }, (c) => c.receivers.length === 1 && c.receivers[0].url === 'http://127.0.0.1:9/alarms',
  (p) => p.$eval(field('center.receivers[0].url'), (e) => e.value === 'http://127.0.0.1:9/alarms')],
  ['video', 'video', async (p) => { await typeInto(p, 'video.sub.max_bitrate', 384); },
    (c) => c.sub.max_bitrate === 384, (p) => p.$eval(field('video.sub.max_bitrate'), (e) => e.value === '384')],
  ['image', 'image', async (p) => { await choose(p, 'image.palette', 'ironbow'); await choose(p, 'image.dde.mode', 'normal'); },
    (c) => c.palette === 'ironbow' && c.dde.mode === 'normal', (p) => p.$eval(field('image.palette'), (e) => e.value === '"ironbow"')],
  ['osd', 'osd', async (p) => { await typeInto(p, 'osd.text', 'Furnace 2'); await p.click(field('osd.show_week')); },
    (c) => c.text[0] === 'Furnace 2' && c.show_week === true, (p) => p.$eval(field('osd.text'), (e) => e.value === 'Furnace 2')],
  ['capture', 'capture', async (p) => { await typeInto(p, 'capture.timed.interval_s', 120); },
    (c) => c.timed.interval_s === 120, (p) => p.$eval(field('capture.timed.interval_s'), (e) => e.value === '120')],
  ['capture', 'recording', async (p) => { await typeInto(p, 'recording.file_size_mb', 128); },
    (c) => c.file_size_mb === 128, (p) => p.$eval(field('recording.file_size_mb'), (e) => e.value === '128')],
  ['modbus', 'modbus', async (p) => { await choose(p, 'modbus.word_order', 'little'); },
    (c) => c.word_order === 'little', (p) => p.$eval(field('modbus.word_order'), (e) => e.value === '"little"')],
  ['modbus', 'rs485', async (p) => { await choose(p, 'rs485.baud_rate', 19200); },
    (c) => c.baud_rate === 19200, (p) => p.$eval(field('rs485.baud_rate'), (e) => e.value === '19200')],
  ['device', 'device', async (p) => { await typeInto(p, 'device.name', 'Kiln 4'); await typeInto(p, 'device.number', 17); },
    (c) => c.name === 'Kiln 4' && c.number === 17, (p) => p.$eval(field('device.name'), (e) => e.value === 'Kiln 4')],
  ['time', 'time', async (p) => { await typeInto(p, 'time.timezone', 'Asia/Shanghai'); },
    (c) => c.timezone === 'Asia/Shanghai', (p) => p.$eval(field('time.timezone'), (e) => e.value === 'Asia/Shanghai')],
  ['security', 'security', async (p) => { await typeInto(p, 'security.illegal_login_lock.attempts', 7); await typeInto(p, 'security.ip_filter.addresses', '192.0.2.7'); },
    (c) => c.illegal_login_lock.attempts === 7 && c.ip_filter.addresses[0] === '192.0.2.7',
    (p) => p.$eval(field('security.illegal_login_lock.attempts'), (e) => e.value === '7')],
  ['delivery', 'delivery', async (p) => { await typeInto(p, 'delivery.max_pending', 250); },
    (c) => c.max_pending === 250, (p) => p.$eval(field('delivery.max_pending'), (e) => e.value === '250')],
  ['mqtt', 'mqtt', async (p) => { await typeInto(p, 'mqtt.topic_prefix', 'plant/kilns'); await typeInto(p, 'mqtt.readings_interval_ms', 500); },
    (c) => c.topic_prefix === 'plant/kilns' && c.readings_interval_ms === 500,
    (p) => p.$eval(field('mqtt.topic_prefix'), (e) => e.value === 'plant/kilns')],
  ['metrics', 'metrics', async (p) => { await p.click(field('metrics.enabled')); },
    (c) => c.enabled === true, (p) => p.$eval(field('metrics.enabled'), (e) => e.checked)],
  ['history', 'history', async (p) => { await typeInto(p, 'history.raw_retention_h', 12); },
    (c) => c.raw_retention_h === 12, (p) => p.$eval(field('history.raw_retention_h'), (e) => e.value === '12')],
];

// the network chapter (issue 18): none of these is an IP setting (no confirmation)
CHANGES.push(
  ['tcpip', 'network', async (p) => { await typeInto(p, 'network.dns.preferred', '192.0.2.53'); },
    (c) => c.dns.preferred === '192.0.2.53', (p) => p.$eval(field('network.dns.preferred'), (e) => e.value === '192.0.2.53')],
  ['ddns', 'network', async (p) => { await typeInto(p, 'network.ddns.interval_s', 900); },
    (c) => c.ddns.interval_s === 900, (p) => p.$eval(field('network.ddns.interval_s'), (e) => e.value === '900')],
  ['network-advanced', 'network', async (p) => { await typeInto(p, 'network.qos.video_dscp', 46); },
    (c) => c.qos.video_dscp === 46, (p) => p.$eval(field('network.qos.video_dscp'), (e) => e.value === '46')]);

const modbusPort = await holdPort();
const freeModbus = modbusPort.address().port;
modbusPort.close();
CHANGES.push(
  ['rules', 'rules', async (p) => { await typeInto(p, 'alarm.pre_alarm', 48.5); await typeInto(p, 'emissivity', 0.92); await p.click('form[data-rule] .form-bar .primary'); },
    (c) => c[0].alarm.pre_alarm === 48.5 && c[0].emissivity === 0.92 && !('distance' in c[0]),
    (p) => p.$eval('form[data-rule] [name="alarm.pre_alarm"]', (e) => e.value === '48.5')],
  // last: a change of ports restarts the servers in place
  ['ports', 'ports', async (p) => { await typeInto(p, 'ports.modbus', freeModbus); },
    (c) => c.modbus === freeModbus, (p) => p.$eval(field('ports.modbus'), (e, v) => e.value === String(v), freeModbus)]);

const browser = await launch();
try {
  let page = await openAs(browser, 'admin', PASSWORD, '#/live');
  // a question the page asks (leaving unsaved changes) is answered by dialogAnswer
  const dialogs = [];
  let dialogAnswer = true;
  page.on('dialog', async (d) => { dialogs.push(d.message()); await (dialogAnswer ? d.accept() : d.dismiss()); });
  page.setDefaultTimeout(8000);
  await waitFor(page, () => document.querySelector('#nav a[href="#/settings"]') && !document.querySelector('#nav a[href="#/settings"]').hidden);
  ok(await page.$eval('#nav a[href="#/settings"]', (a) => !a.hidden), 'the nav has Configuration for an administrator');

  const rule = await apiIn(page, 'POST', 'rules', { name: 'Pump', type: 'polygon', points: [[0.2, 0.2], [0.6, 0.25], [0.5, 0.6]] });
  ok(rule.status === 201 || rule.status === 200, 'a rule to show on the rules page', rule);

  // ---- every page: opens, no console error, a label for every input, both sizes ----
  const unlabelled = [], failedPages = [];
  for (const id of PAGES) {
    if (!await open(page, id)) {
      failedPages.push(id);
      continue;
    }
    const bad = await page.evaluate(() => [...document.querySelectorAll('.settings input, .settings select, .settings textarea')]
      .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
      .map((e) => e.outerHTML.slice(0, 100)));
    unlabelled.push(...bad.map((b) => `${id}: ${b}`));
    const err = await page.$$eval('.set-body .error', (es) => es.map((e) => e.textContent));
    if (err.length)
      failedPages.push(`${id}: ${err.join(' ')}`);
    await shot(page, `settings-${id}`);
  }
  ok(failedPages.length === 0, `the ${PAGES.length} settings pages open and load`, failedPages);
  ok(unlabelled.length === 0, 'every input, select and text area of the settings has a label', unlabelled);
  ok(consoleErrors.length === 0, 'no console error on the settings pages', consoleErrors.map((e) => e.text));

  // ---- a change per section, made on the page, is what the API shows ----
  const changed = [];
  for (const [id, section, act, good, shown] of CHANGES) {
    await open(page, id);
    try {
      await act(page);
      let unsaved = 'unsaved', st = 'saved';
      if (section === 'rules') {
        await waitFor(page, () => document.querySelector('form[data-rule] .form-state')?.dataset.state === 'saved'
          && document.querySelector('form[data-rule] [name="alarm.pre_alarm"]').value === '48.5');
      } else {
        unsaved = await stateOf(page, section);
        await saveOf(page, section);
        st = await stateOf(page, section);
      }
      // a change of ports restarts the servers: the next request may find it closed
      let got = null;
      for (let i = 0; i < 30 && !got; i++)
        got = await apiIn(page, 'GET', 'config/' + section).catch(() => sleep(200).then(() => null));
      if (section === 'ports') {
        // the servers restart in place after the answer: wait for the new port in use
        for (let i = 0; i < 50; i++) {
          const r = await apiIn(page, 'GET', 'config/ports').catch(() => null);
          if (r?.json?.in_use?.modbus === freeModbus)
            break;
          await sleep(200);
        }
      }
      const msg = await page.$$eval(`form[data-section="${section}"] .field-error`, (es) => es.map((e) => e.textContent).filter((x) => x));
      changed.push([id, section, unsaved === 'unsaved' && st === 'saved' && got.status === 200 && good(got.json), [`${unsaved}->${st}`, ...msg], got.json]);
    } catch (e) {
      changed.push([id, section, false, e.message]);
    }
  }
  ok(dialogs.length === 0, 'no question asked while every change was saved', dialogs);
  for (const [id, section, good, st, json] of changed)
    ok(good, `${id}: a change of ${section} made on the page is saved (GET /config/${section} shows it)`, [st, json]);
  const sent = recorder(page);

  // ---- the schema's limits are checked in the browser: nothing is sent ----
  await open(page, 'thermometry');
  sent.length = 0;
  await typeInto(page, 'thermometry.emissivity', '1.5');
  await typeInto(page, 'thermometry.distance', '-3');
  await page.click('form[data-section="thermometry"] .form-bar .primary');
  await sleep(300);
  const refused = await page.evaluate(() => ({
    state: document.querySelector('form[data-section="thermometry"] .form-state').dataset.state,
    errors: [...document.querySelectorAll('.form-field.invalid')].map((f) => [f.querySelector('[name]').name, f.querySelector('.field-error').textContent]),
    focused: document.activeElement?.name,
  }));
  ok(sent.length === 0 && refused.state === 'failed' && refused.errors.length === 2
    && refused.errors[0][0] === 'thermometry.emissivity' && /1/.test(refused.errors[0][1]) && refused.focused === 'thermometry.emissivity',
  'values the schema refuses (emissivity 1.5, distance -3) are shown at their fields, the first focused, and nothing is sent', [sent, refused]);
  await typeInto(page, 'thermometry.emissivity', '0.9');
  ok(await page.$eval(field('thermometry.emissivity'), (e) => !e.closest('.form-field').classList.contains('invalid')),
    'a field corrected loses its error');
  await page.click('form[data-section="thermometry"] .form-bar button[type="button"]');
  await open(page, 'security');
  sent.length = 0;
  await typeInto(page, 'security.ip_filter.addresses', 'not an address');
  await page.click('form[data-section="security"] .form-bar .primary');
  await sleep(200);
  ok(sent.length === 0 && await page.$eval(field('security.ip_filter.addresses'), (e) => e.closest('.form-field').classList.contains('invalid')),
    'an IP filter entry against the schema\'s pattern is stopped in the browser', sent);
  await page.click('form[data-section="security"] .form-bar button[type="button"]');

  // ---- a value only the server refuses: a port another program holds ----
  const busy = await holdPort();
  const busyPort = busy.address().port;
  await open(page, 'ports');
  const before = await apiIn(page, 'GET', 'config/ports');
  sent.length = 0;
  await typeInto(page, 'ports.http', busyPort);
  await page.click('form[data-section="ports"] .form-bar .primary');
  await waitFor(page, () => document.querySelector('form[data-section="ports"] .form-state').dataset.state === 'failed');
  const srvErr = await page.evaluate(() => ({
    state: document.querySelector('form[data-section="ports"] .form-state').dataset.state,
    text: document.querySelector('form[data-section="ports"] .form-state').textContent,
    at: document.querySelector('[name="ports.http"]').closest('.form-field').querySelector('.field-error').textContent,
  }));
  const after = await apiIn(page, 'GET', 'config/ports');
  ok(sent.length === 1 && sent[0] === `PUT /api/v1/config/ports {"http":${busyPort}}` && srvErr.state === 'failed' && /in use/.test(srvErr.at) && new RegExp(String(busyPort)).test(srvErr.at)
    && JSON.stringify(before.json) === JSON.stringify(after.json),
  `only what changed is sent (PUT /config/ports {"http": ${busyPort}}); a busy port refused by the device: its message at ports.http, nothing changed`, [sent, srvErr, after.json]);
  busy.close();
  // leaving with unsaved changes asks first; "stay" keeps the page and its edit
  dialogAnswer = false;
  const asked = dialogs.length;
  await page.evaluate(() => { location.hash = '#/live'; });
  for (let i = 0; i < 30 && dialogs.length === asked; i++)
    await sleep(100);
  await sleep(100);
  ok(dialogs.length === asked + 1 && await page.evaluate(() => location.hash) === '#/settings/ports'
    && await page.$eval(field('ports.http'), (e, v) => e.value === String(v), busyPort),
  'leaving a page with unsaved changes asks first; staying keeps the edit', dialogs.slice(asked));
  dialogAnswer = true;
  await page.click('form[data-section="ports"] .form-bar button[type="button"]');
  ok(await stateOf(page, 'ports') === 'saved', 'Revert brings back what is saved');

  // ---- FTP and email tests reach real servers; the page says so ----
  await open(page, 'ftp');
  await typeInto(page, 'ftp.server', '127.0.0.1');
  await typeInto(page, 'ftp.port', process.env.WEB_FTP_PORT);
  await typeInto(page, 'ftp.user', 'cam');
  await typeInto(page, 'ftp.password', 'secret1');
  await page.click('form[data-section="ftp"] button.test');
  await waitFor(page, () => /ok|failed/.test(document.querySelector('form[data-section="ftp"] .test-result').className), null, 20000);
  const ftpRes = await page.$eval('form[data-section="ftp"] .test-result', (e) => [e.className, e.textContent]);
  const uploaded = fs.existsSync(process.env.WEB_FTP_ROOT) ? fs.readdirSync(process.env.WEB_FTP_ROOT, { recursive: true }) : [];
  ok(ftpRes[0].includes('ok') && uploaded.some((f) => String(f).endsWith('thermocam-test.txt')),
    'the FTP test button uploads to a real FTP server (pyftpdlib) and the page says it went through', [ftpRes, uploaded]);
  await saveOf(page, 'ftp');
  const ftpCfg = await apiIn(page, 'GET', 'config/ftp');
  ok(ftpCfg.json.server === '127.0.0.1' && ftpCfg.json.user === 'cam', 'ftp: the settings tried are saved', ftpCfg.json);
  CHANGES.push(['ftp', 'ftp', null, null, (p) => p.$eval(field('ftp.user'), (e) => e.value === 'cam')]);
  await typeInto(page, 'ftp.password', 'wrong');
  await page.click('form[data-section="ftp"] button.test');
  await waitFor(page, () => /failed/.test(document.querySelector('form[data-section="ftp"] .test-result').className), null, 20000);
  ok(await page.$eval('form[data-section="ftp"] .test-result', (e) => e.classList.contains('failed') && e.textContent.length > 15),
    'a wrong FTP password: the test says it failed, with the server\'s answer', await page.$eval('form[data-section="ftp"] .test-result', (e) => e.textContent));
  await page.click('form[data-section="ftp"] .form-bar button[type="button"]');

  await open(page, 'email');
  await typeInto(page, 'email.sender_address', 'camera@example.com');
  await typeInto(page, 'email.server', '127.0.0.1');
  await typeInto(page, 'email.port', process.env.WEB_SMTP_PORT);
  await page.click('form[data-section="email"] .set-list > .add');
  await typeInto(page, 'email.receivers[0].address', 'ops@example.com');
  await page.click('form[data-section="email"] button.test');
  await waitFor(page, () => /ok|failed/.test(document.querySelector('form[data-section="email"] .test-result').className), null, 20000);
  const mailRes = await page.$eval('form[data-section="email"] .test-result', (e) => [e.className, e.textContent]);
  const mails = fs.existsSync(process.env.WEB_SMTP_OUT) ? fs.readdirSync(process.env.WEB_SMTP_OUT).filter((f) => f.endsWith('.eml')) : [];
  ok(mailRes[0].includes('ok') && mails.length === 1,
    'the email test button sends a mail through a real SMTP server (aiosmtpd) and the page says it went through', [mailRes, mails]);
  await saveOf(page, 'email');
  const mailCfg = await apiIn(page, 'GET', 'config/email');
  ok(mailCfg.json.receivers?.[0]?.address === 'ops@example.com' && mailCfg.json.server === '127.0.0.1', 'email: the settings tried are saved', mailCfg.json);
  CHANGES.push(['email', 'email', null, null, (p) => p.$eval(field('email.receivers[0].address'), (e) => e.value === 'ops@example.com')]);

  await open(page, 'center');
  await typeInto(page, 'center.receivers[0].url', `http://127.0.0.1:${process.env.WEB_HTTP_PORT}/alarms`);
  await page.click('form[data-section="center"] button.test');
  await waitFor(page, () => /ok|failed/.test(document.querySelector('form[data-section="center"] .test-result').className), null, 20000);
  const centerRes = await page.$eval('form[data-section="center"] .test-result', (e) => [e.className, e.textContent]);
  const posted = fs.existsSync(process.env.WEB_HTTP_OUT) ? fs.readdirSync(process.env.WEB_HTTP_OUT).filter((f) => !f.includes('headers')) : [];
  ok(centerRes[0].includes('ok') && posted.length === 1 && JSON.parse(fs.readFileSync(path.join(process.env.WEB_HTTP_OUT, posted[0]))).source === 'test',
    'the surveillance center test button posts a test event to a real HTTP server and the page says it went through', [centerRes, posted]);
  await page.click('form[data-section="center"] .form-bar button[type="button"]');

  // ---- the week grid: periods drawn with the mouse are saved ----
  await open(page, 'schedules');
  await page.select('#sched-source', 'input-1');
  await waitFor(page, () => document.querySelector('form[data-source="input-1"]'));
  await page.click('.wg-track[data-day="monday"] .wg-period');
  await page.click('.wg-track[data-day="tuesday"] .wg-period');
  await drag(page, 'monday', 6, 12);
  await drag(page, 'monday', 14, 18.5);
  await drag(page, 'tuesday', 20, 22);
  await page.click('form[data-source="input-1"] .form-bar .primary');
  await waitFor(page, () => document.querySelector('form[data-source="input-1"] .form-state').dataset.state === 'saved');
  let ai = await apiIn(page, 'GET', 'config/alarm_inputs');
  const sched = ai.json.inputs[0].schedule;
  ok(JSON.stringify(sched.monday) === JSON.stringify([{ start: '06:00', end: '12:00' }, { start: '14:00', end: '18:30' }])
    && JSON.stringify(sched.tuesday) === JSON.stringify([{ start: '20:00', end: '22:00' }])
    && JSON.stringify(sched.wednesday) === JSON.stringify([{ start: '00:00', end: '24:00' }]),
  'the periods drawn with the mouse on the week grid are saved (alarm input 1: Monday 06:00-12:00 and 14:00-18:30, Tuesday 20:00-22:00)', sched);
  await shot(page, 'settings-schedules-drawn');
  await page.select('#copy-from', 'monday');
  await page.click('#copy-wednesday');
  await page.click('#copy-friday');
  await page.click('#copy-go');
  await waitFor(page, () => document.querySelectorAll('.wg-track[data-day="friday"] .wg-period').length === 2);
  ai = await apiIn(page, 'GET', 'config/alarm_inputs');
  ok(JSON.stringify(ai.json.inputs[0].schedule.wednesday) === JSON.stringify(sched.monday)
    && JSON.stringify(ai.json.inputs[0].schedule.friday) === JSON.stringify(sched.monday)
    && await page.$$eval('.wg-track[data-day="wednesday"] .wg-period', (e) => e.length) === 2,
  'Monday copied to Wednesday and Friday (POST /events/schedule-copy), and the grid shows it', ai.json.inputs[0].schedule);
  // a click on a period removes it
  await page.click('.wg-track[data-day="friday"] .wg-period');
  ok(await page.$$eval('.wg-track[data-day="friday"] .wg-period', (e) => e.length) === 1 && await stateOf(page, 'alarm_inputs') === 'unsaved',
    'a click on a period removes it (unsaved until Save)');
  await page.click('form[data-source="input-1"] .form-bar button[type="button"]');

  // ---- alarm outputs: manual trigger and clear ----
  await open(page, 'alarm-outputs');
  await page.click('.io-state[data-output="1"] ~ button.trigger');
  await waitFor(page, () => document.querySelector('.io-state[data-output="1"]').classList.contains('on'));
  const io1 = await apiIn(page, 'GET', 'io');
  await page.click('.io-state[data-output="1"] ~ button.clear');
  await waitFor(page, () => !document.querySelector('.io-state[data-output="1"]').classList.contains('on'));
  const io2 = await apiIn(page, 'GET', 'io');
  ok(io1.json.outputs[0].on && io1.json.outputs[0].manual && !io2.json.outputs[0].on,
    'alarm output 1 triggered and cleared by hand from the page', [io1.json.outputs[0], io2.json.outputs[0]]);

  // ---- OSD: the overlay picture uploaded ----
  await open(page, 'osd');
  const bmpFile = path.join(CONTROL, 'logo.bmp');
  fs.writeFileSync(bmpFile, bmp(24, 16));
  await (await page.$('#osd-file')).uploadFile(bmpFile);
  await page.click('#osd-upload');
  await waitFor(page, () => document.querySelector('.osd-extra .test-result').textContent);
  const pic = await page.evaluate(async () => (await fetch('/api/v1/osd/picture')).arrayBuffer().then((b) => b.byteLength));
  ok(await page.$eval('.osd-extra .test-result', (e) => e.textContent === 'Uploaded') && pic === bmp(24, 16).length,
    'the overlay picture (a 24-bit BMP) is uploaded from the OSD page (PUT /osd/picture)', [pic, await page.$eval('.osd-extra .test-result', (e) => e.textContent)]);
  ok(await waitFor(page, () => document.querySelector('.osd-preview').naturalWidth > 0), 'the OSD page shows a preview of the picture');

  // ---- a member shown only when another says it applies ----
  await open(page, 'image');
  const vis = (n) => page.$eval(field(n), (e) => !!e.offsetParent);
  const hiddenFirst = !await vis('image.dnr.spatial_level') && await vis('image.dnr.level');
  await choose(page, 'image.dnr.mode', 'expert');
  ok(hiddenFirst && await vis('image.dnr.spatial_level') && await vis('image.dnr.temporal_level') && !await vis('image.dnr.level'),
    'DNR: the spatial and temporal levels appear in expert mode, the level goes');
  await page.click('form[data-section="image"] .form-bar button[type="button"]');

  // ---- Modbus: the register map ----
  await open(page, 'modbus');
  ok(await page.$$eval('.registers tbody tr', (r) => r.length) > 20, 'the Modbus page shows the register map');

  // ---- the keyboard reaches every control of a page ----
  await open(page, 'ports');
  await page.$eval('.set-nav a.current', (a) => a.focus());
  const reached = new Set();
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    reached.add(await page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent));
  }
  const controls = await page.$$eval('.set-body input, .set-body select, .set-body button:not(:disabled), .set-body a',
    (es) => es.filter((e) => e.offsetParent).map((e) => e.id || e.textContent));
  ok(controls.length >= 5 && controls.every((c) => reached.has(c)), 'Tab reaches every control of the ports page', controls.filter((c) => !reached.has(c)));

  // ---- Chinese ----
  await page.select('#lang', 'zh');
  await open(page, 'thermometry');
  ok(await page.evaluate(() => document.documentElement.lang === 'zh-CN' && document.querySelector('label[for]').textContent === '启用'
    && document.querySelector('.set-nav a.current').textContent === '测温参数'), 'in Chinese: labels, nav and lang attribute');
  await shot(page, 'settings-thermometry-zh');
  await page.select('#lang', 'en');

  // ---- phone width ----
  await page.setViewport({ width: 390, height: 844 });
  const wide = [];
  for (const id of PAGES) {
    await open(page, id);
    if (await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1))
      wide.push(id);
    await shot(page, `settings-${id}-phone`);
  }
  ok(wide.length === 0, 'at 390 px no settings page is wider than the screen', wide);
  await page.setViewport({ width: 1280, height: 800 });

  // ---- a user-level account: no settings (nav, route, API) ----
  const users = await apiIn(page, 'POST', 'users', { name: 'viewer', password: 'View3r#2026x', level: 'user' });
  ok(users.status === 201 || users.status === 200, 'a user-level account', users);
  const ctx2 = await browser.createBrowserContext();
  const viewer = await openAs(ctx2, 'viewer', 'View3r#2026x', '#/live');
  await waitFor(viewer, () => document.querySelector('#nav') && !document.querySelector('#nav').hidden);
  console_.expectRefusals = true;
  const navHidden = await viewer.$eval('#nav a[href="#/settings"]', (a) => a.hidden || !a.offsetParent);
  await viewer.evaluate(() => { location.hash = '#/settings/ports'; });
  await waitFor(viewer, () => document.querySelector('.set-refused'));
  const refusedPage = await viewer.evaluate(() => !!document.querySelector('.set-refused') && !document.querySelector('.set-part'));
  const apiRefused = await apiIn(viewer, 'GET', 'config/ports');
  const putRefused = await apiIn(viewer, 'PUT', 'config/time', { timezone: 'UTC' });
  ok(navHidden && refusedPage && apiRefused.status === 403 && putRefused.status === 403,
    'a user-level account: no Configuration in the nav, the settings route refuses, the API answers 403', [navHidden, refusedPage, apiRefused.status, putRefused.status]);
  await shot(viewer, 'settings-refused-user');
  await ctx2.close();
  console_.expectRefusals = false;

  // ---- the daemon restarted: every page shows what was saved ----
  fs.writeFileSync(path.join(CONTROL, 'restart'), '');
  const end = Date.now() + 40000;
  while (!fs.existsSync(path.join(CONTROL, 'restarted')) && Date.now() < end)
    await sleep(100);
  ok(fs.existsSync(path.join(CONTROL, 'restarted')), 'the daemon restarted');
  await page.close();
  page = await openAs(browser, 'admin', PASSWORD, '#/live');
  page.on('dialog', (d) => d.accept());
  const lost = [];
  for (const [id, section, , , shown] of CHANGES) {
    await open(page, id);
    if (!await shown(page).catch(() => false))
      lost.push(`${id} (${section})`);
  }
  ok(lost.length === 0, `after a restart of the daemon the ${CHANGES.length} changes are still on their pages`, lost);
  // leaving with unsaved changes by closing the tab asks too (beforeunload)
  await open(page, 'delivery');
  await typeInto(page, 'delivery.timeout_s', 45);
  let unloadAsked = false;
  page.removeAllListeners('dialog');
  page.on('dialog', async (d) => { unloadAsked = d.type() === 'beforeunload'; await d.accept(); });
  await page.close({ runBeforeUnload: true });
  for (let i = 0; i < 50 && !unloadAsked; i++)
    await sleep(100);
  ok(unloadAsked, 'closing the tab with unsaved changes asks first (beforeunload)');
  // but the refusals the test asked for: the busy port (400) and the wrong FTP password (502)
  const errors = consoleErrors.filter((e) => !/status of 400 .*config\/ports$|status of 502 .*ftp\/test$/.test(e.text));
  ok(errors.length === 0 && consoleErrors.length === 2, 'no console error in the whole test but the 2 refusals asked for', consoleErrors.map((e) => e.text));
  console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s`);
} finally {
  await browser.close();
}
finish();
