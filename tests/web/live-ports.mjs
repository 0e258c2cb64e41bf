// The live view on the WebSocket and WebSockets ports (manual 9.2), in
// headless Chromium against a daemon of run.py (--activated --ws-ports: the
// two ports on free ones when switched on). A user-level account (which may
// not read GET /config/ports) opens the live page: with ports.websocket_enabled
// its socket goes to the WebSocket port (the URL seen by the browser's own
// network events, CDP) and the video plays; when that port does not answer the
// page falls back to its own port; switched off, its own port; over HTTPS
// with ports.websockets_enabled, wss:// to the WebSockets port. Prints TAP.
import puppeteer from 'puppeteer-core';
import {
  BASE, PASSWORD, sleep, ok, finish, waitFor, shot, apiIn, consoleErrors, console_, watch, login, launch,
} from './lib.mjs';

const USER_PW = 'Watch#2026pw';

// a page of the viewer's whose WebSockets are recorded from the browser's
// network events (CDP), before anything loads; @before runs first in it.
// A context of its own: the admin's session cookie is not shared
async function viewerPage(browser, base, label, before) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  const sockets = [];
  const cdp = await page.target().createCDPSession();
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketCreated', (e) => sockets.push(e.url));
  if (before)
    await page.evaluateOnNewDocument(before.fn, ...before.args);
  watch(page, label);
  await page.goto(base + '#/live', { waitUntil: 'load' });
  await login(page, 'viewer', USER_PW);
  await waitFor(page, () => location.hash === '#/live' && document.querySelector('#video'));
  return { page, sockets, close: () => context.close() };
}

// the video plays over MSE: its time advances and frames are decoded
async function plays(page) {
  const mse = await waitFor(page, () => document.getElementById('live-status')?.dataset.mode === 'mse', null, 15000);
  const a = await page.$eval('#video', (v) => [v.currentTime, v.getVideoPlaybackQuality().totalVideoFrames]);
  await sleep(3000);
  const b = await page.$eval('#video', (v) => [v.currentTime, v.getVideoPlaybackQuality().totalVideoFrames]);
  // (a loaded machine decodes fewer: the picture moves, that is what is judged)
  return { ok: mse && b[0] > a[0] + 0.5 && b[1] > a[1] + 5, a, b };
}

const browser = await launch();
let tlsBrowser = null;
try {
  const admin = await browser.newPage();
  watch(admin, 'admin');
  await admin.goto(BASE + '#/live', { waitUntil: 'load' });
  await login(admin, 'admin', PASSWORD);
  await waitFor(admin, () => location.hash === '#/live');
  const made = await apiIn(admin, 'POST', 'users', { name: 'viewer', password: USER_PW, level: 'user' });
  ok(made.status === 201 || made.status === 200, 'a user-level account is made', made);
  const on = await apiIn(admin, 'PUT', 'config/ports', { websocket_enabled: true });
  const wsPort = on.json?.in_use?.websocket;
  ok(on.status === 200 && wsPort > 0, `ports.websocket_enabled: the WebSocket port listens (${wsPort})`, on);
  const httpPort = new URL(BASE).port;

  // ---- a user's live page: its socket on the WebSocket port
  const v = await viewerPage(browser, BASE, 'viewer');
  const ends = await apiIn(v.page, 'GET', 'live/endpoints');
  console_.expectRefusals = true;
  const ports = await apiIn(v.page, 'GET', 'config/ports');
  console_.expectRefusals = false;
  ok(ends.status === 200 && ends.json.path === '/api/v1/live/ws' && ends.json.websocket.enabled === true
    && ends.json.websocket.port === wsPort && ends.json.websockets.port === 0 && ports.status === 403,
  'a user may read GET /live/endpoints (the WebSocket port, on; WebSockets off), not GET /config/ports (403)',
  { ends, ports: ports.status });
  const p1 = await plays(v.page);
  ok(p1.ok, 'the video plays on the user\'s live page', p1);
  const want = `ws://127.0.0.1:${wsPort}/api/v1/live/ws`;
  ok(v.sockets.length >= 1 && v.sockets.every((u) => u === want),
    `the live page's WebSocket goes to the WebSocket port (${want})`, v.sockets);
  await sleep(500);
  await shot(v.page, '20-live-websocket-port');
  await v.close();

  // ---- the WebSocket port does not take the socket (here: its handshake is
  // refused, the endpoints the page reads name a path it does not serve):
  // the page's own port
  const spoof = {
    fn: (port) => {
      const real = window.fetch.bind(window);
      window.fetch = async (url, opts) => {
        if (String(url).endsWith('/api/v1/live/endpoints'))
          return new Response(JSON.stringify({ path: '/api/v1/live/refused', websocket: { enabled: true, port },
            websockets: { enabled: false, port: 0 } }), { headers: { 'Content-Type': 'application/json' } });
        return real(url, opts);
      };
    },
    args: [wsPort],
  };
  const f = await viewerPage(browser, BASE, 'fallback', spoof);
  const p2 = await plays(f.page);
  ok(p2.ok && f.sockets[0] === `ws://127.0.0.1:${wsPort}/api/v1/live/refused`
    && f.sockets.slice(1).length >= 1 && f.sockets.slice(1).every((u) => u === `ws://127.0.0.1:${httpPort}/api/v1/live/ws`),
  `a WebSocket port that refuses the socket: the page falls back to its own port (${httpPort}) and plays`,
  { sockets: f.sockets, p2 });
  await shot(f.page, '21-live-fallback');
  await f.close();

  // ---- switched off: the page's own port
  const offR = await apiIn(admin, 'PUT', 'config/ports', { websocket_enabled: false });
  const o = await viewerPage(browser, BASE, 'off');
  const p3 = await plays(o.page);
  ok(offR.status === 200 && p3.ok && o.sockets.length >= 1
    && o.sockets.every((u) => u === `ws://127.0.0.1:${httpPort}/api/v1/live/ws`),
  'ports.websocket_enabled off: the live socket on the page\'s own port', { sockets: o.sockets, p3 });
  await o.close();

  // ---- HTTPS with the WebSockets port: wss:// there
  const tls = await apiIn(admin, 'PUT', 'config/security', { https: { enabled: true } });
  ok(tls.status === 200, 'HTTPS on (the servers restart)', tls);
  let cp = null;
  for (let i = 0; i < 50 && !(cp?.json?.in_use?.https > 0); i++) {
    await sleep(200);
    cp = await apiIn(admin, 'GET', 'config/ports').catch(() => null);
  }
  const wssOn = await apiIn(admin, 'PUT', 'config/ports', { websockets_enabled: true });
  const httpsPort = cp?.json?.in_use?.https, wssPort = wssOn.json?.in_use?.websockets;
  ok(httpsPort > 0 && wssPort > 0, `HTTPS on ${httpsPort}, the WebSockets port on ${wssPort}`, { cp, wssOn });
  tlsBrowser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--lang=en-US',
      '--ignore-certificate-errors'],
  });
  const s = await viewerPage(tlsBrowser, `https://127.0.0.1:${httpsPort}/`, 'tls');
  const p4 = await plays(s.page);
  const wantS = `wss://127.0.0.1:${wssPort}/api/v1/live/ws`;
  ok(p4.ok && s.sockets.length >= 1 && s.sockets.every((u) => u === wantS),
    `an HTTPS page: the live socket goes to the WebSockets port (${wantS}) and plays`, { sockets: s.sockets, p4 });
  await shot(s.page, '22-live-websockets-port');

  // the refused socket is the fallback's, expected, and so are the admin's
  // polls while the servers restart for HTTPS
  const errors = consoleErrors.filter((e) => !e.text.includes('/api/v1/live/refused')
    && !/^admin: .*net::ERR_CONNECTION_REFUSED .*\/api\/v1\/config\/ports$/.test(e.text)).map((e) => e.text);
  ok(errors.length === 0, 'no page logged a console error (but the refused socket)', errors.join('\n'));
} catch (e) {
  ok(false, 'the browser tests ran to the end', e.stack);
} finally {
  await browser.close();
  if (tlsBrowser)
    await tlsBrowser.close();
}
finish();
