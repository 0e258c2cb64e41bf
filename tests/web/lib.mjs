// What the browser test scripts share (run.py runs each against a daemon of
// its own): TAP output, waiting, screenshots, the API from a page, the
// console errors every page is watched for, logging in, the browser.
import puppeteer from 'puppeteer-core';
import path from 'node:path';

export const BASE = process.env.WEB_BASE;
export const SCREENS = process.env.WEB_SCREENS;
// run.py activates the daemon with this password when asked (--activated)
export const PASSWORD = 'Therm0cam#2026';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let n = 0, failed = 0;

export function ok(cond, desc, detail) {
  n++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${desc}`);
  if (!cond) {
    failed++;
    console.error(`FAILED ${n} - ${desc}`);
    if (detail !== undefined)
      for (const line of String(typeof detail === 'string' ? detail : JSON.stringify(detail)).split('\n').slice(0, 30)) {
        console.log('# ' + line);
        console.error('# ' + line);
      }
  }
  return cond;
}

// the TAP plan and the exit status
export function finish() {
  console.log(`1..${n}`);
  process.exit(failed ? 1 : 0);
}

export async function waitFor(page, fn, arg, timeout = 10000) {
  try {
    await page.waitForFunction(fn, { timeout, polling: 100 }, arg);
    return true;
  } catch {
    return false;
  }
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(SCREENS, name + '.png') });
}

// the API from the page (its cookie and CSRF token)
export function apiIn(page, method, p, body) {
  return page.evaluate(async (method, p, body) => {
    const headers = { 'X-CSRF-Token': sessionStorage.getItem('thermocam.csrf') || '' };
    if (body !== undefined)
      headers['Content-Type'] = 'application/json';
    const r = await fetch('/api/v1/' + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, json };
  }, method, p, body);
}

// console errors: every one is a failure but the answers the checks ask for:
// the page's "who is logged in?" (GET /session answers 401 to nobody), and,
// while console.expectRefusals is set, the API's 401 and 403
export const consoleErrors = [];
export const console_ = { expectRefusals: false };
export function watch(page, label) {
  page.on('console', (m) => {
    if (m.type() !== 'error')
      return;
    const url = m.location()?.url || '', text = m.text();
    const refused = /Failed to load resource: the server responded with a status of (\d+)/.exec(text)?.[1];
    if (refused === '401' && /\/api\/v1\/session$/.test(url))
      return;
    if ((refused === '401' || refused === '403') && console_.expectRefusals && /\/api\/v1\//.test(url))
      return;
    consoleErrors.push({ ws: /WebSocket connection to .*\/api\/v1\/live\/ws/.test(text), text: `${label}: ${text} ${url}` });
  });
  page.on('pageerror', (e) => consoleErrors.push({ text: `${label}: ${e.stack || e.message}` }));
}

export async function login(page, name, password) {
  await page.waitForSelector('#login-name', { timeout: 10000 });
  await page.$eval('#login-name', (e) => { e.value = ''; });
  await page.type('#login-name', name);
  await page.type('#login-password', password);
  await page.click('#login-submit');
}

export function launch() {
  return puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--lang=en-US'],
  });
}

// a page of its own, watched, logged in as @name at @hash (an activated daemon)
export async function openAs(browser, name, password, hash = '#/live', viewport = { width: 1280, height: 800 }) {
  const page = await browser.newPage();
  await page.setViewport(viewport);
  watch(page, name);
  await page.goto(BASE + hash, { waitUntil: 'load' });
  await login(page, name, password);
  await waitFor(page, () => !location.hash.startsWith('#/login'));
  if (hash !== '#/live')
    await page.evaluate((h) => { location.hash = h; }, hash);
  return page;
}
