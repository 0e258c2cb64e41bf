// The event stream (GET /api/v1/events, server-sent events) and the panel of
// alarms and exceptions as they happen, with a beep (WebAudio) or a flash.
import { api } from './api.js';
import { t } from './i18n.js';
import { h } from './ui.js';
import { formatTemp, formatDelta, formatReading } from './thermal.js';

const MAX_ITEMS = 100;
const PREFS = 'thermocam.alarmPrefs';

export class EventStream {
  constructor() {
    this.handlers = {};
    this.es = null;
    this.closed = false;
    this.timer = 0;
  }

  on(type, fn) {
    (this.handlers[type] ||= []).push(fn);
    if (this.es)
      this._listen(type);
    return this;
  }

  open() {
    this.closed = false;
    this.es = new EventSource('/api/v1/events');
    for (const type of Object.keys(this.handlers))
      this._listen(type);
    this.es.onerror = () => {
      // closed by the server, or refused: ask the API why (a 401 ends the
      // session in the frame) and try again a little later
      if (this.es.readyState !== EventSource.CLOSED)
        return;
      this.es = null;
      if (this.closed)
        return;
      this.timer = setTimeout(() => {
        api('GET', 'session').then(() => !this.closed && this.open()).catch(() => {});
      }, 3000);
    };
  }

  _listen(type) {
    this.es.addEventListener(type, (ev) => {
      let data;
      try {
        data = JSON.parse(ev.data);
      } catch {
        return;
      }
      for (const fn of this.handlers[type])
        fn(data);
    });
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.es)
      this.es.close();
    this.es = null;
  }
}

let audio = null;

function beep(level) {
  try {
    audio ||= new AudioContext();
    const o = audio.createOscillator(), g = audio.createGain();
    o.frequency.value = level === 'alarm' ? 880 : 660;
    g.gain.setValueAtTime(0.15, audio.currentTime);
    g.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.35);
    o.connect(g).connect(audio.destination);
    o.start();
    o.stop(audio.currentTime + 0.35);
  } catch { /* no audio device */ }
}

export class AlarmPanel {
  constructor(root, getUnit, getRange) {
    this.list = root.querySelector('#alarm-list');
    this.getRange = getRange;       // the measurement range [lo, hi], C, or null
    this.sound = root.querySelector('#alarm-sound');
    this.flashBox = root.querySelector('#alarm-flash');
    this.getUnit = getUnit;
    let prefs = {};
    try {
      prefs = JSON.parse(localStorage.getItem(PREFS) || '{}');
    } catch { /* none */ }
    this.sound.checked = !!prefs.sound;
    this.flashBox.checked = prefs.flash !== false;
    const save = () => localStorage.setItem(PREFS,
      JSON.stringify({ sound: this.sound.checked, flash: this.flashBox.checked }));
    this.sound.addEventListener('change', save);
    this.flashBox.addEventListener('change', save);
    root.querySelector('#alarm-clear').addEventListener('click', () => this.list.replaceChildren());
  }

  alarm(e) {
    const unit = this.getUnit();
    const fmt = e.source === 'comparison' ? formatDelta : formatTemp;
    const what = e.source === 'input' ? t('alarms.input', { n: e.input })
      : e.source === 'environment' ? t('alarms.environment') : e.name;
    // a value outside the measurement range: the range's end after "<" or ">"
    const range = this.getRange ? this.getRange() : null;
    const flag = e.above_range ? 'above' : e.below_range ? 'below' : '';
    const value = flag && range ? formatReading(e.value, unit, flag, range) : fmt(e.value, unit);
    const detail = e.value !== undefined
      ? t('alarms.valueThreshold', { value, threshold: fmt(e.threshold, unit) }) : '';
    this._add(e, e.state === 'start' ? 'start' : 'stop', [
      h('span', { class: 'lvl ' + e.level }, t('state.' + e.level)),
      ' ', h('strong', {}, what), ' ',
      t(e.state === 'start' ? (e.repeat ? 'alarms.continues' : 'alarms.start') : 'alarms.stop'),
      detail ? ' · ' + detail : '',
    ]);
    if (e.state === 'start' && !e.repeat)
      this._notify(e.level);
  }

  exception(e) {
    const state = e.state ? ' (' + t(e.state === 'start' ? 'alarms.start' : 'alarms.stop') + ')' : '';
    this._add(e, 'exception', [
      h('span', { class: 'lvl exception' }, t('alarms.exception')), ' ',
      h('strong', {}, t('exception.' + e.type) === 'exception.' + e.type ? e.type : t('exception.' + e.type)),
      state, ' · ', e.message,
    ]);
    if (e.state !== 'stop')
      this._notify('alarm');
  }

  _add(e, kind, parts) {
    const time = new Date(e.time);
    const li = h('li', { class: kind, dataset: { source: e.source, level: e.level || '', state: e.state || '' } },
      h('time', { datetime: e.time }, isNaN(time) ? e.time : time.toLocaleTimeString()), ' ', ...parts);
    this.list.prepend(li);
    while (this.list.children.length > MAX_ITEMS)
      this.list.lastElementChild.remove();
  }

  _notify(level) {
    if (this.sound.checked)
      beep(level);
    if (this.flashBox.checked) {
      document.body.classList.remove('alarm-flash');
      void document.body.offsetWidth;
      document.body.classList.add('alarm-flash');
    }
  }
}
