// The live view (manual 6.1): the picture and its toolbar, temperatures under
// the cursor, the rules on the image, quick settings, alarms as they happen.
import { api } from './api.js';
import { t, applyI18n } from './i18n.js';
import { fromTemplate, flash } from './ui.js';
import { LivePlayer } from './player.js';
import { decodeRadiometry, celsiusAt, formatTemp, formatReading } from './thermal.js';
import { RuleLayer } from './rules.js';
import { RulePanel } from './rulepanel.js';
import { QuickSettings } from './quick.js';
import { hardwareControls } from './live-hw.js';
import { EventStream, AlarmPanel } from './events.js';
import { Zoom } from './zoom.js';
import { levelAllows, permissionAllows, pruneByLevel } from './level.js';
import { DpcPanel } from './dpc.js';

// radiometric frames a second: while the pointer is over the picture (the
// temperature under it at once), and otherwise (the max and min marks, the
// ruler); the daemon compresses each one sent
const RADIOMETRY_RATE = 4;
const RADIOMETRY_IDLE_RATE = 1;
const RADIOMETRY_IDLE_AFTER_MS = 2000;
const PROPORTIONS = { '4:3': 4 / 3, '16:9': 16 / 9 };
const PREFS = 'thermocam.livePrefs';

export function renderLive(view, { device }) {
  view.append(fromTemplate('live'));
  pruneByLevel(view);
  applyI18n(view);
  const $ = (id) => view.querySelector('#' + id);
  const frameEl = $('frame'), zoomer = $('zoomer'), video = $('video'), img = $('mjpeg');
  const cursor = $('cursor-temp'), status = $('live-status'), zoomBtn = $('zoom');
  const rulerMax = $('ruler-max'), rulerMin = $('ruler-min'), rulerBar = $('ruler-bar'), toolHint = $('tool-hint');
  const operator = levelAllows('operator');
  // the rules and quick settings are parameter settings (manual 10.13.1)
  const parameters = operator && permissionAllows('parameters');
  const sensor = device?.sensor || { width: 640, height: 512 };
  let prefs = {};
  try {
    prefs = JSON.parse(localStorage.getItem(PREFS) || '{}');
  } catch { /* none */ }
  const savePrefs = () => localStorage.setItem(PREFS, JSON.stringify(prefs));
  const st = {
    unit: 'celsius', radio: null, decoding: false, pointer: null, image: null,
    // what the live view shows and in which units (GET /device display: manual 3.1 Local, 10.11)
    display: { temperature_unit: 'celsius', distance_unit: 'metre', temperature_info: true, rules: true,
      temperature_range: null },
    aspect: sensor.width / sensor.height, proportion: prefs.proportion || 'original',
  };
  // the page is left: what is still on its way finds nothing to do
  let alive = true;
  const cleanups = [() => { alive = false; }];
  // a 401 has taken the frame to the login page already
  const error = (e) => e.status !== 401 && flash(e.code === 'csrf' ? t('error.csrf') : e.message || String(e), 'error');
  const info = (text) => flash(text, 'info', 2500);

  // ---- layout: the proportion (6.1.1) of the picture inside the stage
  function layout() {
    const W = frameEl.clientWidth, H = frameEl.clientHeight;
    let w = W, hgt = H;
    const a = st.proportion === 'original' ? st.aspect : PROPORTIONS[st.proportion];
    if (a) {
      if (W / H > a)
        w = H * a;
      else
        hgt = W / a;
    }
    Object.assign(zoomer.style, { width: w + 'px', height: hgt + 'px', left: (W - w) / 2 + 'px', top: (H - hgt) / 2 + 'px' });
    zoom.reset();
  }
  const zoom = new Zoom(frameEl, zoomer, $('zoom-box'), () => layer?.render());
  const ro = new ResizeObserver(layout);
  ro.observe(frameEl);
  cleanups.push(() => ro.disconnect(), () => zoom.destroy());
  $('proportion').value = st.proportion;
  $('proportion').addEventListener('change', (ev) => { st.proportion = prefs.proportion = ev.target.value; savePrefs(); layout(); });
  video.addEventListener('loadedmetadata', () => {
    if (video.videoWidth && video.videoHeight) {
      st.aspect = video.videoWidth / video.videoHeight;
      layout();
    }
  });
  zoomBtn.addEventListener('click', (ev) => {
    const on = zoom.toggleMode();
    ev.target.setAttribute('aria-pressed', on);
    if (on && layer && layer.tool)
      setTool('');
  });
  $('fullscreen').addEventListener('click', () => {
    if (document.fullscreenElement)
      document.exitFullscreen();
    else
      $('stage').requestFullscreen().catch(error);
  });

  // ---- the player
  const player = new LivePlayer(video, img, {
    hello: (msg) => {
      if (msg.radiometry?.width)
        st.aspect = msg.radiometry.width / msg.radiometry.height;
    },
    radiometry: (payload) => {
      if (st.decoding || !alive)
        return;                     // one at a time: a slow page skips frames
      st.decoding = true;
      decodeRadiometry(payload).then((f) => { if (f && alive) onRadiometry(f); })
        .catch(() => {}).finally(() => { st.decoding = false; });
    },
    state: (name, detail) => {
      status.dataset.mode = name;
      // the MJPEG picture is the main stream's only
      streamSel.disabled = name === 'mjpeg';
      status.textContent = t('live.mode.' + name);
      status.title = detail ? String(detail) : '';
    },
    frame: () => {},
  });
  cleanups.push(() => player.close());
  // for measurements (tests/web): the player's mode and glass-to-glass latencies (ms)
  window.thermocamLive = {
    mode: () => player.mode, latency: () => player.latency.slice(), opens: () => player.opens || 0,
    radiometryRate: () => player.rate,
  };
  cleanups.push(() => { delete window.thermocamLive; });
  const streamSel = $('stream');
  streamSel.value = prefs.stream === 'sub' ? 'sub' : 'main';
  const playBtn = $('play');
  function setPlaying(on) {
    playBtn.dataset.i18n = on ? 'live.stop' : 'live.start';
    playBtn.textContent = t(playBtn.dataset.i18n);
    playBtn.setAttribute('aria-pressed', on);
    if (on)
      player.start(streamSel.value);
    else
      player.stop();
  }
  playBtn.addEventListener('click', () => setPlaying(!player.playing));
  streamSel.addEventListener('change', () => {
    prefs.stream = streamSel.value;
    savePrefs();
    if (player.playing)
      player.start(streamSel.value);
  });

  // ---- temperatures on the picture
  const markMax = $('mark-max'), markMin = $('mark-min');
  function place(el, at, text) {
    el.hidden = false;
    el.classList.toggle('at-left', at[0] < 0.08);
    el.classList.toggle('at-right', at[0] > 0.92);
    el.classList.toggle('at-top', at[1] < 0.06);
    el.style.left = at[0] * 100 + '%';
    el.style.top = at[1] * 100 + '%';
    el.textContent = text;
  }
  // a scene reading flagged outside the measurement range as the OSD does
  const sceneText = (c, side) => {
    const r = st.display.temperature_range;
    const out = r && (side === 'above' ? c > r[1] : c < r[0]);
    return formatReading(c, st.unit, out ? side : '', r);
  };
  function onRadiometry(f) {
    st.radio = f;
    place(markMax, f.maxAt, '▲ ' + sceneText(f.max, 'above'));
    place(markMin, f.minAt, '▼ ' + sceneText(f.min, 'below'));
    // "display temperature info" off: no readings on the picture
    markMax.hidden = markMin.hidden = !st.display.temperature_info;
    markMax.dataset.celsius = f.max.toFixed(2);
    markMin.dataset.celsius = f.min.toFixed(2);
    if (!st.image || st.image.range?.mode !== 'manual')
      ruler(f.min, f.max);
    showCursor();
  }
  // the colour ruler (operators: the palette is in the configuration)
  function ruler(min, max) {
    if (!operator)
      return;
    rulerMax.textContent = formatTemp(max, st.unit);
    rulerMin.textContent = formatTemp(min, st.unit);
  }
  function showCursor() {
    const p = st.pointer;
    if (!p || !st.radio)
      return;                       // no radiometric frame (yet): nothing to say
    const c = celsiusAt(st.radio, p.u, p.v);
    cursor.hidden = false;
    cursor.textContent = formatTemp(c, st.unit);
    cursor.dataset.celsius = c === null ? '' : c.toFixed(2);
    cursor.dataset.u = p.u.toFixed(5);
    cursor.dataset.v = p.v.toFixed(5);
    cursor.style.left = p.x + 14 + 'px';
    cursor.style.top = p.y + 14 + 'px';
  }
  frameEl.addEventListener('pointermove', (ev) => {
    const r = zoomer.getBoundingClientRect(), fr = frameEl.getBoundingClientRect();
    const u = (ev.clientX - r.left) / r.width, v = (ev.clientY - r.top) / r.height;
    if (u < 0 || v < 0 || u >= 1 || v >= 1) {
      st.pointer = null;
      cursor.hidden = true;
      return;
    }
    st.pointer = { u, v, x: ev.clientX - fr.left, y: ev.clientY - fr.top };
    showCursor();
  });
  frameEl.addEventListener('pointerleave', () => { st.pointer = null; cursor.hidden = true; });
  // the faster rate while someone points: while the pointer moves over the
  // picture, and a while after it stopped or left (a pointer resting on the
  // picture, or going in and out, sends no message each time; a page left
  // open with the pointer on it costs the camera one frame a second)
  let idleTimer = 0;
  const pointing = () => {
    clearTimeout(idleTimer);
    if (player.rate !== RADIOMETRY_RATE)
      player.setRadiometry(RADIOMETRY_RATE);
    idleTimer = setTimeout(() => player.setRadiometry(RADIOMETRY_IDLE_RATE), RADIOMETRY_IDLE_AFTER_MS);
  };
  frameEl.addEventListener('pointerenter', pointing);
  frameEl.addEventListener('pointermove', pointing);
  cleanups.push(() => clearTimeout(idleTimer));

  // ---- capture, record, flat-field correction
  $('snapshot').addEventListener('click', async () => {
    try {
      const blob = await api('GET', 'snapshot?format=jpeg');
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `snapshot-${new Date().toISOString().replace(/[:.]/g, '-')}.jpg`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      info(t('live.snapshotDone'));
    } catch (e) {
      error(e);
    }
  });
  if (operator) {
    $('capture')?.addEventListener('click', async () => {
      try {
        const r = await api('POST', 'captures', { format: 'rjpeg' });
        info(t('live.captureDone', { name: r.name }));
      } catch (e) {
        error(e);
      }
    });
    const rec = $('record');
    const showRec = (s) => {
      rec.setAttribute('aria-pressed', !!s.recording);
      rec.dataset.i18n = s.recording ? 'live.recordStop' : 'live.record';
      rec.textContent = t(rec.dataset.i18n);
      rec.classList.toggle('recording', !!s.recording);
    };
    if (rec)
      api('GET', 'recording').then(showRec).catch(() => {});
    rec?.addEventListener('click', async () => {
      try {
        const on = rec.getAttribute('aria-pressed') === 'true';
        showRec(await api('POST', on ? 'recording/stop' : 'recording/start'));
      } catch (e) {
        error(e);
      }
    });
    $('ffc')?.addEventListener('click', async () => {
      try {
        const r = await api('POST', 'system/ffc');
        info(r && r.correcting === false ? t('live.ffcLater', { s: r.retry_after_s ?? '' }) : t('live.ffcDone'));
      } catch (e) {
        error(e);
      }
    });
  }

  // ---- the lens, focus, light and wiper the device has (manual 6.1.8-6.1.12)
  if (parameters)
    hardwareControls($('toolbar'), device, { info, error });

  // ---- rules, quick settings (operators and administrators)
  let layer = null, panel = null, quick = null;
  function setTool(tool) {
    const now = layer.setTool(tool === layer.tool ? '' : tool);
    for (const b of view.querySelectorAll('#tools [data-tool]'))
      b.setAttribute('aria-pressed', b.dataset.tool === now);
    toolHint.textContent = now ? t('rules.hint.' + now) : '';
    if (now && zoom.mode) {
      zoom.toggleMode();
      zoomBtn.setAttribute('aria-pressed', false);
    }
  }
  if (parameters) {
    layer = new RuleLayer(zoomer, $('overlay'), {
      select: (rule) => panel.edit(rule),
      changed: () => { panel.renderList(); panel.renderComparisons(); },
      error, unit: () => st.unit, display: () => st.display,
    });
    panel = new RulePanel(view, layer, { error, info, unit: () => st.unit, display: () => st.display });
    cleanups.push(() => layer.destroy());
    for (const b of view.querySelectorAll('#tools [data-tool]'))
      b.addEventListener('click', () => setTool(b.dataset.tool));
    layer.load().catch(error);
    panel.loadComparisons().catch(error);
    quick = new QuickSettings($('quick'), {
      error, unit: () => st.unit,
      changed: (image) => {
        if (!alive)
          return;
        st.image = image;
        rulerBar.className = 'ruler-bar pal-' + image.palette;
        if (image.range?.mode === 'manual')
          ruler(image.range.min, image.range.max);
      },
    });
    quick.load().catch(error);
    // manual defective pixel correction (manual 7.5); picking stops the rule tools and the zoom
    const dpc = new DpcPanel($('dpc-panel'), zoomer, {
      error, info,
      picking: () => {
        if (layer.tool)
          setTool('');
        if (zoom.mode) {
          zoom.toggleMode();
          zoomBtn.setAttribute('aria-pressed', false);
        }
      },
    });
    cleanups.push(() => dpc.destroy());
    dpc.load().catch(error);
    const relabelDpc = () => dpc.render();
    window.addEventListener('langchange', relabelDpc);
    cleanups.push(() => window.removeEventListener('langchange', relabelDpc));
    // background correction (manual 7.2.2): a uniform object covers the lens
    $('bg-correct').addEventListener('click', async () => {
      try {
        const r = await api('POST', 'system/background-correction');
        info(r && r.correcting === false ? t('live.ffcLater', { s: r.retry_after_s ?? '' }) : t('live.backgroundDone'));
      } catch (e) {
        error(e);
      }
    });
  } else {
    $('overlay').remove();
  }

  // ---- events: readings, alarms, exceptions, changes by others
  const alarms = new AlarmPanel(view, () => st.unit, () => st.display.temperature_range);
  const events = new EventStream();
  events.on('measurement', (r) => {
    if (!alive)
      return;
    if (layer) {
      layer.setReading(r);
      panel.setReading(r);
    }
    if (!st.radio && r.scene)
      ruler(r.scene.min, r.scene.max);
  });
  events.on('alarm', (e) => {
    if (!alive)
      return;
    alarms.alarm(e);
    if (layer && e.source === 'rule')
      layer.setState(e.rule, e.state === 'start' ? e.level : (e.level === 'alarm' ? 'pre_alarm' : 'normal'));
  });
  events.on('exception', (e) => alarms.exception(e));
  events.on('config', (e) => {
    if (!layer || !alive)
      return;
    if (e.change.startsWith('rules.'))
      layer.load().catch(() => {});
    else if (e.change === 'config.image' && !quick.pending.palette)
      quick.load().catch(() => {});
    else if (e.change === 'config.comparisons')
      panel.loadComparisons().catch(() => {});
  });
  // the display settings and units, for every account, again when they change
  function loadDisplay() {
    api('GET', 'device', undefined, { quiet: true }).then((dev) => {
      if (!alive || !dev.display)
        return;
      st.display = dev.display;
      st.unit = dev.display.temperature_unit || 'celsius';
      view.dataset.tempUnit = st.unit;
      view.dataset.distanceUnit = dev.display.distance_unit;
      view.dataset.temperatureInfo = dev.display.temperature_info;
      view.dataset.rules = dev.display.rules;
      markMax.hidden = markMin.hidden = !st.display.temperature_info || !st.radio;
      if (st.radio)
        onRadiometry(st.radio);
      if (layer) {
        layer.render();
        panel.renderList();
        panel.renderComparisons();
        if (layer.selected !== null)
          panel.edit(layer.rules.find((r) => r.id === layer.selected));
        if (quick.image)
          quick.render();
      }
    }).catch(() => {});
  }
  loadDisplay();
  events.on('config', (e) => {
    if (alive && (e.change === 'config.thermometry' || e.change === 'config.units'))
      loadDisplay();
  });
  events.open();
  cleanups.push(() => events.close());
  if (layer)
    api('GET', 'temperatures').then((r) => { layer.setReading(r); panel.setReading(r); }).catch(() => {});

  const relabel = () => {
    if (status.dataset.mode)
      status.textContent = t('live.mode.' + status.dataset.mode);
    if (layer) {
      layer.render();
      panel.renderList();
      panel.renderComparisons();
      quick.image && quick.render();
    }
  };
  window.addEventListener('langchange', relabel);
  cleanups.push(() => window.removeEventListener('langchange', relabel));

  layout();
  setPlaying(prefs.playing !== false);
  player.setRadiometry(RADIOMETRY_IDLE_RATE);
  return () => cleanups.forEach((f) => {
    try {
      f();
    } catch (e) {
      console.warn('leaving the live view:', e);
    }
  });
}
