// The files page (manual 8.2, 8.3), the radiometric viewer and the trends
// page (issue 16 items 3 and 6) in headless Chromium against a real,
// activated daemon (run.py --activated files.mjs). Prints TAP; screenshots
// files-*.png at 1280x800 and 390x844.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  PASSWORD, sleep, ok, finish, waitFor, shot, apiIn, consoleErrors, console_, launch, openAs,
} from './lib.mjs';

const USER_PW = 'Watch#2026pw';
const CLI = path.join(process.env.THERMOCAM_BUILD || path.join(process.cwd(), 'build'), 'appliance', 'thermocam');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'web-files-'));
const PHONE = { width: 390, height: 844 };
const DESK = { width: 1280, height: 800 };

// the bytes of an API file, fetched by the page (its session)
async function bytesIn(page, p) {
  const b64 = await page.evaluate(async (p) => {
    const r = await fetch('/api/v1/' + p);
    const u8 = new Uint8Array(await r.arrayBuffer());
    let s = '';
    for (let i = 0; i < u8.length; i += 0x8000)
      s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
    return btoa(s);
  }, p);
  return Buffer.from(b64, 'base64');
}

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

async function both(page, name, fn) {
  await page.setViewport(DESK);
  await sleep(300);
  if (fn)
    await fn();
  await shot(page, name);
  await page.setViewport(PHONE);
  await sleep(400);
  await shot(page, name + '-phone');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  ok(wide <= PHONE.width + 1, `${name}: nothing wider than a phone's screen`, wide);
  await page.setViewport(DESK);
  await sleep(300);
}

const browser = await launch();
try {
  const page = await openAs(browser, 'admin', PASSWORD, '#/live', DESK);
  ok(await waitFor(page, () => location.hash === '#/live' && document.querySelector('#capture')), 'the live view is there');
  const asked = [];
  page.on('request', (r) => { if (/\/api\/v1\/captures\/./.test(r.url())) asked.push({ url: r.url(), range: r.headers().range }); });
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: tmp });

  // ---- captures from the live view's own button, a plain JPEG, a recording
  await waitFor(page, async () => (await fetch('/api/v1/temperatures')).ok, null, 15000);
  const before = (await apiIn(page, 'GET', 'captures')).json.length;
  await page.click('#capture');
  ok(await waitFor(page, (n) => fetch('/api/v1/captures').then((r) => r.json()).then((l) => l.length === n + 1), before, 15000),
    'the live view\'s radiometric capture button keeps a picture');
  const rjpeg = (await apiIn(page, 'GET', 'captures')).json[0];
  const plain = await apiIn(page, 'POST', 'captures', { format: 'jpeg' });
  ok(plain.status === 201, 'a plain JPEG capture is kept too', plain);
  const bmp = await apiIn(page, 'POST', 'captures', { format: 'bmp' });
  ok(bmp.status === 201 && bmp.json.name.endsWith('.bmp'), 'and a BMP', bmp);
  await page.click('#record');
  await sleep(2500);
  await page.click('#record');
  ok(await waitFor(page, () => fetch('/api/v1/recordings').then((r) => r.json()).then((l) => l.length > 0), null, 10000),
    'the live view\'s record button makes a recording');
  const recs = (await apiIn(page, 'GET', 'recordings')).json;

  // ---- the files page
  const navFiles = await page.$('#nav a[href="#/files"]');
  ok(navFiles && await navFiles.isVisible(), 'the header links the files page');
  await navFiles.click();
  ok(await waitFor(page, (n) => document.querySelectorAll('#files-grid .file-card').length === n, 3 + recs.length),
    'the files page lists the captures and the recordings', { cards: await page.$$eval('#files-grid .file-card', (l) => l.map((e) => e.dataset.name)),
    view: await page.$eval('#view', (e) => e.textContent.slice(0, 300)), errors: consoleErrors });
  const card = `#files-grid .file-card[data-name="${rjpeg.name}"]`;
  ok(await waitFor(page, (s) => document.querySelector(s + ' img.thumb-img')?.naturalWidth > 0, card),
    'the capture from the live view shows with its thumbnail');
  ok(await waitFor(page, (s) => document.querySelector(s)?.dataset.radiometric === 'true', card),
    'it is marked radiometric (its FLIR segments)', await page.$eval(card, (e) => e.textContent));
  const plainCard = `#files-grid .file-card[data-name="${plain.json.name}"]`;
  ok(await waitFor(page, (s) => document.querySelector(s)?.dataset.radiometric === 'false', plainCard),
    'the plain JPEG is marked as a picture');
  const bmpCard = `#files-grid .file-card[data-name="${bmp.json.name}"]`;
  ok(await waitFor(page, (s) => document.querySelector(s)?.dataset.radiometric === 'false'
    && document.querySelector(s + ' img.thumb-img')?.naturalWidth > 0, bmpCard), 'the BMP too, with its thumbnail');
  const wholeFiles = asked.filter((a) => !/\/thumbnail$/.test(a.url) && !a.range);
  ok(asked.some((a) => /\/thumbnail$/.test(a.url)) && wholeFiles.length === 0,
    'the cards ask for the device\'s thumbnails and the files\' first 16 KB only', asked);
  const meta = await page.$eval(card, (e) => ({ size: e.querySelector('.size').textContent, time: e.querySelector('time').getAttribute('datetime'), trig: e.querySelector('.trigger').textContent }));
  ok(meta.time === rjpeg.time && /KiB|MiB/.test(meta.size) && /Manual/.test(meta.trig), 'its card says its size, time and trigger', meta);
  ok(await page.$eval('#files-grid .file-card.recording', (e) => /MP4/.test(e.textContent) && !!e.querySelector('[data-act="open"]')),
    'a recording says it is an MP4 video and can be played');
  await both(page, 'files-list');
  // a recording plays in the page
  await page.click('#files-grid .file-card.recording [data-act="open"]');
  ok(await waitFor(page, () => {
    const v = document.querySelector('dialog.player[open] video');
    return v && v.readyState >= 1 && v.duration > 0.5;
  }, null, 10000), 'a recording plays in the page', await page.evaluate(() => {
    const v = document.querySelector('dialog.player video');
    return v && { state: v.readyState, duration: v.duration, error: v.error?.message };
  }));
  await shot(page, 'files-play');
  await page.click('dialog.player .buttons button');
  ok(await waitFor(page, () => !document.querySelector('dialog.player')), 'and its player closes');

  // a capture taken meanwhile shows without asking
  const late = await apiIn(page, 'POST', 'captures', { format: 'jpeg' });
  ok(await waitFor(page, (n) => document.querySelector(`#files-grid .file-card[data-name="${n}"]`), late.json.name, 15000),
    'a capture taken while the page is open shows by itself (the list is asked again every 10 s)');
  await apiIn(page, 'DELETE', 'captures/' + encodeURIComponent(late.json.name));
  await page.click('#files-refresh');
  await waitFor(page, (n) => !document.querySelector(`#files-grid .file-card[data-name="${n}"]`), late.json.name);

  // download byte for byte
  await page.click(card + ' a[data-act="download"]');
  const dlPath = path.join(tmp, rjpeg.name);
  let got = false;
  for (let i = 0; i < 50 && !got; i++) {
    await sleep(200);
    got = fs.existsSync(dlPath) && fs.statSync(dlPath).size === rjpeg.size;
  }
  const api = await bytesIn(page, 'captures/' + encodeURIComponent(rjpeg.name));
  ok(got && sha(fs.readFileSync(dlPath)) === sha(api) && api.length === rjpeg.size,
    'the download is the file byte for byte (as GET /captures/{name} gives it)', { got, size: rjpeg.size, api: api.length });

  // filters
  const names = () => page.$$eval('#files-grid .file-card', (l) => l.map((e) => e.dataset.name));
  await page.select('#files-kind', 'recordings');
  let shown = await names();
  ok(shown.length === recs.length && shown.every((n) => n.endsWith('.mp4')), 'the type filter shows the recordings only', shown);
  await page.select('#files-kind', 'pictures');
  shown = await names();
  ok(shown.length === 3 && shown.includes(rjpeg.name), 'and the pictures only', shown);
  await page.select('#files-kind', 'timed');
  ok((await names()).length === 0 && await page.$eval('#files-empty', (e) => !e.hidden), 'no timed capture: the page says none matches');
  const before2 = asked.length;
  await page.select('#files-kind', 'all');
  await waitFor(page, () => [...document.querySelectorAll('#files-grid .file-card[data-store="captures"]')].every((e) => e.dataset.radiometric));
  ok(asked.length === before2, 'the thumbnails shown again are not downloaded again', asked.slice(before2));
  const days = await page.$$eval('#files-day option', (l) => l.map((o) => [o.value, o.textContent]));
  ok(days.length === 2 && days[1][1].endsWith(`(${3 + recs.length})`), 'the day filter offers the days that have files, with their counts', days);
  await page.select('#files-day', days[1][0]);
  ok((await names()).length === 3 + recs.length, 'that day shows all its files');
  await page.select('#files-day', '');
  // the filter itself over files of two days (the device's files are all of today)
  const twoDays = await page.evaluate(async () => {
    const { filterFiles } = await import('/js/files.js');
    const f = [
      { name: '20261124T100512.204Z-manual-1.jpg', time: '2026-11-24T10:05:12Z', store: 'captures' },
      { name: '20261125T100000.000Z-rule-3-1.jpg', time: '2026-11-25T10:00:00Z', store: 'captures' },
      { name: 'rec-20261125-100000-001.mp4', time: '2026-11-25T10:04:09Z', store: 'recordings' },
    ];
    const d = (iso) => { const x = new Date(iso); return `${x.getFullYear()}-${String(x.getMonth() + 1).padStart(2, '0')}-${String(x.getDate()).padStart(2, '0')}`; };
    return [filterFiles(f, 'all', d(f[0].time)).length, filterFiles(f, 'all', d(f[1].time)).length,
      filterFiles(f, 'event', d(f[1].time)).length, filterFiles(f, 'recordings', '').length];
  });
  ok(JSON.stringify(twoDays) === '[1,2,1,1]', 'the day and type filters pick the right files of two days', twoDays);

  // ---- the viewer: the temperature at a pixel, as `thermocam measure --point` reads the file
  const file = path.join(tmp, 'capture.jpg');
  fs.writeFileSync(file, api);
  await page.click(card + ' [data-act="open"]');
  ok(await waitFor(page, () => document.querySelector('#fv-pic img')?.naturalWidth > 0), 'the R-JPEG opens in the viewer',
    await page.$eval('#view', (e) => e.textContent.slice(0, 300)));
  const info = JSON.parse(execFileSync(CLI, ['measure', file, '--json']));
  const W = info.width, H = info.height;
  const pixels = [[Math.floor(W * 0.51), Math.floor(H * 0.72)], [10, 10], [W - 1, H - 1], info.max_at, info.min_at, [Math.floor(W / 3), Math.floor(H / 2)]];
  const diffs = [];
  for (const [x, y] of pixels) {
    const cli = JSON.parse(execFileSync(CLI, ['measure', file, '--point', `${x},${y}`, '--json'])).rules[0].value;
    const at = await page.$eval('#fv-pic', (e, x, y, W, H) => {
      const r = e.getBoundingClientRect();
      return { x: r.left + (x + 0.5) / W * r.width, y: r.top + (y + 0.5) / H * r.height };
    }, x, y, W, H);
    await page.mouse.move(at.x, at.y);
    await waitFor(page, (xy) => document.getElementById('fv-cursor').dataset.x === String(xy[0])
      && document.getElementById('fv-cursor').dataset.y === String(xy[1]), [x, y], 3000);
    const shownC = await page.$eval('#fv-cursor', (e) => [Number(e.dataset.x), Number(e.dataset.y), parseFloat(e.dataset.celsius), e.textContent]);
    diffs.push({ x, y, shown: shownC, cli, diff: Math.abs(shownC[2] - cli) });
  }
  ok(diffs.every((d) => d.shown[0] === d.x && d.shown[1] === d.y && d.diff <= 0.05),
    `the temperature under the cursor is the file's, as thermocam measure --point reads it, within 0.05 °C (${pixels.length} pixels)`, diffs);
  // the keyboard's probe: the arrow keys from the last pixel pointed at
  await page.focus('#fv-pic');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.down('Shift');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.up('Shift');
  const key = await page.$eval('#fv-cursor', (e) => [Number(e.dataset.x), Number(e.dataset.y), parseFloat(e.dataset.celsius)]);
  const keyCli = JSON.parse(execFileSync(CLI, ['measure', file, '--point', `${key[0]},${key[1]}`, '--json'])).rules[0].value;
  const from = pixels[pixels.length - 1];
  ok(key[0] === from[0] + 2 && key[1] === from[1] + 10 && Math.abs(key[2] - keyCli) <= 0.05,
    'the arrow keys move the probe pixel by pixel (Shift: 10), reading the same temperature', { key, keyCli });
  // other object parameters, as thermocam measure --emissivity --distance --reflected
  const setNum = async (sel, v) => { await page.$eval(sel, (e) => { e.value = ''; }); await page.type(sel, String(v)); };
  await setNum('#fv-emissivity', 1.5);
  await page.click('#fv-apply');
  ok(await waitFor(page, () => /Emissivity/.test(document.getElementById('fv-params-error').textContent)),
    'an emissivity above 1 is refused at its field', await page.$eval('#fv-params-error', (e) => e.textContent));
  await setNum('#fv-emissivity', 0.8);
  await setNum('#fv-distance', 5);
  await setNum('#fv-reflected', 30);
  await page.click('#fv-apply');
  const pp = [Math.floor(W * 0.51), Math.floor(H * 0.72)];
  const ppAt = await page.$eval('#fv-pic', (e, x, y, W, H) => {
    const r = e.getBoundingClientRect();
    return { x: r.left + (x + 0.5) / W * r.width, y: r.top + (y + 0.5) / H * r.height };
  }, ...pp, W, H);
  await page.mouse.move(ppAt.x + 1, ppAt.y);
  await page.mouse.move(ppAt.x, ppAt.y);
  const measured = JSON.parse(execFileSync(CLI, ['measure', file, '--emissivity', '0.8', '--distance', '5', '--reflected', '30', '--point', `${pp[0]},${pp[1]}`, '--json']));
  const otherShown = await page.$eval('#fv-cursor', (e) => parseFloat(e.dataset.celsius));
  const otherMax = await page.$eval('#fv-max', (e) => parseFloat(e.dataset.celsius));
  ok(Math.abs(otherShown - measured.rules[0].value) <= 0.05 && Math.abs(otherMax - measured.max) <= 0.05 && Math.abs(otherShown - diffs[0].cli) > 1,
    'other object parameters measure again as thermocam measure does with them', { otherShown, cli: measured.rules[0].value, otherMax, cliMax: measured.max });
  await page.click('#fv-reset');
  await page.mouse.move(ppAt.x + 1, ppAt.y);
  await page.mouse.move(ppAt.x, ppAt.y);
  ok(Math.abs(await page.$eval('#fv-cursor', (e) => parseFloat(e.dataset.celsius)) - diffs[0].cli) <= 0.05, 'the file\'s parameters come back');
  const whole = await page.$eval('#fv-table tr[data-id="whole"]', (e) => [...e.querySelectorAll('td')].map((td) => td.textContent));
  const wholeMax = await page.$eval('#fv-max', (e) => parseFloat(e.dataset.celsius));
  ok(Math.abs(wholeMax - info.max) <= 0.05 && whole[0] !== '--', 'the whole picture\'s max agrees with the CLI', { wholeMax, cli: info.max, whole });

  // the page's line and area pixels and readings against the CLI's (tc-rules.c)
  const shapes = [['line', [20, 30, 400, 300]], ['line', [600, 20, 5, 500]], ['area', [256, 297, 397, 297, 397, 440, 256, 440]],
    ['area', [100, 100, 300, 50, 500, 400, 120, 480, 60, 300]], ['area', [10, 10, 10.4, 10.2, 10.1, 10.4]]]
    .map(([k, v]) => [k, v.map((c, i) => Math.min(Math.round(c), (i % 2 ? H : W) - 1))]);
  const mine = await page.evaluate(async (name, shapes, W, H) => {
    const { readRadiometric } = await import('/js/flir.js');
    const { rasterize, stats } = await import('/js/raster.js');
    const img = readRadiometric(await (await fetch('/api/v1/captures/' + encodeURIComponent(name))).arrayBuffer());
    return shapes.map(([kind, v]) => {
      const pts = [];
      for (let i = 0; i < v.length; i += 2)
        pts.push([(v[i] + 0.5) / W, (v[i + 1] + 0.5) / H]);
      const r = stats(img.celsius, W, H, rasterize(kind === 'line' ? 'line' : 'polygon', pts, W, H));
      return [r.max, r.min, r.avg, r.count];
    });
  }, rjpeg.name, shapes, W, H);
  const theirs = shapes.map(([kind, v]) => {
    const r = JSON.parse(execFileSync(CLI, ['measure', file, '--' + kind, v.join(','), '--json'])).rules[0];
    return [r.max, r.min, r.mean];
  });
  ok(mine.every((m, i) => [0, 1, 2].every((k) => Math.abs(m[k] - theirs[i][k]) <= 0.01)),
    `the page's lines and areas cover the pixels thermocam measure covers (${shapes.length} shapes, max/min/avg within 0.01 °C)`, { mine, theirs });

  // the tools: a point, a line, a rectangle, each with max/min/avg; the point against the CLI
  const pic = await page.$eval('#fv-pic', (e) => { const r = e.getBoundingClientRect(); return { x: r.left, y: r.top, w: r.width, h: r.height }; });
  const P = (u, v) => [pic.x + u * pic.w, pic.y + v * pic.h];
  await page.click('#fv-tools [data-tool="point"]');
  await page.mouse.click(...P(0.51, 0.72));
  await page.click('#fv-tools [data-tool="line"]');
  await page.mouse.move(...P(0.1, 0.2));
  await page.mouse.down();
  await page.mouse.move(...P(0.5, 0.6), { steps: 5 });
  await page.mouse.up();
  await page.click('#fv-tools [data-tool="rect"]');
  await page.mouse.move(...P(0.40, 0.58));
  await page.mouse.down();
  await page.mouse.move(...P(0.62, 0.86), { steps: 5 });
  await page.mouse.up();
  await page.click('#fv-tools [data-tool="rect"]');
  ok(await waitFor(page, () => document.querySelectorAll('#fv-overlay g.rule').length === 3 && document.querySelectorAll('#fv-table tr').length === 5),
    'the point, line and rectangle tools draw their shapes, each with a row of readings');
  const rows = await page.$$eval('#fv-table tr[data-id]', (l) => l.map((r) => [r.dataset.id, ...[...r.querySelectorAll('td.num')].map((td) => parseFloat(td.textContent))]));
  ok(rows.slice(1).every(([, mx, mn, av]) => mx >= av && av >= mn) && rows[3][1] > rows[3][2],
    'each shape reads max ≥ avg ≥ min (the rectangle over the motor spans a range)', rows);
  const ptRule = await page.evaluate(() => document.querySelector('#fv-overlay g.rule path.shape').getAttribute('d'));
  ok(!!ptRule, 'the point is drawn on the picture');
  await both(page, 'files-viewer');
  await page.click('#fv-back');
  ok(await waitFor(page, () => document.querySelector('#files-grid .file-card') && !document.querySelector('#fv-pic')), 'back to the list');

  // a plain JPEG in the viewer: it says it holds no temperatures
  await page.click(plainCard + ' [data-act="open"]');
  ok(await waitFor(page, () => /no temperatures/.test(document.getElementById('fv-error')?.textContent || '')),
    'a plain JPEG opens with the message that it holds no temperatures');
  await page.click('#fv-back');
  await waitFor(page, () => document.querySelector('#files-grid .file-card'));

  // ---- delete, confirmed
  await page.click(card + ' [data-act="delete"]');
  ok(await waitFor(page, () => document.querySelector('dialog.confirm[open]')), 'delete asks first');
  await shot(page, 'files-confirm');
  await page.click('#confirm-no');
  ok(await page.$(card) !== null && (await apiIn(page, 'GET', 'captures/' + encodeURIComponent(rjpeg.name))).status === 200,
    'cancelled: the file stays');
  await page.click(card + ' [data-act="delete"]');
  await waitFor(page, () => document.querySelector('dialog.confirm[open]'));
  await page.click('#confirm-yes');
  ok(await waitFor(page, (s) => !document.querySelector(s), card), 'confirmed: the card goes');
  // asked from an unwatched page: the 404 asked for is no console error
  const probe = await browser.newPage();
  await probe.goto(page.url(), { waitUntil: 'load' });
  const gone = await apiIn(probe, 'GET', 'captures/' + encodeURIComponent(rjpeg.name));
  await probe.close();
  const listed = (await apiIn(page, 'GET', 'captures')).json.some((f) => f.name === rjpeg.name);
  ok(gone.status === 404 && !listed, 'and the device has it no more', { status: gone.status, listed });

  // ---- in Chinese
  await page.select('#lang', 'zh');
  ok(await waitFor(page, () => document.documentElement.lang === 'zh-CN'
    && document.querySelector('#files-grid [data-act="download"]')?.textContent === '下载'
    && document.querySelector('#files-kind option[value="all"]').textContent === '全部文件'), 'the files page speaks Chinese when asked');
  await shot(page, 'files-list-zh');
  await page.select('#lang', 'en');
  await waitFor(page, () => document.documentElement.lang === 'en');

  // ---- a page at a time
  await Promise.all(Array.from({ length: 22 }, () => apiIn(page, 'POST', 'captures', { format: 'jpeg', resolution: 'native', quality: 50 })));
  const all = (await apiIn(page, 'GET', 'captures')).json.length + (await apiIn(page, 'GET', 'recordings')).json.length;
  await page.click('#files-refresh');
  ok(await waitFor(page, () => document.querySelectorAll('#files-grid .file-card').length === 24
    && /1 of 2/.test(document.getElementById('files-pageno').textContent)), `${all} files: 24 on the first page`);
  // by the keyboard (the pager is a pair of real buttons)
  await page.focus('#files-next');
  await page.keyboard.press('Enter');
  ok(await waitFor(page, (n) => document.querySelectorAll('#files-grid .file-card').length === n
    && /2 of 2/.test(document.getElementById('files-pageno').textContent) && document.getElementById('files-next').disabled, all - 24),
  'the rest on the second', await page.evaluate(() => [document.querySelectorAll('#files-grid .file-card').length,
    document.getElementById('files-pageno').textContent, document.getElementById('files-count').textContent]));
  await page.click('#files-prev');
  await waitFor(page, () => /1 of 2/.test(document.getElementById('files-pageno').textContent));
  // two chosen, deleted at once
  const chosen = await page.$$eval('#files-grid .file-card[data-store="captures"]', (l) => l.slice(0, 2).map((e) => e.dataset.name));
  for (const n of chosen)
    await page.click(`#files-grid .file-card[data-name="${n}"] [data-act="select"]`);
  ok(await page.$eval('#files-delete-selected', (b) => !b.disabled && /\(2\)/.test(b.textContent)), 'two files chosen: the page offers to delete them');
  await page.click('#files-delete-selected');
  await waitFor(page, () => document.querySelector('dialog.confirm[open]'));
  await page.click('#confirm-yes');
  ok(await waitFor(page, (l) => l.every((n) => !document.querySelector(`#files-grid .file-card[data-name="${n}"]`)), chosen),
    'both go at once, confirmed');
  const left = (await apiIn(page, 'GET', 'captures')).json.map((f) => f.name);
  ok(chosen.every((n) => !left.includes(n)) && left.length + (await apiIn(page, 'GET', 'recordings')).json.length === all - 2,
    'and the device has them no more', { chosen, left: left.length, all });

  // ---- trends: a rule's max/min/avg plotted as the page sees them
  const rule = await apiIn(page, 'POST', 'rules', { name: 'motor', type: 'polygon', points: [[0.40, 0.58], [0.62, 0.58], [0.62, 0.86], [0.40, 0.86]] });
  ok(rule.status === 201, 'a rule is made', rule);
  await page.click('#nav a[href="#/trends"]');
  ok(await waitFor(page, (id) => {
    const s = document.querySelector(`.trend[data-key="${id}"] svg`);
    return s && Number(s.dataset.points) >= 4 && s.querySelectorAll('path.line').length === 3;
  }, String(rule.json.id), 15000), 'the trends page plots the rule\'s max, avg and min as it sees them',
  await page.$$eval('.trend', (l) => l.map((f) => [f.dataset.key, f.querySelector('svg')?.dataset.points])));
  const caption = await page.$eval(`.trend[data-key="${rule.json.id}"] figcaption`, (e) => e.textContent);
  ok(/motor/.test(caption) && /max \d+\.\d °C/.test(caption), 'its caption names the rule and its newest values', caption);
  ok(await page.$('.trend[data-key="scene"]') !== null, 'the scene is plotted too');
  await page.click('#trend-ranges [data-range="1h"]');
  ok(await waitFor(page, (id) => document.querySelector(`.trend[data-key="${id}"] svg`)?.dataset.points >= 1, String(rule.json.id)),
    'the hour range plots the same readings');
  await page.click('#trend-ranges [data-range="10m"]');
  const plotBox = await page.$eval(`.trend[data-key="${rule.json.id}"] svg`, (e) => { const r = e.getBoundingClientRect(); return [r.right - 20, r.top + r.height / 2]; });
  await page.mouse.move(...plotBox);
  ok(await waitFor(page, (id) => /\d+:\d\d:\d\d/.test(document.querySelector(`.trend[data-key="${id}"] .now`).textContent)
    && document.querySelector(`.trend[data-key="${id}"] line.cursor`).getAttribute('visibility') === 'visible', String(rule.json.id)),
  'pointing at a plot shows the readings of that time');
  await both(page, 'files-trends');

  // ---- a user-level account: no files page (the API refuses it too)
  const made = await apiIn(page, 'POST', 'users', { name: 'viewer', password: USER_PW, level: 'user' });
  ok(made.status === 201 || made.status === 200, 'a user-level account is made', made);
  console_.expectRefusals = true;
  const other = await browser.createBrowserContext();     // a session of its own
  const user = await openAs(other, 'viewer', USER_PW, '#/files', DESK);
  ok(await waitFor(user, () => document.getElementById('files-refused')), 'a user-level account cannot open the files page');
  const refused = await apiIn(user, 'GET', 'captures');
  ok(refused.status === 403, 'and the API refuses it the list', refused.status);
  ok(!await (await user.$('#nav a[href="#/files"]'))?.isVisible(), 'the header does not offer it the files page');
  await both(user, 'files-user');
  await user.evaluate(() => { location.hash = '#/trends'; });
  ok(await waitFor(user, () => document.querySelector('.trend[data-key="scene"] svg')), 'a user-level account sees the trends');
  await other.close();
  console_.expectRefusals = false;

  const errors = consoleErrors.map((e) => e.text);
  ok(errors.length === 0, 'no page logged a console error', errors.join('\n'));
} catch (e) {
  ok(false, 'the files tests ran to the end', e.stack);
} finally {
  await browser.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
finish();
