// Where the trends page's numbers come from: the device's history (GET
// /api/v1/history?rule=<id|scene>&from=&to=&step=) for the accounts that may
// read it; for the others, what the page has seen since it was loaded: the
// readings it polled (GET /temperatures), kept here in bounded buffers that
// outlive a visit to another page.
//
// historySeries() and historySource() are what the trends page asks.
import { api } from './api.js';

// 1 s samples for the last hour, one-minute aggregates for the last 7 days,
// at most MAX_SERIES series (the scene and the rules): about 14,000 points a
// series at most
const FINE_S = 3600;
const COARSE_S = 7 * 86400;
const BUCKET_S = 60;
const MAX_SERIES = 64;

class Series {
  constructor(name) {
    this.name = name;
    this.fine = [];          // {t (ms), max, min, avg}, oldest first
    this.coarse = [];        // one a minute: {t, max, min, avg, n}
  }

  add(p) {
    const last = this.fine[this.fine.length - 1];
    if (last && p.t <= last.t)
      return;
    this.fine.push(p);
    while (this.fine.length && this.fine[0].t < p.t - FINE_S * 1000)
      this.fine.shift();
    const b = Math.floor(p.t / (BUCKET_S * 1000)) * BUCKET_S * 1000;
    const c = this.coarse[this.coarse.length - 1];
    if (c && c.t === b) {
      c.max = Math.max(c.max, p.max);
      c.min = Math.min(c.min, p.min);
      c.avg = (c.avg * c.n + p.avg) / (c.n + 1);
      c.n++;
    } else {
      this.coarse.push({ t: b, max: p.max, min: p.min, avg: p.avg, n: 1 });
    }
    while (this.coarse.length && this.coarse[0].t < p.t - COARSE_S * 1000)
      this.coarse.shift();
  }
}

export class SeenHistory {
  constructor() {
    this.series = new Map();   // 'scene' | rule id (string) -> Series
  }

  // a reading of GET /temperatures (or a measurement event)
  record(reading) {
    const t = Date.parse(reading.time) || Date.now();
    const put = (key, name, r) => {
      if (!r || r.valid === false || typeof r.max !== 'number')
        return;
      let s = this.series.get(key);
      if (!s) {
        if (this.series.size >= MAX_SERIES)
          return;
        s = new Series(name);
        this.series.set(key, s);
      }
      s.name = name;
      s.add({ t, max: r.max, min: r.min, avg: typeof r.avg === 'number' ? r.avg : (r.max + r.min) / 2 });
    };
    if (reading.valid !== false)
      put('scene', '', reading.scene);
    for (const r of reading.rules || [])
      put(String(r.id), r.name, r);
  }

  // the series seen: [{key, name}], the scene first
  keys() {
    return [...this.series].map(([key, s]) => ({ key, name: s.name }))
      .sort((a, b) => (a.key === 'scene' ? -1 : b.key === 'scene' ? 1 : Number(a.key) - Number(b.key)));
  }

  // the points of @key between @from and @to (ms), aggregated by @step (s)
  query(key, from, to, step) {
    const s = this.series.get(String(key));
    if (!s)
      return [];
    const src = to - from <= FINE_S * 1000 && step < BUCKET_S ? s.fine : s.coarse;
    const out = [];
    let cur = null;
    for (const p of src) {
      if (p.t < from || p.t > to)
        continue;
      const b = Math.floor(p.t / (step * 1000)) * step * 1000;
      if (cur && cur.t === b) {
        cur.max = Math.max(cur.max, p.max);
        cur.min = Math.min(cur.min, p.min);
        cur.sum += p.avg;
        cur.n++;
      } else {
        if (cur)
          out.push(cur);
        cur = { t: b, max: p.max, min: p.min, sum: p.avg, n: 1 };
      }
    }
    if (cur)
      out.push(cur);
    return out.map((p) => ({ t: p.t, max: p.max, min: p.min, avg: p.sum / p.n }));
  }
}

export const seen = new SeenHistory();

// The device keeps the history (GET /history, operator level): the scene and
// the rules it has now; an account that may not read it (user level) plots
// what the page has seen.
let fromDevice = true;

// whether the points come from the device (FALSE: from what the page saw)
export function historyFromDevice() {
  return fromDevice;
}

// -> [{key ('scene' or a rule id), name}]: the series to plot, the scene first
export async function historySeries() {
  if (fromDevice) {
    try {
      const rules = await api('GET', 'rules', undefined, { quiet: true });
      return [{ key: 'scene', name: '' }, ...rules.map((r) => ({ key: String(r.id), name: r.name }))];
    } catch (e) {
      if (e.status !== 403)
        throw e;
      fromDevice = false;
    }
  }
  return seen.keys();
}

// the device's step for points @step seconds apart: its raw samples, or its
// minutes or hours
function deviceStep(step) {
  return step < 60 ? 'raw' : step < 3600 ? 'minute' : 'hour';
}

// -> {points: [{t (ms), max, min, avg} (°C)]} of @key ('scene' or a rule id)
// from @from to @to (ms), one point per @step seconds at most
export async function historySource(key, from, to, step) {
  if (fromDevice) {
    const q = new URLSearchParams({ rule: key, from: (from / 1000).toFixed(3), to: (to / 1000).toFixed(3),
      step: deviceStep(step) });
    try {
      const r = await api('GET', 'history?' + q, undefined, { quiet: true });
      const points = (r.points || []).map((p) => ({ t: typeof p.t === 'number' ? p.t : Date.parse(p.t),
        max: p.max, min: p.min, avg: p.avg }));
      // the device writes every 2 s or so: the newest seconds from what the
      // page polled
      const last = points.length ? points[points.length - 1].t : from;
      points.push(...seen.query(key, last + 1, to, 1));
      return { points: step < 60 ? points : thin(points, step) };
    } catch (e) {
      if (e.status !== 403)
        throw e;
      fromDevice = false;
    }
  }
  return { points: seen.query(key, from, to, step) };
}

// at most one point per @step seconds (max of the maxima, min of the minima,
// mean of the averages)
function thin(points, step) {
  const out = [];
  for (const p of points) {
    const b = Math.floor(p.t / (step * 1000)) * step * 1000;
    const c = out[out.length - 1];
    if (c && c.t === b) {
      c.max = Math.max(c.max, p.max);
      c.min = Math.min(c.min, p.min);
      c.avg = (c.avg * c.n + p.avg) / (c.n + 1);
      c.n++;
    } else {
      out.push({ t: b, max: p.max, min: p.min, avg: p.avg, n: 1 });
    }
  }
  return out;
}
