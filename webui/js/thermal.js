// Temperatures on the picture: the radiometric frames of the socket (kind 3:
// uint16 width, uint16 height, float32 kelvin per count, then the counts,
// zlib), the temperature under the cursor, the scene's max and min, the
// display unit of thermometry.unit.
const ZERO_C = 273.15;

// the zlib stream of a kind-3 payload: either after the 8-byte header or the
// whole payload (then the header is inside)
function looksZlib(u8, at) {
  return u8.length > at + 2 && (u8[at] & 0x0f) === 8 && ((u8[at] << 8) | u8[at + 1]) % 31 === 0;
}

async function inflate(bytes) {
  const ds = new DecompressionStream('deflate');
  const out = new Blob([bytes]).stream().pipeThrough(ds);
  return new Response(out).arrayBuffer();
}

// -> {width, height, scale, counts: Uint16Array} or null
export async function decodeRadiometry(payload) {
  const u8 = new Uint8Array(payload);
  if (u8.length < 10)
    return null;
  let head, body;
  if (looksZlib(u8, 8)) {
    head = new DataView(payload, 0, 8);
    body = await inflate(u8.subarray(8));
  } else {
    const all = await inflate(u8);
    head = new DataView(all, 0, 8);
    body = all.slice(8);
  }
  const width = head.getUint16(0, true), height = head.getUint16(2, true);
  const scale = head.getFloat32(4, true);
  if (!width || !height || !(scale > 0) || body.byteLength < width * height * 2)
    return null;
  const counts = new Uint16Array(body, 0, width * height);
  let max = 0, min = 65535, maxAt = 0, minAt = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c > max) { max = c; maxAt = i; }
    if (c < min) { min = c; minAt = i; }
  }
  const at = (i) => [((i % width) + 0.5) / width, (Math.floor(i / width) + 0.5) / height];
  return {
    width, height, scale, counts,
    max: max * scale - ZERO_C, min: min * scale - ZERO_C, maxAt: at(maxAt), minAt: at(minAt),
  };
}

// degrees Celsius at (u, v) in 0..1 of the picture, or null
export function celsiusAt(frame, u, v) {
  if (!frame || u < 0 || v < 0 || u >= 1 || v >= 1)
    return null;
  const x = Math.floor(u * frame.width), y = Math.floor(v * frame.height);
  return frame.counts[y * frame.width + x] * frame.scale - ZERO_C;
}

// a Celsius value in the display unit: "85.1 °C", "185.2 °F", "358.3 K"
export function formatTemp(c, unit = 'celsius', digits = 1) {
  if (c === null || c === undefined || Number.isNaN(c))
    return '--';
  if (unit === 'fahrenheit')
    return (c * 9 / 5 + 32).toFixed(digits) + ' °F';
  if (unit === 'kelvin')
    return (c + ZERO_C).toFixed(digits) + ' K';
  return c.toFixed(digits) + ' °C';
}

// a difference (K) in the display unit
export function formatDelta(k, unit = 'celsius', digits = 1) {
  if (k === null || k === undefined || Number.isNaN(k))
    return '--';
  if (unit === 'fahrenheit')
    return (k * 9 / 5).toFixed(digits) + ' °F';
  return k.toFixed(digits) + (unit === 'kelvin' ? ' K' : ' °C');
}

// a reading that may be outside the measurement range (@flag: 'below' or
// 'above', from below_range/above_range; @range: [lo, hi] degrees C): shown as
// the range's end after "<" or ">", as the OSD does
export function formatReading(c, unit, flag, range) {
  if (flag === 'above' && range)
    return '>' + formatTemp(range[1], unit);
  if (flag === 'below' && range)
    return '<' + formatTemp(range[0], unit);
  return formatTemp(c, unit);
}

// a rule's reading with its range flag (manual 3.1: outside the measurement range)
export function ruleReadings(r, unit, range) {
  const max = formatReading(r.max, unit, r.above_range ? 'above' : '', range);
  const min = formatReading(r.min, unit, r.below_range ? 'below' : '', range);
  const avg = formatReading(r.avg, unit, '', range);
  return { max, min, avg };
}

// the display unit's symbol, and a Celsius value (or a difference, K) in it
// and back, rounded for a form field; null stays null
export const unitSymbol = (unit) => (unit === 'fahrenheit' ? '°F' : unit === 'kelvin' ? 'K' : '°C');
const round = (v, d) => Math.round(v * 10 ** d) / 10 ** d;
export function tempToUnit(c, unit) {
  if (c === null || c === undefined || c === '')
    return c;
  return round(unit === 'fahrenheit' ? c * 9 / 5 + 32 : unit === 'kelvin' ? c + ZERO_C : c, 2);
}
export function tempFromUnit(v, unit) {
  if (v === null || v === undefined)
    return v;
  return round(unit === 'fahrenheit' ? (v - 32) * 5 / 9 : unit === 'kelvin' ? v - ZERO_C : v, 4);
}
export const deltaToUnit = (k, unit) => (k === null || k === undefined ? k : round(unit === 'fahrenheit' ? k * 9 / 5 : k, 2));
export const deltaFromUnit = (v, unit) => (v === null || v === undefined ? v : round(unit === 'fahrenheit' ? v * 5 / 9 : v, 4));

// distances: the API speaks metres; the page shows feet while the device's
// distance unit (same unit, manual 10.11) is the foot
export const FT_PER_M = 3.280839895;
export const distToUnit = (m, unit) => (m === null || m === undefined ? m : unit === 'foot' ? round(m * FT_PER_M, 2) : m);
export const distFromUnit = (v, unit) => (v === null || v === undefined ? v : unit === 'foot' ? round(v / FT_PER_M, 4) : v);
export const distSymbol = (unit) => (unit === 'foot' ? 'ft' : 'm');

// the CSS gradient classes of the palettes (css/app.css .pal-NAME)
export const PALETTES = ['white_hot', 'black_hot', 'ironbow', 'rainbow', 'rainbow_hc', 'lava',
  'arctic', 'fusion', 'medical', 'red_hot', 'green_hot', 'sepia'];
