// Radiometric JPEGs read in the page: the FLIR format the daemon writes its
// R-JPEG captures in (plugins/core/tc-flir-write.c; what exiftool reads): the
// FFF record set split over JPEG APP1 "FLIR\0" segments, its CameraInfo
// record (Planck R1 R2 B F O, the atmospheric constants, the object
// parameters) and its RawData record (16-bit counts). The counts become
// degrees Celsius by the chain of plugins/core/tc-radiometry.c, in the same
// double precision, so the page reads what `thermocam measure` reads.
// Every offset and length from the file is checked before use: a damaged
// file is a FlirError, never a wrong number.
const ZERO_C = 273.15;
const MAX_SIDE = 16384;
const MAX_PIXELS = 4096 * 4096;
const REC_RAW_DATA = 0x01;
const REC_CAMERA_INFO = 0x20;
const CAMINFO_MIN_SIZE = 0x310;

export class FlirError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;     // not_radiometric, truncated, corrupt, unsupported
  }
}

const fail = (code, message) => { throw new FlirError(code, message); };

// the FFF data of a JPEG: its FLIR APP1 chunks in index order (null: none)
function gatherFff(u8) {
  const chunks = [];
  let total = -1, pos = 2;
  while (pos < u8.length) {
    if (u8[pos] !== 0xff)
      fail('corrupt', `JPEG: no marker at offset ${pos}`);
    while (pos < u8.length && u8[pos] === 0xff)
      pos++;
    if (pos >= u8.length)
      break;
    const marker = u8[pos++];
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7))
      continue;
    if (marker === 0xda || marker === 0xd9)
      break;                          // the FLIR segments come before the scan
    if (u8.length - pos < 2)
      fail('truncated', `JPEG: segment 0x${marker.toString(16)} has no length`);
    const len = (u8[pos] << 8) | u8[pos + 1];
    if (len < 2)
      fail('corrupt', `JPEG: segment 0x${marker.toString(16)} has an invalid length`);
    if (len > u8.length - pos)
      fail('truncated', `JPEG: segment 0x${marker.toString(16)} at offset ${pos - 2} is cut`);
    const seg = u8.subarray(pos + 2, pos + len);
    pos += len;
    if (marker !== 0xe1 || seg.length < 8 || seg[0] !== 0x46 || seg[1] !== 0x4c || seg[2] !== 0x49
      || seg[3] !== 0x52 || seg[4] !== 0)
      continue;                       // not "FLIR\0"
    const index = seg[6], last = seg[7];
    if (total < 0)
      total = last + 1;
    else if (total !== last + 1)
      fail('corrupt', 'JPEG: FLIR segments disagree on their count');
    if (index >= total)
      fail('corrupt', `JPEG: FLIR segment index ${index} beyond the last index ${last}`);
    (chunks[index] ||= []).push(seg.subarray(8));
  }
  if (total < 0)
    return null;
  let size = 0;
  for (let i = 0; i < total; i++) {
    if (!chunks[i])
      fail('truncated', `JPEG: FLIR segment ${i + 1} of ${total} is missing`);
    for (const c of chunks[i])
      size += c.length;
  }
  const fff = new Uint8Array(size);
  let at = 0;
  for (let i = 0; i < total; i++)
    for (const c of chunks[i]) {
      fff.set(c, at);
      at += c.length;
    }
  return fff;
}

// does @bytes (an ArrayBuffer or a view, maybe only the file's beginning)
// hold FLIR radiometric data? (cheap: the segments before the first FLIR one)
export function isRadiometric(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (u8.length >= 4 && u8[0] === 0x46 && u8[1] === 0x46 && u8[2] === 0x46 && u8[3] === 0)
    return true;
  if (!(u8.length >= 3 && u8[0] === 0xff && u8[1] === 0xd8 && u8[2] === 0xff))
    return false;
  let pos = 2;
  while (pos + 4 <= u8.length && u8[pos] === 0xff) {
    const marker = u8[pos + 1];
    if (marker === 0xda || marker === 0xd9)
      return false;
    const len = (u8[pos + 2] << 8) | u8[pos + 3];
    if (marker === 0xe1 && pos + 9 <= u8.length && u8[pos + 4] === 0x46 && u8[pos + 5] === 0x4c
      && u8[pos + 6] === 0x49 && u8[pos + 7] === 0x52 && u8[pos + 8] === 0)
      return true;
    if (len < 2)
      return false;
    pos += 2 + len;
  }
  return false;
}

function fixedString(u8, off, len) {
  let s = '';
  for (let i = 0; i < len && u8[off + i]; i++)
    s += u8[off + i] >= 0x20 && u8[off + i] < 0x7f ? String.fromCharCode(u8[off + i]) : '?';
  return s.trimEnd();
}

function readCameraInfo(dv, off, len, be) {
  if (len < CAMINFO_MIN_SIZE)
    fail('corrupt', `CameraInfo record too short (${len} bytes)`);
  const le = !(dv.getUint16(off, !be) >= 0x100 ? !be : be);
  const f = (at) => dv.getFloat32(off + at, le);
  const rh = f(0x3c);
  const params = {
    emissivity: f(0x20), distance: f(0x24),
    reflected: f(0x28) - ZERO_C, atmospheric: f(0x2c) - ZERO_C,
    windowTemp: f(0x30) - ZERO_C, windowTransmission: f(0x34),
    humidity: rh > 2 ? rh / 100 : rh,
  };
  const cal = {
    r1: f(0x58), b: f(0x5c), f: f(0x60), o: dv.getInt32(off + 0x308, le), r2: f(0x30c),
    ata1: f(0x70), ata2: f(0x74), atb1: f(0x78), atb2: f(0x7c), atx: f(0x80),
    rangeMax: f(0x90) - ZERO_C, rangeMin: f(0x94) - ZERO_C,
  };
  const u8 = new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength);
  const model = fixedString(u8, off + 0xd4, 32), serial = fixedString(u8, off + 0x104, 16);
  const bad = Object.entries(cal).find(([, v]) => !Number.isFinite(v));
  if (bad || !(cal.r1 > 0 && cal.r2 > 0 && cal.b > 0 && cal.f >= 0))
    fail('corrupt', `CameraInfo: invalid Planck constants`);
  if (!(params.emissivity > 0 && params.emissivity <= 1) || !(params.distance >= 0 && params.distance <= 100000)
    || !(params.windowTransmission > 0 && params.windowTransmission <= 1) || !(params.humidity >= 0 && params.humidity <= 1)
    || ![params.reflected, params.atmospheric, params.windowTemp].every((t) => t > -ZERO_C && t < 5000))
    fail('corrupt', 'CameraInfo: invalid object parameters');
  return { cal, params, model, serial };
}

function readRawData(dv, off, len, be) {
  if (len < 0x20)
    fail('corrupt', `RawData record too short (${len} bytes)`);
  const le = !(dv.getUint16(off, !be) >= 0x100 ? !be : be);
  const width = dv.getUint16(off + 2, le), height = dv.getUint16(off + 4, le);
  const p = off + 0x20, plen = len - 0x20;
  const u8 = new Uint8Array(dv.buffer, dv.byteOffset + p, Math.min(plen, 8));
  if (plen >= 8 && u8[0] === 0x89 && u8[1] === 0x50 && u8[2] === 0x4e && u8[3] === 0x47)
    fail('unsupported', 'the raw data is stored as PNG (some FLIR cameras): `thermocam measure` reads it');
  if (plen >= 4 && ((u8[0] === 0x49 && u8[1] === 0x49) || (u8[0] === 0x4d && u8[1] === 0x4d)))
    fail('unsupported', 'the raw data is stored as TIFF: `thermocam measure` reads it');
  if (!width || !height || width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS)
    fail('corrupt', `RawData has an invalid size ${width}x${height}`);
  if (plen < width * height * 2)
    fail('truncated', `RawData holds ${plen} bytes, ${width}x${height} 16-bit pixels need ${width * height * 2}`);
  const raw = new Uint16Array(width * height);
  for (let i = 0; i < raw.length; i++)
    raw[i] = dv.getUint16(p + 2 * i, le);
  return { width, height, raw };
}

function readFff(fff) {
  const dv = new DataView(fff.buffer, fff.byteOffset, fff.byteLength);
  const len = fff.length;
  if (len < 0x40)
    fail('truncated', `FFF header cut at ${len} bytes`);
  let be = false, version = dv.getUint32(0x14, true);
  if (version < 100 || version >= 200) {
    be = true;
    version = dv.getUint32(0x14, false);
    if (version < 100 || version >= 200)
      fail('unsupported', 'unsupported FFF version');
  }
  const dir = dv.getUint32(0x18, !be), num = dv.getUint32(0x1c, !be);
  if (dir > len || num > (len - dir) / 0x20)
    fail('truncated', 'the FFF record directory runs past the data');
  let raw = null, cam = null;
  for (let i = 0; i < num; i++) {
    const e = dir + i * 0x20;
    const type = dv.getUint16(e, !be);
    if ((type !== REC_RAW_DATA && type !== REC_CAMERA_INFO) || (type === REC_RAW_DATA && raw) || (type === REC_CAMERA_INFO && cam))
      continue;
    const off = dv.getUint32(e + 0x0c, !be), rlen = dv.getUint32(e + 0x10, !be);
    if (off > len || rlen > len - off)
      fail('truncated', `FFF record ${i} runs past the data`);
    if (type === REC_RAW_DATA)
      raw = [off, rlen];
    else
      cam = [off, rlen];
  }
  if (!cam)
    fail('unsupported', 'FFF data without a CameraInfo record');
  if (!raw)
    fail('unsupported', 'FFF data without a RawData record');
  return { ...readCameraInfo(dv, cam[0], cam[1], be), ...readRawData(dv, raw[0], raw[1], be) };
}

// ---- the radiometric chain (tc-radiometry.c)
const planckCounts = (c, k) => c.r1 / (c.r2 * (Math.exp(c.b / k) - c.f)) - c.o;

function planckKelvin(c, counts) {
  const x = counts + c.o;
  if (!(x > 0))
    return NaN;
  const arg = c.r1 / (c.r2 * x) + c.f;
  return arg > 1 ? c.b / Math.log(arg) : NaN;
}

function tau(c, distance, h2o) {
  const d = Math.sqrt(distance / 2), s = Math.sqrt(h2o);
  return c.atx * Math.exp(-d * (c.ata1 + c.atb1 * s)) + (1 - c.atx) * Math.exp(-d * (c.ata2 + c.atb2 * s));
}

// raw counts -> degrees Celsius for @cal and the object parameters @p
export function chain(cal, p) {
  const e = p.emissivity, irt = p.windowTransmission, ta = p.atmospheric;
  const h2o = p.humidity * Math.exp(1.5587 + 0.06939 * ta - 0.00027816 * ta * ta + 0.00000068455 * ta * ta * ta);
  const tau1 = tau(cal, p.distance, h2o), tau2 = tau1;
  const rawRefl = planckCounts(cal, p.reflected + ZERO_C);
  const rawAtm = planckCounts(cal, ta + ZERO_C);
  const rawWin = planckCounts(cal, p.windowTemp + ZERO_C);
  const gain = 1 / (e * tau1 * irt * tau2);
  const offset = (1 - e) / e * rawRefl + (1 - tau1) / e / tau1 * rawAtm + (1 - irt) / e / tau1 / irt * rawWin
    + (1 - tau2) / e / tau1 / irt / tau2 * rawAtm;
  return (raw) => planckKelvin(cal, raw * gain - offset) - ZERO_C;
}

// an R-JPEG (or a bare FFF file) -> {width, height, raw, celsius: Float64Array
// (NaN outside the chain's domain), cal, params, model, serial}
export function readRadiometric(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let fff;
  if (u8.length >= 4 && u8[0] === 0x46 && u8[1] === 0x46 && u8[2] === 0x46 && u8[3] === 0)
    fff = u8;
  else if (u8.length >= 3 && u8[0] === 0xff && u8[1] === 0xd8 && u8[2] === 0xff)
    fff = gatherFff(u8) || fail('not_radiometric', 'a JPEG without FLIR (FFF) segments');
  else
    fail('not_radiometric', 'neither a JPEG nor an FFF file');
  const img = readFff(fff);
  return withParams(img, img.params);
}

// the same image measured with other object parameters (emissivity, ...)
export function withParams(img, params) {
  const toC = chain(img.cal, params);
  const table = new Map();
  const celsius = new Float64Array(img.raw.length);
  for (let i = 0; i < img.raw.length; i++) {
    const r = img.raw[i];
    let c = table.get(r);
    if (c === undefined) {
      c = toC(r);
      table.set(r, c);
    }
    celsius[i] = c;
  }
  return { ...img, params, celsius };
}
