// thermocam web benchmark, the browser's part (run by bench-web.py, which
// starts the daemon and measures its CPU). Commands on stdin, one JSON line
// each; answers on stdout, one JSON line each.
//   {"cmd":"open","n":N,"stream":"main"}   N more pages on the live view (MSE)
//   {"cmd":"latency"}                       glass-to-glass figures of page 0
//   {"cmd":"mjpeg","seconds":S}             the MJPEG live view's latency
//   {"cmd":"close"}                         closes every page but page 0
//   {"cmd":"quit"}
import puppeteer from 'puppeteer-core';
import readline from 'node:readline';

const BASE = process.env.WEB_BASE;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--mute-audio'],
});
const pages = [];
// the daemon gives an account at most 4 live sockets: the viewers are spread
// over accounts, each in a browser context of its own (its own cookie)
const ACCOUNTS = JSON.parse(process.env.WEB_ACCOUNTS);
const contexts = [];

// through the page's own form, as a person would (the pages after the first
// share its session cookie)
async function openLive(stream) {
  const k = Math.floor(pages.length / 4);
  if (!contexts[k])
    contexts[k] = await browser.createBrowserContext();
  const [name, password] = ACCOUNTS[k];
  const page = await contexts[k].newPage();
  await page.setViewport({ width: 1280, height: 800 });
  await page.goto(BASE + '#/live', { waitUntil: 'load' });
  await page.waitForSelector('#login-name, #stream', { timeout: 20000 });
  if (await page.$('#login-name')) {
    await page.type('#login-name', name);
    await page.type('#login-password', password);
    await page.click('#login-submit');
    await page.waitForSelector('#stream', { timeout: 20000 });
  }
  await page.evaluate(() => { if (location.hash !== '#/live') location.hash = '#/live'; });
  await page.waitForFunction(() => window.thermocamLive && window.thermocamLive.mode() === 'mse',
    { timeout: 20000, polling: 200 });
  if (stream !== 'main')
    await page.evaluate((s) => {
      const sel = document.getElementById('stream');
      sel.value = s;
      sel.dispatchEvent(new Event('change'));
    }, stream);
  await page.waitForFunction(() => {
    const v = document.querySelector('video');
    return v && v.currentTime > 1;
  }, { timeout: 20000, polling: 200 });
  pages.push(page);
}

function figures(values) {
  const v = values.slice().sort((a, b) => a - b);
  if (!v.length)
    return { n: 0 };
  const at = (q) => v[Math.min(v.length - 1, Math.floor(q * v.length))];
  return { n: v.length, median: +at(0.5).toFixed(1), p95: +at(0.95).toFixed(1), min: +v[0].toFixed(1) };
}

// the MJPEG live view as a page that has no MSE would show it: each part
// drawn when it is whole; presentation = the next animation frame after the
// draw; capture time from the part's X-Capture-Time header
async function mjpeg(seconds) {
  const page = pages[0];
  return page.evaluate(async (seconds) => {
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 512;
    document.body.appendChild(canvas);
    const ctx = canvas.getContext('2d');
    const ctl = new AbortController();
    const r = await fetch('/api/v1/live.mjpeg', { signal: ctl.signal });
    const reader = r.body.getReader();
    const lat = [];
    let buf = new Uint8Array(0);
    const end = performance.now() + seconds * 1000;
    const dec = new TextDecoder();
    const find = (hay, needle, from) => {
      outer: for (let i = from; i <= hay.length - needle.length; i++) {
        for (let j = 0; j < needle.length; j++)
          if (hay[i + j] !== needle[j])
            continue outer;
        return i;
      }
      return -1;
    };
    const crlf2 = new Uint8Array([13, 10, 13, 10]);
    while (performance.now() < end) {
      const { value, done } = await reader.read();
      if (done)
        break;
      const joined = new Uint8Array(buf.length + value.length);
      joined.set(buf);
      joined.set(value, buf.length);
      buf = joined;
      for (;;) {
        const h = find(buf, crlf2, 0);
        if (h < 0)
          break;
        const head = dec.decode(buf.subarray(0, h));
        const len = +(/Content-Length:\s*(\d+)/i.exec(head) || [])[1];
        const cap = +(/X-Capture-Time:\s*(\d+)/i.exec(head) || [])[1];
        if (!(len >= 0) || buf.length < h + 4 + len)
          break;
        const jpeg = buf.slice(h + 4, h + 4 + len);
        buf = buf.slice(h + 4 + len + 2);
        const bmp = await createImageBitmap(new Blob([jpeg], { type: 'image/jpeg' }));
        ctx.drawImage(bmp, 0, 0, canvas.width, canvas.height);
        bmp.close();
        if (cap)
          requestAnimationFrame((t) => lat.push(performance.timeOrigin + t - cap / 1000));
      }
    }
    ctl.abort();
    canvas.remove();
    return lat;
  }, seconds);
}

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  const c = JSON.parse(line);
  let out = { ok: true };
  try {
    if (c.cmd === 'open') {
      for (let i = 0; i < c.n; i++)
        await openLive(c.stream || 'main');
      out.pages = pages.length;
    } else if (c.cmd === 'latency') {
      // the samples of the last (seconds) only: the player keeps 600
      const seconds = Math.min(c.seconds || 10, 18);
      await sleep(seconds * 1000);
      const all = await pages[0].evaluate(() => window.thermocamLive.latency());
      out.latency = figures(all.slice(-Math.round(seconds * 30)));
      out.dropped = await pages[0].evaluate(() => {
        const q = document.querySelector('video').getVideoPlaybackQuality();
        return { total: q.totalVideoFrames, dropped: q.droppedVideoFrames };
      });
    } else if (c.cmd === 'mjpeg') {
      out.latency = figures(await mjpeg(c.seconds || 10));
    } else if (c.cmd === 'close') {
      while (pages.length > 1)
        await pages.pop().close();
      out.pages = pages.length;
    } else if (c.cmd === 'closeall') {
      // every page and its context (the next open logs in again)
      while (pages.length)
        await pages.pop().close();
      while (contexts.length)
        await contexts.pop().close();
      out.pages = 0;
    } else if (c.cmd === 'quit') {
      break;
    }
  } catch (e) {
    out = { ok: false, error: String(e) };
  }
  console.log(JSON.stringify(out));
}
await browser.close();
