// The hardware this appliance may lack (manual 6.1.8-6.1.12, 7.2.9) in
// headless Chromium against a daemon whose backend simulates lens, focus,
// light and wiper (run.py --activated --daemon-arg=--hardware-backend=...):
// the live view shows their controls; holding zoom in moves the lens until
// released; the auxiliary focus, a wipe and the light act; the hardware page
// shows each function's state and its actions, and says what is absent (the
// video output); the About page lists the hardware; no console error;
// screenshots at 1280x800 and 390x844.
import { ok, finish, waitFor, shot, apiIn, consoleErrors, launch, openAs, sleep, PASSWORD } from './lib.mjs';

const browser = await launch();
try {
  const page = await openAs(browser, 'admin', PASSWORD);
  const tools = await waitFor(page, () => document.querySelectorAll('.hw-tools button').length > 0, null, 15000);
  const buttons = await page.$$eval('.hw-tools button', (bs) => bs.map((b) => b.dataset.hw));
  ok(tools && buttons.includes('lens.zoom_in') && buttons.includes('focus.auto') && buttons.includes('wiper.once')
    && buttons.includes('light') && buttons.includes('lens.init'), 'live view: the controls of what is present', buttons);
  await shot(page, 'hardware-live-1280');

  // zoom in while held
  const zoomIn = await page.$('.hw-tools button[data-hw="lens.zoom_in"]');
  const box = await zoomIn.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await sleep(800);
  const moving = (await apiIn(page, 'GET', 'hardware')).json.lens;
  await page.mouse.up();
  await sleep(300);
  const a = (await apiIn(page, 'GET', 'hardware')).json.lens;
  await sleep(500);
  const b = (await apiIn(page, 'GET', 'hardware')).json.lens;
  ok(moving.zooming === 'in' && a.zooming === null && a.zoom > 0 && a.zoom === b.zoom,
    'live view: zoom in while the button is held, stopped when released', { moving, a, b });

  await page.click('.hw-tools button[data-hw="wiper.once"]');
  await sleep(200);
  ok((await apiIn(page, 'GET', 'hardware')).json.wiper.wiping, 'live view: wipe once');
  await page.click('.hw-tools button[data-hw="focus.auto"]');
  await sleep(200);
  ok((await apiIn(page, 'GET', 'hardware')).json.focus.auto_focusing, 'live view: auxiliary focus');
  await page.click('.hw-tools button[data-hw="light"]');
  ok(await waitFor(page, () => document.querySelector('.hw-tools button[data-hw="light"]').getAttribute('aria-pressed') === 'true'),
    'live view: the light on (its setting)');
  const cfg = (await apiIn(page, 'GET', 'config/hardware')).json;
  const st = (await apiIn(page, 'GET', 'hardware')).json;
  ok(cfg.light.enabled === true && st.light.on === true, 'the light: saved and applied', { cfg: cfg.light, st: st.light });

  // the hardware page
  await page.evaluate(() => { location.hash = '#/settings/hardware'; });
  ok(await waitFor(page, () => document.querySelector('[data-settings="hardware"] .set-body[data-ready]'), null, 15000),
    'the hardware page opens');
  const fns = await page.$$eval('.hw-function', (els) => els.map((e) => [e.dataset.hw, e.querySelector('.hw-present').textContent,
    [...e.querySelectorAll('.hw-actions button')].map((b) => b.dataset.action)]));
  const video = fns.find((f) => f[0] === 'video_output');
  const lens = fns.find((f) => f[0] === 'lens');
  ok(fns.length === 5 && video && /Not present/.test(video[1]) && video[2].length === 0
    && lens && /zoom/.test(lens[1]) && lens[2].includes('init'),
  'the hardware page: each function, its state and actions; the video output absent', fns);
  await page.click('.hw-actions button[data-action="init"]');
  ok(await waitFor(page, () => /initializing: (Yes|true)/i.test(document.querySelector('.hw-function[data-hw="lens"] .hw-present').textContent), null, 5000),
    'the hardware page: lens initialization, its state followed');
  ok(await waitFor(page, () => /initializing: (No|false)/i.test(document.querySelector('.hw-function[data-hw="lens"] .hw-present').textContent), null, 8000),
    'the hardware page: the initialization ends');
  await shot(page, 'hardware-page-1280');
  await page.setViewport({ width: 390, height: 844 });
  await sleep(300);
  await shot(page, 'hardware-page-390');

  await page.evaluate(() => { location.hash = '#/settings/about'; });
  ok(await waitFor(page, () => /Lens.*Focus.*Light.*Wiper/.test(document.querySelector('dd[data-key="hardware"]')?.textContent || ''), null, 15000),
    'the About page lists the hardware present');

  const errors = consoleErrors.filter((e) => !e.ws);
  ok(errors.length === 0, 'no console error', errors);
} finally {
  await browser.close();
}
finish();
