// The system pages of issue 19 in headless Chromium against a real daemon
// (run.py --activated): the time page (the device's time shown, set by hand
// and to the computer's, the NTP Test against a real chronyd -x on loopback,
// a custom DST saved), the same unit page, the device information and the
// licenses, the emissivity table where an emissivity is chosen; no console
// error; screenshots at 1280x800 and 390x844.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ok, finish, waitFor, shot, apiIn, consoleErrors, launch, openAs, sleep, PASSWORD } from './lib.mjs';

async function open(page, id) {
  await page.evaluate((h) => { location.hash = h; }, '#/settings/' + id);
  return waitFor(page, (id) => document.querySelector(`[data-settings="${id}"] .set-body[data-ready]`), id, 15000);
}

async function saveOf(page, section) {
  await page.click(`form[data-section="${section}"] .form-bar .primary`);
  return waitFor(page, (s) => ['saved', 'failed'].includes(document.querySelector(`form[data-section="${s}"] .form-state`)?.dataset.state), section);
}

function freeUdpPort() {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

// chronyd -x (it never touches the clock) with a local reference, its files in a temporary directory
async function startChrony() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tc-web-chrony-'));
  const port = await freeUdpPort();
  fs.writeFileSync(path.join(dir, 'chrony.conf'), `port ${port}\nbindaddress 127.0.0.1\nallow 127.0.0.1\n`
    + `local stratum 3\ncmdport 0\npidfile ${dir}/chronyd.pid\ndriftfile ${dir}/drift\n`);
  const args = ['-x', '-d', '-f', path.join(dir, 'chrony.conf'), ...(process.getuid() === 0 ? ['-u', 'root'] : [])];
  const proc = spawn('chronyd', args, { stdio: 'ignore' });
  return { dir, port, proc };
}

const browser = await launch();
const chrony = await startChrony();
try {
  const page = await openAs(browser, 'admin', PASSWORD, '#/settings/time');
  ok(await open(page, 'time'), 'the time page opens');
  ok(await waitFor(page, () => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(document.querySelector('#device-time')?.textContent || '')),
    'it shows the device time', await page.$eval('#device-time', (e) => e.textContent).catch(() => null));

  // manual set: a time typed into the field
  await page.$eval('#set-time', (e) => { e.value = '2031-06-15T12:00:00'; });
  await page.click('#set-time-go');
  await waitFor(page, () => document.querySelector('#device-time')?.textContent.startsWith('2031-06-15'));
  let r = await apiIn(page, 'GET', 'time');
  ok(r.json.utc.startsWith('2031-06-15'), 'Set: the device time becomes the one typed (this browser\'s zone)', r.json.utc);
  await shot(page, 'time-set-1280');

  // sync with the computer's time
  await page.click('#sync-computer');
  await waitFor(page, () => !document.querySelector('#device-time')?.textContent.startsWith('2031'));
  r = await apiIn(page, 'GET', 'time');
  ok(Math.abs(r.json.epoch_ms - Date.now()) < 1000, 'Sync with the computer\'s time: the device\'s time is this one\'s', r.json);

  // the NTP Test: the server and port as typed, not saved
  await page.click('[name="time.ntp.server"]', { clickCount: 3 });
  await page.type('[name="time.ntp.server"]', '127.0.0.1');
  await page.click('[name="time.ntp.port"]', { clickCount: 3 });
  await page.keyboard.press('Backspace');
  await page.type('[name="time.ntp.port"]', String(chrony.port));
  await sleep(1000);
  await page.click('#ntp-test');
  ok(await waitFor(page, () => /stratum 3/.test(document.querySelector('#ntp-test-result')?.textContent || ''), null, 10000),
    'Test against chronyd on loopback shows the offset and stratum 3',
    await page.$eval('#ntp-test-result', (e) => e.textContent));
  r = await apiIn(page, 'GET', 'config/time');
  ok(r.json.ntp.server === '', 'the Test saved nothing', r.json.ntp);

  // a custom DST: its fields show only for custom
  const hidden = await page.$eval('[name="time.dst.start.month"]', (e) => e.closest('.form-field')?.hidden || e.offsetParent === null).catch(() => true);
  await page.select('[name="time.dst.mode"]', JSON.stringify('custom'));
  await sleep(200);
  const shown = await page.$eval('[name="time.dst.start.month"]', (e) => e.offsetParent !== null);
  ok(hidden && shown, 'the DST start and end show only for a custom DST', { hidden, shown });
  await page.select('[name="time.dst.bias_min"]', JSON.stringify(30));
  await page.$eval('[name="time.ntp.server"]', (e) => { e.value = ''; e.dispatchEvent(new Event('input', { bubbles: true })); });
  ok(await saveOf(page, 'time'), 'saved');
  r = await apiIn(page, 'GET', 'config/time');
  ok(r.json.dst.mode === 'custom' && r.json.dst.bias_min === 30 && r.json.dst.start.month === 3,
    'GET /config/time: the custom DST as chosen', r.json.dst);
  await shot(page, 'time-1280');
  await page.setViewport({ width: 390, height: 844 });
  await sleep(300);
  await shot(page, 'time-390');
  await page.setViewport({ width: 1280, height: 800 });

  // same unit
  ok(await open(page, 'units'), 'the same unit page opens');
  await page.click('[name="units.same_unit"]');
  await page.select('[name="units.temperature"]', JSON.stringify('fahrenheit'));
  await page.select('[name="units.distance"]', JSON.stringify('foot'));
  ok(await saveOf(page, 'units'), 'saved');
  r = await apiIn(page, 'GET', 'config/thermometry');
  ok(r.json.unit === 'fahrenheit', 'same unit on: thermometry.unit follows', r.json.unit);
  await shot(page, 'units-1280');

  // the emissivity table where an emissivity is chosen
  ok(await open(page, 'thermometry'), 'the thermometry page opens');
  ok(await waitFor(page, () => document.querySelector('[name="thermometry.unit"]')?.disabled
      && document.querySelector('.same-unit a[href="#/settings/units"]')),
    'same unit on: the thermometry page\'s unit is locked, with a link to Same unit');
  const sel = '[data-settings="thermometry"] select.material-pick';
  ok(await waitFor(page, (s) => document.querySelector(s)?.options.length === 16, sel),
    'the thermometry page offers the 15 materials of GET /materials');
  const wood = await page.$eval(sel, (s) => [...s.options].find((o) => o.dataset.material === 'wood')?.value);
  await page.select(sel, wood);
  const em = await page.$eval('[name="thermometry.emissivity"]', (e) => e.value);
  ok(em === '0.85', 'picking Wood puts 0.85 in the emissivity', em);
  ok(await saveOf(page, 'thermometry'), 'saved');
  r = await apiIn(page, 'GET', 'config/thermometry');
  ok(r.json.emissivity === 0.85, 'GET /config/thermometry: emissivity 0.85', r.json.emissivity);
  // the distance in feet (same unit, foot): 2 m shows as 6.56 ft; 10 ft typed is 3.048 m
  const ftSel = '[data-settings="thermometry"] input[data-unit="foot"]';
  ok(await waitFor(page, (s) => document.querySelector(s)?.value === '6.56', ftSel),
    'same unit in feet: the distance shows in feet', await page.$eval(ftSel, (e) => e.value).catch(() => null));
  await page.click(ftSel, { clickCount: 3 });
  await page.keyboard.press('Backspace');
  await page.type(ftSel, '10');
  ok(await saveOf(page, 'thermometry'), 'saved');
  r = await apiIn(page, 'GET', 'config/thermometry');
  ok(Math.abs(r.json.distance - 3.048) < 0.01, 'GET /config/thermometry: 10 ft kept as 3.048 m', r.json.distance);

  // the device information and the licenses
  ok(await open(page, 'about'), 'the about page opens');
  const dev = (await apiIn(page, 'GET', 'device')).json;
  const serial = await page.$eval('dd[data-key="serial_number"]', (e) => e.textContent);
  const mac = await page.$eval('dd[data-key="mac_address"]', (e) => e.textContent);
  ok(serial === dev.serial_number && (mac === dev.mac_address || (mac === '—' && !dev.mac_address)),
    'the device information: serial, MAC as the API says', { serial, mac });
  await page.click('#licenses summary');
  const rows = await page.$$eval('table.licenses tbody tr', (trs) => trs.map((tr) => tr.textContent));
  ok(rows.length > 15 && rows.some((t) => t.startsWith('glib-2.0') && /LGPL/.test(t)),
    'the licenses: every component, GLib under the LGPL', rows.slice(0, 3));
  await shot(page, 'about-1280');
  await page.setViewport({ width: 390, height: 844 });
  await sleep(300);
  await shot(page, 'about-390');
  await open(page, 'units');
  await shot(page, 'units-390');

  const errors = consoleErrors.filter((e) => !e.ws);
  ok(errors.length === 0, 'no console error', errors);
} finally {
  // chronyd writes its files as it goes: gone first, then its directory
  const gone = chrony.proc.exitCode !== null ? Promise.resolve()
    : new Promise((resolve) => chrony.proc.once('exit', resolve));
  chrony.proc.kill('SIGTERM');
  await Promise.race([gone, sleep(5000)]);
  if (chrony.proc.exitCode === null && chrony.proc.signalCode === null)
    chrony.proc.kill('SIGKILL');
  fs.rmSync(chrony.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  await browser.close();
}
finish();
