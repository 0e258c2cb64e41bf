// The certificate store on the 802.1X page (Configuration > network-advanced,
// manual 10.12.7) in headless Chromium against a daemon of run.py
// (--activated): a CA and a client certificate (with its key) uploaded from
// PEM files by the page's own controls, listed, a mismatched key refused with
// the server's message, 802.1X EAP-TLS saved naming them, the named CA's
// deletion refused, then deleted once no longer named. Prints TAP.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ok, finish, waitFor, shot, apiIn, consoleErrors, console_, launch, openAs, PASSWORD } from './lib.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'web-certs-'));
const p = (n) => path.join(dir, n);
const ossl = (...a) => execFileSync('openssl', a, { stdio: ['ignore', 'pipe', 'pipe'] });
const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
ossl('req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '30', '-subj', '/CN=Plant CA');
ossl('req', ...ec, '-keyout', p('cam.key'), '-out', p('cam.csr'), '-subj', '/CN=cam-7');
ossl('x509', '-req', '-in', p('cam.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial',
  '-out', p('cam.crt'), '-days', '30');
ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p('other.key'));
fs.writeFileSync(p('client.pem'), fs.readFileSync(p('cam.crt'), 'utf8') + fs.readFileSync(p('cam.key'), 'utf8'));
fs.writeFileSync(p('wrong.pem'), fs.readFileSync(p('cam.crt'), 'utf8') + fs.readFileSync(p('other.key'), 'utf8'));

const browser = await launch();
try {
  const page = await openAs(browser, 'admin', PASSWORD, '#/settings/network-advanced');
  ok(await waitFor(page, () => document.querySelector('.cert-store') && document.querySelector('[data-settings] .set-body[data-ready]'), null, 15000),
    'the 802.1X page shows the certificate store');
  const unlabelled = await page.$$eval('.cert-store input, .cert-store select',
    (els) => els.filter((e) => !document.querySelector(`label[for="${e.id}"]`)).map((e) => e.id || e.outerHTML));
  ok(unlabelled.length === 0, 'every control of the store has its label', unlabelled);

  async function upload(name, kind, file) {
    await page.$eval('#cert-name', (e) => { e.value = ''; });
    await page.type('#cert-name', name);
    await page.select('#cert-kind', kind);
    const input = await page.$('#cert-file');
    await input.uploadFile(p(file));
    await page.click('#cert-add');
  }
  await upload('plant-ca', 'ca', 'ca.pem');
  ok(await waitFor(page, () => document.querySelector('tr[data-cert="plant-ca"]')?.textContent.includes('CN=Plant CA')),
    'a CA uploaded from its PEM file is listed with its subject');
  await upload('cam', 'client', 'client.pem');
  ok(await waitFor(page, () => document.querySelector('tr[data-cert="cam"]')?.textContent.includes('CN=cam-7')),
    'a client certificate with its key is listed');
  console_.expectRefusals = true;
  await upload('wrong', 'client', 'wrong.pem');
  ok(await waitFor(page, () => /not the certificate's/.test(document.querySelector('.cert-store .test-result')?.textContent || '')
    && !document.querySelector('tr[data-cert="wrong"]')),
  'a certificate with another key is refused, the server\'s reason shown',
  await page.$eval('.cert-store .test-result', (e) => e.textContent));
  console_.expectRefusals = false;
  await shot(page, '30-cert-store');

  const put = await apiIn(page, 'PUT', 'config/network', { ieee8021x: { enabled: true, protocol: 'eap-tls', user: 'cam-7',
    ca_certificate: 'plant-ca', client_certificate: 'cam' } });
  ok(put.status === 200 && put.json.ieee8021x.client_certificate === 'cam', 'EAP-TLS saved naming them', put);
  console_.expectRefusals = true;
  await page.click('tr[data-cert="plant-ca"] button');
  ok(await waitFor(page, () => /network\.ieee8021x\.ca_certificate/.test(document.querySelector('.cert-store .test-result')?.textContent || '')
    && document.querySelector('tr[data-cert="plant-ca"]')),
  'the named CA cannot be deleted: the page says which setting names it',
  await page.$eval('.cert-store .test-result', (e) => e.textContent));
  console_.expectRefusals = false;
  await apiIn(page, 'PUT', 'config/network', { ieee8021x: { enabled: false, ca_certificate: '', client_certificate: '' } });
  await page.click('tr[data-cert="plant-ca"] button');
  ok(await waitFor(page, () => !document.querySelector('tr[data-cert="plant-ca"]') && document.querySelector('tr[data-cert="cam"]')),
    'named no more: deleted from the page');
  const list = await apiIn(page, 'GET', 'security/certificates');
  ok(list.status === 200 && list.json.certificates.map((c) => c.name).join() === 'cam', 'the API agrees', list);
  await shot(page, '31-cert-store-after');
  // the refusals asked for (400, 409) are the checks' own
  const errors = consoleErrors.filter((e) => !/status of (400|409)/.test(e.text)).map((e) => e.text);
  ok(errors.length === 0, 'no console error', errors.join('\n'));
} catch (e) {
  ok(false, 'the browser tests ran to the end', e.stack);
} finally {
  await browser.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
finish();
