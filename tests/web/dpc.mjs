// Manual defective pixel correction on the live view (manual 7.5, issue 19
// item 11) in headless Chromium against a real daemon (run.py --activated):
// a click on the live picture picks the sensor pixel under it (the picture
// scaled to the window, at two sizes, digitally zoomed, and mirrored), the arrows move the
// cursor, Add marks it (a mark on the picture where the pixel is), Correct
// and Cancel change the device's list, the labels in Chinese, the
// background correction button; no console error; screenshots at 1280x800
// and 390x844.
import { ok, finish, waitFor, shot, apiIn, consoleErrors, launch, openAs, sleep, PASSWORD } from './lib.mjs';

// a screen point inside sensor pixel (x, y) as the picture shows it: a whole
// CSS pixel (a click's coordinates are whole), the centre's where the
// picture's pixel is under 1 CSS pixel
async function screenOf(page, x, y, mirror = 'none') {
  return page.$eval('#zoomer', (z, x, y, mirror, W, H) => {
    const r = z.getBoundingClientRect();
    const flipX = mirror === 'horizontal' || mirror === 'both', flipY = mirror === 'vertical' || mirror === 'both';
    const span = (i, n, flip, start, size) => {
      const a = start + (flip ? n - 1 - i : i) / n * size, b = a + size / n;
      const whole = Math.ceil(a + 0.01);
      return whole < b - 0.01 ? whole : (a + b) / 2;
    };
    return { x: span(x, W, flipX, r.left, r.width), y: span(y, H, flipY, r.top, r.height), w: r.width, h: r.height };
  }, x, y, mirror, 640, 512);
}

// the centre of sensor pixel (x, y) on the screen (where its mark is drawn)
async function centreOf(page, x, y) {
  return page.$eval('#zoomer', (z, x, y, W, H) => {
    const r = z.getBoundingClientRect();
    return { x: r.left + (x + 0.5) / W * r.width, y: r.top + (y + 0.5) / H * r.height };
  }, x, y, 640, 512);
}

const picked = (page) => page.$eval('#dpc-at', (e) => [e.dataset.x, e.dataset.y].join(','));

async function ready(page) {
  await page.waitForSelector('#dpc-panel', { timeout: 15000 });
  // the panel open, the device's lists loaded, the picture laid out
  await page.$eval('#dpc-panel', (d) => { d.open = true; d.scrollIntoView(); });
  return waitFor(page, () => document.querySelector('#dpc-count')?.textContent
    && document.getElementById('zoomer').getBoundingClientRect().width > 100, undefined, 15000);
}

const browser = await launch();
try {
  let page = await openAs(browser, 'admin', PASSWORD, '#/live');
  ok(await ready(page), 'the live view shows the DPC panel with the device\'s list');
  let r = await apiIn(page, 'GET', 'image/dpc');
  ok(r.status === 200 && r.json.pixels.length === 0 && r.json.width === 640, 'nothing corrected yet (GET /image/dpc)', r);

  // ---- pick: a click on the picture is the sensor pixel under it
  await page.click('#dpc-pick');
  ok(await page.$eval('#dpc-pick', (b) => b.getAttribute('aria-pressed')) === 'true'
    && await page.$eval('#zoomer', (z) => z.classList.contains('picking')), 'Pick pixels is on (a crosshair on the picture)');
  let at = await screenOf(page, 100, 200);
  await page.mouse.click(at.x, at.y);
  ok(await waitFor(page, () => document.querySelector('#dpc-at').dataset.x === '100'),
    `a click on the picture (${Math.round(at.w)}x${Math.round(at.h)} on screen) picks sensor pixel 100,200`, await picked(page));
  ok(await picked(page) === '100,200', 'x and y both', await picked(page));
  at = await screenOf(page, 639, 511);
  await page.mouse.click(at.x, at.y);
  ok(await picked(page) === '639,511', 'the last pixel, bottom right, is 639,511', await picked(page));
  at = await screenOf(page, 0, 0);
  await page.mouse.click(at.x, at.y);
  ok(await picked(page) === '0,0', 'the first, top left, is 0,0', await picked(page));

  // the arrows move the cursor one pixel, kept inside the sensor
  await page.click('#dpc-left');
  await page.click('#dpc-up');
  ok(await picked(page) === '0,0', 'the arrows stop at the sensor\'s edge', await picked(page));
  at = await screenOf(page, 300, 40);
  await page.mouse.click(at.x, at.y);
  await page.click('#dpc-right');
  await page.click('#dpc-right');
  await page.click('#dpc-down');
  ok(await picked(page) === '302,41', 'a click on 300,40 then right, right, down: 302,41', await picked(page));
  const cursorAt = await page.$eval('.dpc-mark.cursor', (m) => { const b = m.getBoundingClientRect(); return [b.left + b.width / 2, b.top + b.height / 2]; });
  const want = await centreOf(page, 302, 41);
  ok(Math.abs(cursorAt[0] - want.x) < 1.5 && Math.abs(cursorAt[1] - want.y) < 1.5,
    'the cursor is drawn on that pixel of the picture', { cursorAt, want });

  // ---- add, then correct together
  await page.click('#dpc-add');
  ok(await waitFor(page, () => document.querySelector('.dpc-mark.pending[data-x="302"][data-y="41"]')),
    'Add: a mark on the picture where the pixel is');
  at = await screenOf(page, 100, 200);
  await page.mouse.click(at.x, at.y);
  await page.click('#dpc-add');
  await waitFor(page, () => document.querySelectorAll('#dpc-list .dpc-item.pending').length === 2);
  r = await apiIn(page, 'GET', 'image/dpc');
  const pend = (r.json.pending || []).map((p) => `${p.x},${p.y}`).sort();
  ok(JSON.stringify(pend) === JSON.stringify(['100,200', '302,41']) && r.json.pixels.length === 0,
    'the device has both marked, none corrected yet', r.json);
  await shot(page, 'dpc-picked-1280');
  await page.click('#dpc-correct');
  await waitFor(page, () => document.querySelectorAll('#dpc-list .dpc-item.corrected').length === 2);
  r = await apiIn(page, 'GET', 'image/dpc');
  ok(r.json.pixels.length === 2 && r.json.pending.length === 0, 'Correct: the device corrects both', r.json);
  ok(await page.$eval('#dpc-count', (e) => e.textContent).then((s) => s.startsWith('2 corrected')),
    'the panel counts them', await page.$eval('#dpc-count', (e) => e.textContent));
  await shot(page, 'dpc-corrected-1280');
  await page.click('#dpc-cancel');
  await waitFor(page, () => document.querySelectorAll('#dpc-list .dpc-item').length === 0);
  r = await apiIn(page, 'GET', 'image/dpc');
  ok(r.json.pixels.length === 0, 'Cancel: the device no longer corrects them', r.json);

  // ---- the labels in Chinese
  await page.select('#lang', 'zh');
  ok(await waitFor(page, () => document.querySelector('#dpc-pick').textContent === '选取像素'
    && document.querySelector('#dpc-correct').textContent === '校正'), 'the panel speaks Chinese',
    await page.$eval('#dpc-panel', (e) => e.innerText.slice(0, 200)));
  await shot(page, 'dpc-zh-1280');
  await page.select('#lang', 'en');

  // ---- digitally zoomed (the wheel): a pixel is larger on the screen, still picked exactly
  const fc = await page.$eval('#frame', (f) => { const b = f.getBoundingClientRect(); return [b.left + b.width / 2, b.top + b.height / 2]; });
  await page.mouse.move(...fc);
  await page.mouse.wheel({ deltaY: -600 });
  await sleep(300);
  const scale = await page.$eval('#zoomer', (z) => z.style.transform);
  at = await screenOf(page, 331, 257);
  await page.mouse.click(at.x, at.y);
  ok(/scale\(([2-9]|1\.[2-9])/.test(scale) && await picked(page) === '331,257',
    `zoomed (${scale}): a click picks sensor pixel 331,257`, [scale, await picked(page)]);
  await shot(page, 'dpc-zoomed-1280');
  await page.select('#proportion', 'fill');
  await page.select('#proportion', 'original');

  // ---- background correction (7.2.2)
  await page.click('#bg-correct');
  ok(await waitFor(page, () => /Background correction done|try again/.test(document.getElementById('flash').textContent)),
    'Background correction answers', await page.$eval('#flash', (e) => e.textContent));

  // ---- a phone's width, and a mirrored picture
  r = await apiIn(page, 'PUT', 'config/image', { mirror: 'horizontal' });
  ok(r.status === 200, 'the picture mirrored (image.mirror horizontal)', r);
  await page.setViewport({ width: 390, height: 844 });
  await page.reload({ waitUntil: 'load' });
  ok(await ready(page), 'the live view at 390x844');
  await page.click('#dpc-pick');
  at = await screenOf(page, 500, 50, 'horizontal');
  await page.mouse.click(at.x, at.y);
  await waitFor(page, () => document.querySelector('#dpc-at').dataset.x !== '');
  // a CSS pixel is about 2 sensor pixels here: the one under the click's
  // point, turned back through the mirror
  const expect = await page.$eval('#zoomer', (z, cx, cy) => {
    const r = z.getBoundingClientRect();
    return `${Math.floor((1 - (cx - r.left) / r.width) * 640)},${Math.floor((cy - r.top) / r.height * 512)}`;
  }, Math.floor(at.x), Math.floor(at.y));
  let got = await picked(page);
  ok(got === expect && Math.abs(+got.split(',')[0] - 500) <= 1 && got.split(',')[1] === '50',
    `mirrored and ${Math.round(at.w)}x${Math.round(at.h)} on screen: a click on sensor pixel 500,50 as shown picks ${got}`,
    { got, expect });
  for (let i = 0; i < 3 && (got = await picked(page)) !== '500,50'; i++)
    await page.click(+got.split(',')[0] > 500 ? '#dpc-right' : '#dpc-left');
  ok(await picked(page) === '500,50', 'the arrows reach it exactly (on a mirrored picture too)', await picked(page));
  // they move the cursor as the picture shows it: Right goes right on the
  // screen, a lower sensor column when mirrored
  await page.click('#dpc-right');
  ok(await picked(page) === '499,50', 'Right on a mirrored picture: the cursor goes right on the screen (sensor column 499)',
    await picked(page));
  await page.click('#dpc-left');
  // a click at the picture's left edge is the sensor's right edge
  at = await screenOf(page, 639, 10, 'horizontal');
  await page.mouse.click(at.x, at.y);
  ok(await picked(page) === '639,10', 'the left edge of a mirrored picture is the sensor\'s last column', await picked(page));
  await page.click('#dpc-add');
  ok(await waitFor(page, () => document.querySelector('.dpc-mark.pending[data-x="639"]')), 'added at that width too');
  await shot(page, 'dpc-picked-390');
  await apiIn(page, 'POST', 'image/dpc/cancel');
  await apiIn(page, 'PUT', 'config/image', { mirror: 'none' });
  await sleep(200);
  const errs = consoleErrors.filter((e) => !e.ws);
  ok(errs.length === 0, 'no console error', errs.map((e) => e.text));
} finally {
  await browser.close();
}
finish();
