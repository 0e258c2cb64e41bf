// The maintenance pages of issue 16 (items 4 and 5 and the users and HTTPS
// certificate pages of item 1) in headless Chromium against an activated
// daemon (run.py --activated maint.mjs): users made, changed and deleted;
// the audit log searched and exported; the alarms of the event stream in the
// logs; a self-signed certificate; the configuration exported and imported;
// reboot and restore confirmed first; a user-level account kept out.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import {
  PASSWORD, ok, finish, waitFor, shot, apiIn, consoleErrors, console_, login, launch, openAs, sleep,
} from './lib.mjs';

const USER_PW = 'Watch#2026xy';
const USER_PW2 = 'Look@2027yz';
const OP_PW = 'Op3rator#2026';
const FILE_PW = 'Export#Pass1';
const DOWNLOADS = fs.mkdtempSync(path.join(os.tmpdir(), 'maint-dl-'));

// the files of DOWNLOADS (finished ones) whose name matches @re, waited for
async function downloaded(re, timeout = 10000) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    const hit = fs.readdirSync(DOWNLOADS).find((f) => re.test(f) && !f.endsWith('.crdownload'));
    if (hit)
      return path.join(DOWNLOADS, hit);
    await sleep(100);
  }
  return null;
}

async function allowDownloads(page) {
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: DOWNLOADS });
}

async function go(page, hash, selector) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  return page.waitForSelector(selector, { timeout: 10000 }).then(() => true, () => false);
}

// the confirmation dialog: its text, then OK or Cancel
async function answerDialog(page, accept) {
  await page.waitForSelector('dialog.mt-dialog[open]', { timeout: 5000 });
  const text = await page.$eval('dialog.mt-dialog', (d) => d.textContent);
  await page.click(accept ? 'dialog.mt-dialog .mt-ok' : 'dialog.mt-dialog .mt-cancel');
  await waitFor(page, () => !document.querySelector('dialog.mt-dialog'));
  return text;
}

async function typeInto(page, sel, text) {
  await page.$eval(sel, (e) => { e.value = ''; });
  await page.type(sel, text);
}

// every input of the page has a label, every button is a real button (keyboard)
async function unlabelled(page) {
  return page.$$eval('#view input, #view select, #view textarea', (els) => els
    .filter((e) => !(e.labels?.length || e.getAttribute('aria-label')))
    .map((e) => e.outerHTML.slice(0, 80)));
}

async function users(page) {
  return (await apiIn(page, 'GET', 'users')).json || [];
}

const browser = await launch();
try {
  const page = await openAs(browser, 'admin', PASSWORD, '#/users');
  await allowDownloads(page);

  // ---- users (manual 10.13)
  ok(await page.waitForSelector('#user-list tr[data-user="admin"]', { timeout: 10000 }).then(() => true, () => false),
    'the users page lists admin');
  ok(await page.$('#user-list tr[data-user="admin"] button.del') === null
    && await page.$('#user-list tr[data-user="admin"] button.edit') !== null,
  'admin can be edited (its password) but not deleted');
  const navLinks = await page.$$eval('#nav a', (as) => as.filter((a) => !a.hidden).map((a) => a.getAttribute('href')));
  ok(['#/logs', '#/certificate', '#/users', '#/maintenance'].every((h) => navLinks.includes(h)),
    'the administrator sees the four pages in the menu', navLinks);
  await shot(page, 'maint-users');
  await page.click('#user-add');
  ok((await unlabelled(page)).length === 0, 'the users page: every input has a label', await unlabelled(page));
  await page.click('#uf-cancel');

  await page.click('#user-add');
  await typeInto(page, '#uf-name', 'op1');
  await page.select('#uf-level', 'user');
  await typeInto(page, '#uf-password', 'password1');
  const weakShown = await page.$eval('#uf-strength', (e) => ({ text: e.textContent, level: e.dataset.level }));
  await typeInto(page, '#uf-confirm', 'password1');
  await page.click('#uf-submit');
  await sleep(300);
  const weakErr = await page.$eval('#uf-error', (e) => e.textContent);
  await shot(page, 'maint-users-weak');
  ok(weakShown.level === '1' && /Weak/.test(weakShown.text) && /weak|strong enough/i.test(weakErr)
    && !(await users(page)).some((u) => u.name === 'op1'),
  'a weak password is shown weak as typed and refused in the browser (no user made)', { weakShown, weakErr });

  await typeInto(page, '#uf-password', 'Kelvin#2026x');
  await typeInto(page, '#uf-confirm', 'Kelvin#2026x');
  await shot(page, 'maint-users-add');
  await page.click('#uf-submit');
  await page.waitForSelector('#user-list tr[data-user="op1"]', { timeout: 5000 }).catch(() => {});
  let op1 = (await users(page)).find((u) => u.name === 'op1');
  ok(op1?.level === 'user', 'a user made on the page is in GET /users at the level chosen', op1);

  await page.click('#user-list tr[data-user="op1"] button.edit');
  await page.waitForSelector('#user-form:not([hidden])');
  await page.select('#uf-level', 'operator');
  await page.click('#uf-submit');
  await waitFor(page, () => document.querySelector('#user-form').hidden);
  op1 = (await users(page)).find((u) => u.name === 'op1');
  ok(op1?.level === 'operator', 'its level changed on the page shows in GET /users', op1);

  // remote permissions (manual 10.13.1): a checkbox each, greyed out where
  // the level cannot hold it; what is ticked is what GET /users shows
  ok(JSON.stringify(op1?.permissions) === JSON.stringify(['live_view', 'playback', 'parameters',
    'log_status', 'maintenance', 'capture', 'alarm_output', 'serial']),
  'an operator made a user and raised gets every permission (the level\'s defaults)', op1);
  await page.click('#user-list tr[data-user="op1"] button.edit');
  await page.waitForSelector('#user-form:not([hidden])');
  const opBoxes = await page.$$eval('#uf-perms input', (bs) => bs.map((b) => [b.value, b.checked, b.disabled]));
  ok(opBoxes.length === 8 && opBoxes.every(([, c, dis]) => c && !dis),
    'an operator: eight permission boxes, all ticked and enabled', opBoxes);
  await page.select('#uf-level', 'user');
  const userBoxes = await page.$$eval('#uf-perms input', (bs) => bs.map((b) => [b.value, b.checked, b.disabled]));
  ok(userBoxes.every(([v, c, dis]) => (v === 'live_view' ? c && !dis : !c && dis)),
    'the level set to user: only live view enabled, the others off and greyed out', userBoxes);
  await shot(page, 'maint-users-perms');
  await page.select('#uf-level', 'operator');
  for (const p of ['live_view', 'parameters', 'maintenance', 'serial'])
    await page.click('#uf-perm-' + p);
  await page.click('#uf-submit');
  await waitFor(page, () => document.querySelector('#user-form').hidden);
  op1 = (await users(page)).find((u) => u.name === 'op1');
  ok(JSON.stringify(op1?.permissions) === JSON.stringify(['playback', 'log_status', 'capture', 'alarm_output']),
    'the permissions unticked on the page are gone from GET /users', op1);
  const cell = await page.$eval('#user-list tr[data-user="op1"] td.perms', (e) => e.textContent);
  ok(/Recording and playback/.test(cell) && !/Live view/.test(cell),
    'the list shows the account\'s permissions by name', cell);

  await page.click('#user-list tr[data-user="op1"] button.del');
  const delText = await answerDialog(page, false);
  ok((await users(page)).some((u) => u.name === 'op1') && /op1/.test(delText), 'a delete cancelled in its dialog keeps the user');
  await page.click('#user-list tr[data-user="op1"] button.del');
  await answerDialog(page, true);
  await waitFor(page, () => !document.querySelector('#user-list tr[data-user="op1"]'));
  ok(!(await users(page)).some((u) => u.name === 'op1'), 'a user deleted on the page is gone from GET /users');

  // the viewer of the level check at the end, made on the page too
  await page.click('#user-add');
  await typeInto(page, '#uf-name', 'viewer');
  await page.select('#uf-level', 'user');
  await typeInto(page, '#uf-password', USER_PW);
  await typeInto(page, '#uf-confirm', USER_PW);
  await page.click('#uf-submit');
  await page.waitForSelector('#user-list tr[data-user="viewer"]', { timeout: 5000 }).catch(() => {});
  ok((await users(page)).find((u) => u.name === 'viewer')?.level === 'user', 'a user-level account is made on the page');
  // its password changed on the page (the level left as it is)
  await page.click('#user-list tr[data-user="viewer"] button.edit');
  await page.waitForSelector('#user-form:not([hidden])');
  ok(await page.$eval('#uf-name', (e) => e.readOnly) && await page.$eval('#uf-old-row', (e) => e.hidden),
    'editing another account: its name fixed, no current password asked');
  await typeInto(page, '#uf-password', USER_PW2);
  await typeInto(page, '#uf-confirm', USER_PW2);
  await page.click('#uf-submit');
  await waitFor(page, () => document.querySelector('#user-form').hidden);
  const pwAudit = ((await apiIn(page, 'GET', 'system/audit-log?type=user')).json.records || []).map((r) => r.detail);
  ok(pwAudit.includes('changed viewer: password'), 'a password changed on the page reaches the device', pwAudit);
  // admin's own: no level offered, the current password asked
  await page.click('#user-list tr[data-user="admin"] button.edit');
  await page.waitForSelector('#user-form:not([hidden])');
  ok(await page.$eval('#uf-level', (e) => e.closest('label').hidden) && !await page.$eval('#uf-old-row', (e) => e.hidden),
    'editing admin itself: its level not offered, its current password asked');
  await page.click('#uf-cancel');

  // ---- the audit log (manual 10.12.2)
  ok(await go(page, '#/logs', '#log-rows tr[data-type]'), 'the logs page opens with the audit log');
  const rows = () => page.$$eval('#log-rows tr[data-type]', (trs) => trs.map((tr) => ({ type: tr.dataset.type, text: tr.textContent })));
  const all = await rows();
  ok(all.some((r) => r.type === 'login' && r.text.includes('admin'))
    && all.some((r) => r.type === 'user' && r.text.includes('added op1'))
    && all.some((r) => r.type === 'user' && r.text.includes('deleted op1')),
  'the audit log shows the login and the user changes just made', all.slice(0, 8));
  await shot(page, 'maint-logs');
  ok((await unlabelled(page)).length === 0, 'the logs page: every input has a label', await unlabelled(page));
  await page.select('#log-type', 'user');
  await page.click('#log-go');
  await waitFor(page, () => [...document.querySelectorAll('#log-rows tr[data-type]')].every((tr) => tr.dataset.type === 'user'));
  const users_ = await rows();
  ok(users_.length >= 3 && users_.length < all.length && users_.every((r) => r.type === 'user'),
    'searching by type narrows the audit log to that type', { all: all.length, user: users_.length });
  // a time range after now: nothing
  await page.$eval('#log-from', (e) => {
    const d = new Date(Date.now() + 3600e3);
    e.value = new Date(d.getTime() - d.getTimezoneOffset() * 60e3).toISOString().slice(0, 19);
  });
  await page.click('#log-go');
  await waitFor(page, () => !document.querySelector('#log-rows tr[data-type]'));
  ok((await rows()).length === 0, 'a time range with no record shows none');
  await page.$eval('#log-from', (e) => { e.value = ''; });
  await page.click('#log-go');
  await page.waitForSelector('#log-rows tr[data-type]');
  await page.click('#log-export');
  const csv = await downloaded(/^audit-log.*\.csv$/);
  const csvText = csv ? fs.readFileSync(csv, 'utf8') : '';
  ok(csvText.startsWith('time,type,user,address,detail') && csvText.includes('added op1')
    && csvText.split('\r\n').slice(1).filter(Boolean).every((l) => l.includes('"user"')),
  'the export downloads the audit log searched (CSV, the user records)', csvText.slice(0, 300));

  // ---- the alarms and exceptions of the event stream
  await page.click('#tab-events');
  await page.waitForSelector('#tab-events[aria-selected="true"]');
  const rule = await apiIn(page, 'POST', 'rules', {
    name: 'hotspot', type: 'polygon', points: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]],
    alarm: { enabled: true, on: 'max', condition: 'above', pre_alarm: -35, alarm: -30, filter_time: 0 },
  });
  ok(rule.status === 201, 'a rule that alarms at once is made', rule);
  const alarmed = await waitFor(page, () => [...document.querySelectorAll('#log-rows tr[data-type="alarm"]')]
    .some((tr) => tr.textContent.includes('hotspot')), null, 15000);
  ok(alarmed, 'an alarm of the event stream shows in the alarm and exception history');
  await shot(page, 'maint-logs-events');
  await page.click('#log-export');
  const evCsv = await downloaded(/^event-history.*\.csv$/);
  ok(evCsv && /hotspot/.test(fs.readFileSync(evCsv, 'utf8')), 'the alarm and exception history exports as CSV');
  await page.select('#log-type', 'exception');
  await page.click('#log-go');
  await waitFor(page, () => !document.querySelector('#log-rows tr[data-type="alarm"]'));
  ok(!(await page.$('#log-rows tr[data-type="alarm"]')), 'searching the history by type (exception) leaves the alarms out');
  if (rule.json?.id !== undefined)
    await apiIn(page, 'DELETE', 'rules/' + rule.json.id);

  // ---- the HTTPS certificate (manual 10.12.5)
  ok(await go(page, '#/certificate', '#cert-form'), 'the certificate page opens');
  await sleep(300);
  await shot(page, 'maint-cert-none');
  ok((await unlabelled(page)).length === 0, 'the certificate page: every input has a label', await unlabelled(page));
  await typeInto(page, '#cert-form input[name="country"]', 'X1');
  await page.click('#cert-self');
  await sleep(200);
  ok(/two-letter/.test(await page.$eval('#cert-error', (e) => e.textContent))
    && await page.$eval('#cert-form input[name="country"]', (e) => e.getAttribute('aria-invalid') === 'true'),
  'a bad country is stopped in the browser at its field');
  await typeInto(page, '#cert-form input[name="country"]', 'DE');
  await typeInto(page, '#cert-form input[name="host"]', 'camera-7.plant.example');
  await typeInto(page, '#cert-form input[name="organization"]', 'Example Plant');
  await page.click('#cert-self');
  await waitFor(page, () => document.querySelector('#cert-info dd[data-key="cert.subject"]'));
  const cert = await apiIn(page, 'GET', 'security/certificate');
  const shownSubject = await page.$eval('#cert-info dd[data-key="cert.subject"]', (e) => e.textContent).catch(() => '');
  ok(cert.status === 200 && /CN ?= ?camera-7\.plant\.example/.test(cert.json.subject) && cert.json.self_signed
    && shownSubject === cert.json.subject, 'a self-signed certificate made on the page: GET shows its subject, as the page does',
  { cert: cert.json?.subject, shownSubject });
  await page.click('#cert-csr');
  const csr = await downloaded(/\.csr$/);
  ok(csr && fs.readFileSync(csr, 'utf8').includes('BEGIN CERTIFICATE REQUEST')
    && await waitFor(page, () => !document.querySelector('#cert-request').hidden),
  'a certificate request made on the page downloads (PEM) and shows as pending');
  await shot(page, 'maint-cert');
  // a file that is no certificate: stopped with a message
  const junk = path.join(DOWNLOADS, 'junk.pem');
  fs.writeFileSync(junk, 'hello');
  await (await page.$('#cert-file')).uploadFile(junk);
  await page.click('#cert-upload');
  await sleep(200);
  ok(/PEM/.test(await page.$eval('#install-error', (e) => e.textContent)), 'a file with no certificate is not sent');
  // a signed certificate with its key (made here by openssl) installed by upload
  const signed = path.join(DOWNLOADS, 'signed.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-subj', '/C=FR/O=Upload Test/CN=installed.plant.example', '-days', '30',
    '-keyout', path.join(DOWNLOADS, 'k.pem'), '-out', path.join(DOWNLOADS, 'c.pem')], { stdio: 'ignore' });
  fs.writeFileSync(signed, fs.readFileSync(path.join(DOWNLOADS, 'c.pem'), 'utf8') + fs.readFileSync(path.join(DOWNLOADS, 'k.pem'), 'utf8'));
  await (await page.$('#cert-file')).uploadFile(signed);
  await page.click('#cert-upload');
  await waitFor(page, () => document.querySelector('#cert-info dd[data-key="cert.subject"]')?.textContent.includes('installed.plant.example'));
  const up = await apiIn(page, 'GET', 'security/certificate');
  ok(/CN ?= ?installed\.plant\.example/.test(up.json?.subject) && await page.$eval('#cert-info dd[data-key="cert.subject"]', (e) => e.textContent) === up.json.subject,
    'a signed certificate uploaded on the page is installed: GET and the page show its subject', up.json?.subject);

  // ---- maintenance (manual 10)
  ok(await go(page, '#/maintenance', '#dev-info dd[data-key="maint.serial"]'), 'the maintenance page shows the device');
  const dev = (await apiIn(page, 'GET', 'device')).json;
  ok(await page.$eval('#dev-info dd[data-key="maint.serial"]', (e) => e.textContent) === dev.serial_number,
    'its serial number is the one of GET /device');
  await page.$eval('#view', (v) => v.scrollTo(0, 0));
  await shot(page, 'maint-system');
  ok((await unlabelled(page)).length === 0, 'the maintenance page: every input has a label', await unlabelled(page));
  // in Chinese: every string of the page has its translation
  await page.select('#lang', 'zh');
  await sleep(300);
  const zh = await page.$eval('#view', (v) => v.innerText);
  ok(/维护/.test(zh) && /序列号/.test(zh) && !/Device name|Serial number|\b(maint|users|cert|logs)\.[a-zA-Z]/.test(zh), 'the maintenance page in Chinese', zh.slice(0, 200));
  await shot(page, 'maint-system-zh');
  await page.select('#lang', 'en');
  await page.click('#diag-download');
  const diag = await downloaded(/^thermocam-diagnose-.*\.tar$/);
  const tarBytes = diag ? fs.readFileSync(diag) : Buffer.alloc(0);
  ok(tarBytes.length > 1024 && tarBytes.subarray(257, 262).toString() === 'ustar'
    && tarBytes.includes('pipeline.dot') && tarBytes.includes('log.txt'),
    'the diagnose information download: a tar archive with the log and the pipeline graph', diag);
  // the upgrade card: the running version, a package refused with its reason
  ok(await waitFor(page, () => document.querySelector('#upgrade-info dd[data-key="maint.upgradeVersion"]')?.textContent.length > 0),
    'the upgrade card shows the running version');
  const pkg = path.join(DOWNLOADS, 'not-a-package.tcpkg');
  fs.writeFileSync(pkg, 'hello'.repeat(300));
  await (await page.$('#upg-file')).uploadFile(pkg);
  await page.click('#upg-go');
  const upgText = await answerDialog(page, true);
  ok(/restart/i.test(upgText), 'the upgrade asks first, saying the device restarts', upgText);
  ok(await waitFor(page, () => document.querySelector('#upg-error')?.textContent.length > 0),
    'an upgrade with a file that is not a package: refused, the reason shown', await page.$eval('#upg-error', (e) => e.textContent));
  await page.$eval('#upgrade-form', (f) => f.scrollIntoView());
  await shot(page, 'maint-upgrade-refused');

  const before = (await apiIn(page, 'GET', 'config/device')).json;
  const auditCount = async (type) => ((await apiIn(page, 'GET', 'system/audit-log?type=' + type)).json.records || []).length;
  const reboots = await auditCount('reboot'), systems = await auditCount('system');
  await page.click('#reboot');
  const rebootText = await answerDialog(page, false);
  await page.click('#restore');
  await page.waitForSelector('dialog.mt-dialog[open]');
  await shot(page, 'maint-restore-dialog');
  const restoreText = await answerDialog(page, false);
  await sleep(300);
  ok(/kept/i.test(rebootText) && /ports/.test(restoreText) && /users/.test(restoreText),
    'reboot and restore ask first and say what they keep', { rebootText, restoreText });
  ok(await auditCount('reboot') === reboots && await auditCount('system') === systems,
    'cancelled, neither reboots nor restores');

  // export, change a setting, import with a wrong then the right password
  await typeInto(page, '#exp-password', 'short');
  await page.click('#exp-go');
  await sleep(200);
  ok(/strong enough/.test(await page.$eval('#exp-error', (e) => e.textContent)), 'a weak file password is refused in the browser');
  await typeInto(page, '#exp-password', FILE_PW);
  await typeInto(page, '#exp-confirm', FILE_PW);
  await page.click('#exp-go');
  const bin = await downloaded(/^thermocam-configuration.*\.bin$/);
  ok(bin && fs.statSync(bin).size > 100, 'the configuration export downloads a file');
  const changed = await apiIn(page, 'PUT', 'config/device', { name: 'renamed-after-export' });
  ok(changed.status === 200, 'a setting is changed after the export');
  await (await page.$('#imp-file')).uploadFile(bin);
  await typeInto(page, '#imp-password', 'Wrong#Pass99');
  await page.click('#imp-go');
  await answerDialog(page, true);
  await waitFor(page, () => document.querySelector('#imp-error').textContent !== '');
  const wrongErr = await page.$eval('#imp-error', (e) => e.textContent);
  await shot(page, 'maint-import-wrong');
  ok(/Wrong password/.test(wrongErr) && (await apiIn(page, 'GET', 'config/device')).json.name === 'renamed-after-export',
    'an import with a wrong password shows an error and changes nothing', wrongErr);
  await typeInto(page, '#imp-password', FILE_PW);
  await page.click('#imp-go');
  await answerDialog(page, true);
  ok(await waitFor(page, () => location.hash === '#/login' && document.querySelector('#login-notice')?.textContent.includes('imported')),
    'the import ends the session: the login page says so');
  await login(page, 'admin', PASSWORD);
  await waitFor(page, () => !location.hash.startsWith('#/login'));
  const after = (await apiIn(page, 'GET', 'config/device')).json;
  ok(after.name === before.name, 'the import restored the setting changed since the export', { before: before.name, after: after.name });

  // the audit log a page at a time (25): 30 changes more make two pages at least
  for (let i = 0; i < 30; i++)
    await apiIn(page, 'PUT', 'config/device', { number: 100 + i });
  await go(page, '#/logs', '#log-rows tr[data-type]');
  await page.waitForSelector('#log-rows tr[data-type]');
  const page1 = await page.$$eval('#log-rows tr[data-type]', (trs) => trs.map((tr) => tr.textContent));
  const pager1 = await page.$eval('#log-page', (e) => e.textContent);
  await page.click('#log-next');
  await waitFor(page, (p) => document.querySelector('#log-page').textContent !== p, pager1);
  const page2 = await page.$$eval('#log-rows tr[data-type]', (trs) => trs.map((tr) => tr.textContent));
  const total = (await apiIn(page, 'GET', 'system/audit-log')).json.records.length;
  const timeOf = (row) => row.slice(0, 19);
  ok(page1.length === 25 && page2.length === Math.min(25, total - 25) && timeOf(page2[0]) <= timeOf(page1[24])
    && /Page 1 of/.test(pager1) && page1[0].includes('changed config.device'),
  'the audit log is paged: newest first, 25 a page, the next page older', { pager1, n1: page1.length, n2: page2.length, total });
  await page.click('#log-prev');
  await waitFor(page, () => /Page 1 of/.test(document.querySelector('#log-page').textContent));

  // restore confirmed: a setting back to its default, the users kept
  await apiIn(page, 'PUT', 'config/device', { name: 'before-restore' });
  await go(page, '#/maintenance', '#restore');
  await page.click('#restore');
  await answerDialog(page, true);
  await sleep(500);
  const restored = (await apiIn(page, 'GET', 'config/device')).json;
  ok(restored.name !== 'before-restore' && (await users(page)).some((u) => u.name === 'viewer'),
    'a restore confirmed puts the settings back and keeps the users',
    { restored, users: await users(page), audit: ((await apiIn(page, 'GET', 'system/audit-log?type=user')).json?.records || []).map((r) => r.detail) });

  // reboot confirmed: the device restarts in place and the page finds it back
  const rebootsBefore = await auditCount('reboot');
  await page.click('#reboot');
  await answerDialog(page, true);
  ok(await waitFor(page, () => /back/.test(document.getElementById('flash').textContent), null, 20000)
    && await auditCount('reboot') > rebootsBefore, 'a reboot confirmed: the device restarts and the page says it is back');

  // ---- the phone's width
  // contexts of their own: another cookie jar, another session
  const phoneCtx = await browser.createBrowserContext();
  const phone = await openAs(phoneCtx, 'admin', PASSWORD, '#/users', { width: 390, height: 844 });
  for (const [hash, sel, name] of [['#/users', '#user-list tr', 'users'], ['#/logs', '#log-rows tr', 'logs'],
    ['#/certificate', '#cert-info dd', 'cert'], ['#/maintenance', '#dev-info dd', 'system']]) {
    await go(phone, hash, sel);
    await sleep(300);
    const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
    ok(wide <= 390, `the ${name} page fits a phone's width`, wide);
    await shot(phone, `maint-${name}-phone`);
  }
  await go(phone, '#/users', '#user-list tr');
  await phone.click('#user-add');
  await phone.type('#uf-password', 'abc');
  await shot(phone, 'maint-users-add-phone');
  await go(phone, '#/maintenance', '#restore');
  await phone.click('#restore');
  await phone.waitForSelector('dialog.mt-dialog[open]');
  await shot(phone, 'maint-restore-dialog-phone');
  await answerDialog(phone, false);
  await phoneCtx.close();

  // ---- an operator: logs, certificate and maintenance, not the users nor what touches them
  await apiIn(page, 'POST', 'users', { name: 'oper', password: OP_PW, level: 'operator' });
  const operCtx = await browser.createBrowserContext();
  const oper = await openAs(operCtx, 'oper', OP_PW, '#/maintenance');
  const operLinks = await oper.$$eval('#nav a', (as) => as.filter((a) => !a.hidden).map((a) => a.getAttribute('href')));
  await oper.waitForSelector('#dev-info dd', { timeout: 10000 }).catch(() => {});
  const mine = ['#/logs', '#/certificate', '#/users', '#/maintenance'];
  ok(['#/logs', '#/certificate', '#/maintenance'].every((l) => operLinks.includes(l)) && !operLinks.includes('#/users')
    && await oper.$('#reboot') !== null
    && await oper.$('#factory, #export-form, #import-form') === null,
  'an operator sees logs, certificate and maintenance (reboot, restore), not the users, default, export, import', operLinks);
  // the network chapter's settings: an operator reads them, only the administrator changes them
  await go(oper, '#/settings/tcpip', 'form.set-part[data-section="network"]');
  const net = await oper.$eval('form.set-part[data-section="network"]', (f) => ({
    disabled: [...f.querySelectorAll('fieldset')].every((fs) => fs.disabled),
    note: !!f.querySelector('.set-admin-only'), save: !!f.querySelector('button[type="submit"]'),
  })).catch((e) => String(e));
  ok(net.disabled && net.note && !net.save,
    'an operator reads the TCP/IP settings, greyed out with a note, no Save', net);
  await go(oper, '#/settings/device', 'form.set-part[data-section="device"]');
  ok(await oper.$eval('form.set-part[data-section="device"]', (f) => !f.querySelector('.set-admin-only')
    && [...f.querySelectorAll('fieldset')].every((fs) => !fs.disabled)).catch(() => false),
  'the other settings stay the operator\'s');
  await operCtx.close();

  // ---- an operator with live view and log and status only (manual 10.13.1):
  // the menu offers what its permissions open
  await apiIn(page, 'POST', 'users', { name: 'oper2', password: OP_PW, level: 'operator',
    permissions: ['live_view', 'log_status'] });
  const oper2Ctx = await browser.createBrowserContext();
  const oper2 = await openAs(oper2Ctx, 'oper2', OP_PW, '#/live');
  const oper2Links = await oper2.$$eval('#nav a', (as) => as.filter((a) => !a.hidden).map((a) => a.getAttribute('href')));
  const liveButtons = await oper2.$$eval('#capture, #record, #ffc, #rules-panel, #quick-panel, #dpc-panel, #bg-correct', (es) => es.length);
  ok(oper2Links.includes('#/live') && oper2Links.includes('#/logs')
    && !['#/settings', '#/files', '#/certificate', '#/maintenance', '#/users'].some((l) => oper2Links.includes(l))
    && liveButtons === 0,
  'an operator with live view and log and status: the live view and the logs in the menu, no capture, record, FFC, rules, DPC or background correction',
  { oper2Links, liveButtons });
  await oper2Ctx.close();

  // ---- a user-level account: no menu entry, no page, and the API refuses too
  console_.expectRefusals = true;
  const viewerCtx = await browser.createBrowserContext();
  const viewer = await openAs(viewerCtx, 'viewer', USER_PW2);
  const links = await viewer.$$eval('#nav a', (as) => as.filter((a) => !a.hidden).map((a) => a.getAttribute('href')));
  // (the live view and the trends are every level's; none of these pages)
  ok(links.includes('#/live') && !links.some((l) => mine.includes(l)),
    'a user-level account sees none of these pages in the menu', links);
  for (const hash of ['#/users', '#/logs', '#/certificate', '#/maintenance']) {
    await go(viewer, hash, '.mt-refused');
    ok(await viewer.$('.mt-refused') !== null && await viewer.$('#user-list, #log-rows, #cert-form, #dev-info') === null,
      `a user-level account cannot open ${hash}`);
  }
  await shot(viewer, 'maint-refused');
  const refusals = [];
  for (const p of ['users', 'system/audit-log', 'security/certificate'])
    refusals.push((await apiIn(viewer, 'GET', p)).status);
  refusals.push((await apiIn(viewer, 'POST', 'system/reboot')).status);
  ok(refusals.every((s) => s === 403), 'and the API refuses it the same', refusals);
  console_.expectRefusals = false;
  await viewerCtx.close();

  // ---- last: the factory default (it ends every session and the accounts)
  await go(page, '#/maintenance', '#factory');
  await page.click('#factory');
  const defText = await answerDialog(page, false);
  ok(/Every user is removed/.test(defText) && /activated again/.test(defText) && (await users(page)).length > 1,
    'the factory default asks first, says the users go, and cancelled keeps them', defText);
  console_.expectRefusals = true;
  await page.click('#factory');
  await answerDialog(page, true);
  ok(await page.waitForSelector('#act-password', { timeout: 10000 }).then(() => true, () => false)
    && (await apiIn(page, 'GET', 'session')).json?.error?.code === 'not_activated',
  'the factory default confirmed: the device is new, the page asks for its activation');
  await shot(page, 'maint-after-default');
  console_.expectRefusals = false;

  // expected: GET /security/certificate answers 404 while none is installed
  // (the page asks), the import with the wrong password is refused (400),
  // as is the upgrade with a file that is not a package (400)
  const errors = consoleErrors.filter((e) => !/status of 404.*\/api\/v1\/security\/certificate$/.test(e.text)
    && !/status of 400.*\/api\/v1\/system\/config-import$/.test(e.text)
    && !/status of 400.*\/api\/v1\/system\/upgrade$/.test(e.text));
  ok(errors.length === 0, 'no console error on any page', errors.map((e) => e.text));
} catch (e) {
  ok(false, 'the maintenance pages test ran to its end', e.stack || String(e));
} finally {
  await browser.close();
  fs.rmSync(DOWNLOADS, { recursive: true, force: true });
}
finish();
