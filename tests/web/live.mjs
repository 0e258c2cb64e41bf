// The live view's units and display settings (issue 19 items 9 and 10) in
// headless Chromium against a real daemon (run.py --activated): with same
// unit in Fahrenheit and feet, the rule panel shows a rule's distance in feet
// and its temperatures (reflected, alarm thresholds, readings) in °F, and
// what is typed in feet is saved in metres; a reading outside the
// measurement range is flagged as the OSD does (the rule list, the alarms
// panel); "display temperature info" and "rules" on the live view hide the
// readings and the rules at once; no
// console error; screenshots at 1280x800 and 390x844.
import { ok, finish, waitFor, shot, apiIn, consoleErrors, launch, openAs, sleep, PASSWORD } from './lib.mjs';

const browser = await launch();
try {
  const page = await openAs(browser, 'admin', PASSWORD, '#/live');
  ok(await waitFor(page, () => document.querySelector('#rule-list')), 'the live view opens');
  const scene = (await apiIn(page, 'GET', 'temperatures')).json.scene;
  let r = await apiIn(page, 'POST', 'rules', { name: 'far', type: 'polygon', distance: 10, reflected_temperature: 30,
    points: [[0.3, 0.3], [0.7, 0.3], [0.7, 0.7], [0.3, 0.7]],
    alarm: { enabled: true, on: 'max', condition: 'above', pre_alarm: 150, alarm: 160, tolerance: 3 } });
  const far = r.json;
  r = await apiIn(page, 'POST', 'rules', { name: 'hot', type: 'point', emissivity: 0.1, points: [scene.max_at] });
  const hot = r.json;
  ok(far.id && hot.id, 'two rules made through the API', [far, hot]);

  // metres and Celsius first
  const vals = (id) => page.$eval(`#rule-list li[data-rule="${id}"] .vals`, (e) => e.textContent).catch(() => '');
  ok(await waitFor(page, (id) => /°C/.test(document.querySelector(`#rule-list li[data-rule="${id}"] .vals`)?.textContent || ''), far.id),
    'the rule list reads in °C', await vals(far.id));

  // same unit: Fahrenheit and feet; the page follows without a reload
  r = await apiIn(page, 'PUT', 'config/units', { same_unit: true, temperature: 'fahrenheit', distance: 'foot' });
  ok(r.status === 200, 'same unit on: Fahrenheit and feet', r);
  ok(await waitFor(page, () => document.querySelector('.view')?.dataset?.distanceUnit === 'foot'
      || document.querySelector('[data-distance-unit="foot"]'), null, 10000), 'the live view learns the units (config event)');
  ok(await waitFor(page, (id) => /°F/.test(document.querySelector(`#rule-list li[data-rule="${id}"] .vals`)?.textContent || ''), far.id),
    'the rule list reads in °F', await vals(far.id));
  ok(await waitFor(page, () => /°F$/.test(document.querySelector('#mark-max')?.textContent || ''), null, 10000),
    'the scene maximum on the picture in °F', await page.$eval('#mark-max', (e) => e.textContent));
  ok(await waitFor(page, (id) => /°F/.test(document.querySelector(`#overlay g.rule[data-rule="${id}"] text.label`)?.textContent || ''), far.id),
    'the rule labels on the picture in °F');

  // the quick settings' palette range in °F (the API's Celsius converted)
  const im = (await apiIn(page, 'GET', 'config/image')).json;
  const want = String(Math.round((im.range.min * 9 / 5 + 32) * 100) / 100);
  ok(await waitFor(page, (w) => {
    const e = document.querySelector('#quick [name="range.min"]');
    return e && e.dataset.unit === 'fahrenheit' && e.value === w && /°F/.test(e.closest('label').textContent);
  }, want), `the quick settings' range minimum ${im.range.min} °C shows as ${want} °F`,
  await page.$eval('#quick [name="range.min"]', (e) => [e.value, e.dataset.unit, e.closest('label').textContent]).catch(() => null));

  // the rule editor: the distance in feet, the temperatures in °F
  await page.evaluate((id) => document.querySelector(`#rule-list li[data-rule="${id}"] button.link`).click(), far.id);
  await page.waitForSelector(`#rule-editor form[data-rule="${far.id}"]`, { timeout: 5000 });
  const form = await page.evaluate(() => {
    const f = document.querySelector('#rule-editor form');
    const label = (n) => f.elements[n].closest('label')?.querySelector('span')?.textContent;
    return {
      distance: f.elements.distance.value, distUnit: f.elements.distance.dataset.unit, distLabel: label('distance'),
      reflected: f.elements.reflected_temperature.value, reflLabel: label('reflected_temperature'),
      pre: f.elements['alarm.pre_alarm'].value, alarm: f.elements['alarm.alarm'].value,
      tol: f.elements['alarm.tolerance'].value, alarmLabel: label('alarm.alarm'),
    };
  });
  ok(form.distance === '32.81' && form.distUnit === 'foot' && /\(ft\)/.test(form.distLabel),
    'the rule\'s 10 m shows as 32.81 ft', form);
  ok(form.reflected === '86' && /°F/.test(form.reflLabel) && form.pre === '302' && form.alarm === '320'
      && form.tol === '5.4' && /°F/.test(form.alarmLabel),
    'its reflected temperature (30 °C = 86 °F), thresholds (150, 160 °C = 302, 320 °F) and tolerance (3 K = 5.4 °F) in °F', form);
  await shot(page, 'live-units-editor-1280');
  await page.evaluate(() => {
    const f = document.querySelector('#rule-editor form');
    f.elements.distance.value = '20';
    f.elements['alarm.alarm'].value = '338';
  });
  await page.click('#rule-editor button[type="submit"]');
  let saved = null;
  for (let i = 0; i < 30; i++) {
    saved = (await apiIn(page, 'GET', 'rules/' + far.id)).json;
    if (Math.abs(saved.distance - 6.096) < 0.05)
      break;
    await sleep(150);
  }
  // (the API keeps a distance to 0.1 m)
  ok(Math.abs(saved.distance - 6.096) < 0.05 && Math.abs(saved.alarm.alarm - 170) < 0.001
      && Math.abs(saved.alarm.pre_alarm - 150) < 0.001 && Math.abs(saved.reflected_temperature - 30) < 0.001
      && Math.abs(saved.alarm.tolerance - 3) < 0.001,
    '20 ft typed is saved as 6.1 m, 338 °F as 170 °C; what was not touched keeps its value', saved);

  // a reading outside the measurement range: the range's end after ">"
  ok(await waitFor(page, (id) => (document.querySelector(`#rule-list li[data-rule="${id}"] .vals`)?.textContent || '').startsWith('>302.0 °F'), hot.id, 10000),
    'the hot rule above -20~150 °C reads ">302.0 °F" and is marked', await vals(hot.id));
  ok(await page.$eval(`#rule-list li[data-rule="${hot.id}"] .vals`, (e) => e.classList.contains('out-of-range')),
    'its reading carries the out-of-range class');
  // its alarm in the alarms panel: the value flagged the same way
  await apiIn(page, 'PUT', 'rules/' + hot.id, { alarm: { enabled: true, on: 'max', condition: 'above', pre_alarm: 190, alarm: 200, tolerance: 2 } });
  ok(await waitFor(page, () => [...document.querySelectorAll('#alarm-list li')].some((li) => li.textContent.includes('hot') && li.textContent.includes('>302.0 °F')), null, 10000),
    'the hot rule\'s alarm in the alarms panel reads ">302.0 °F"',
    await page.$$eval('#alarm-list li', (ls) => ls.map((l) => l.textContent)));
  await apiIn(page, 'PUT', 'rules/' + hot.id, { alarm: { enabled: false } });
  await page.evaluate(() => document.querySelector('#rule-editor button[type="button"]:last-child')?.click());
  await sleep(300);
  await shot(page, 'live-units-1280');
  await page.setViewport({ width: 390, height: 844 });
  await sleep(400);
  await shot(page, 'live-units-390');
  await page.setViewport({ width: 1280, height: 800 });

  // display settings: no temperature info, then no rules
  r = await apiIn(page, 'PUT', 'config/thermometry', { live_temperature_info: false });
  ok(r.status === 200 && await waitFor(page, () => document.querySelector('#mark-max')?.hidden
      && [...document.querySelectorAll('#rule-list .vals')].every((e) => e.hidden), null, 10000),
    'display temperature info off: no scene marks, no readings in the list');
  ok(await waitFor(page, (id) => {
    const l = document.querySelector(`#overlay g.rule[data-rule="${id}"] text.label`);
    return l && l.textContent === 'far';
  }, far.id), 'the rule labels on the picture keep their names only');
  r = await apiIn(page, 'PUT', 'config/thermometry', { live_rules: false });
  ok(r.status === 200 && await waitFor(page, (id) => {
    const g = document.querySelector(`#overlay g.rule[data-rule="${id}"]`);
    return document.querySelector('#overlay').classList.contains('rules-off') && g && getComputedStyle(g).display === 'none';
  }, far.id, 10000), 'rules on the live view off: the rules are not drawn');
  await shot(page, 'live-display-off-1280');
  await apiIn(page, 'PUT', 'config/thermometry', { live_temperature_info: true, live_rules: true });
  ok(await waitFor(page, (id) => getComputedStyle(document.querySelector(`#overlay g.rule[data-rule="${id}"]`)).display !== 'none'
      && !document.querySelector('#mark-max').hidden, far.id, 10000), 'both on again: the rules and the readings are back');

  const errors = consoleErrors.filter((e) => !e.ws);
  ok(errors.length === 0, 'no console error', errors);
} finally {
  await browser.close();
}
finish();
