// What the player reads of the fragmented MP4 it is sent: the track's
// timescale (init segment: moov/trak/mdia/mdhd) and of a media segment
// (moof/traf) its decode time (tfdt), the first sample's composition offset
// and whether it is a key frame (trun/tfhd sample flags).
const fourcc = (s) => ((s.charCodeAt(0) << 24) | (s.charCodeAt(1) << 16) | (s.charCodeAt(2) << 8) | s.charCodeAt(3)) >>> 0;

// [start, end] of the payload of the first box of that type within [start, end)
function find(dv, start, end, type) {
  const want = fourcc(type);
  for (let p = start; p + 8 <= end;) {
    const size = dv.getUint32(p);
    if (size < 8 || p + size > end)
      return null;
    if (dv.getUint32(p + 4) === want)
      return [p + 8, p + size];
    p += size;
  }
  return null;
}

function path(dv, types) {
  let box = [0, dv.byteLength];
  for (const t of types) {
    box = find(dv, box[0], box[1], t);
    if (!box)
      return null;
  }
  return box;
}

// the timescale of the (only) track, or 0
export function initTimescale(buf) {
  const dv = new DataView(buf);
  const mdhd = path(dv, ['moov', 'trak', 'mdia', 'mdhd']);
  if (!mdhd)
    return 0;
  const version = dv.getUint8(mdhd[0]);
  return dv.getUint32(mdhd[0] + (version === 1 ? 20 : 12));
}

// {time (timescale units: decode time + the first sample's composition
// offset), key (boolean|null: null when the flags are not there)}
export function segmentInfo(buf) {
  const dv = new DataView(buf);
  const traf = path(dv, ['moof', 'traf']);
  if (!traf)
    return { time: null, key: null };
  let time = null, key = null, defaultFlags;
  const tfdt = find(dv, traf[0], traf[1], 'tfdt');
  if (tfdt)
    time = dv.getUint8(tfdt[0]) === 1 ? Number(dv.getBigUint64(tfdt[0] + 4)) : dv.getUint32(tfdt[0] + 4);
  const tfhd = find(dv, traf[0], traf[1], 'tfhd');
  if (tfhd) {
    const f = dv.getUint32(tfhd[0]) & 0xffffff;
    let p = tfhd[0] + 8;                  // version+flags, track_ID
    if (f & 0x1) p += 8;                  // base data offset
    if (f & 0x2) p += 4;                  // sample description index
    if (f & 0x8) p += 4;                  // default duration
    if (f & 0x10) p += 4;                 // default size
    if (f & 0x20) defaultFlags = dv.getUint32(p);
  }
  const trun = find(dv, traf[0], traf[1], 'trun');
  if (trun) {
    const f = dv.getUint32(trun[0]) & 0xffffff;
    const version = dv.getUint8(trun[0]);
    let p = trun[0] + 8;                  // version+flags, sample_count
    if (f & 0x1) p += 4;                  // data offset
    let flags = defaultFlags;
    if (f & 0x4) {
      flags = dv.getUint32(p);
      p += 4;
    }
    if (f & 0x100) p += 4;                // duration
    if (f & 0x200) p += 4;                // size
    if (f & 0x400 && !(f & 0x4))
      flags = dv.getUint32(p);
    if (f & 0x400) p += 4;
    if (f & 0x800 && time !== null)
      time += version === 1 ? dv.getInt32(p) : dv.getUint32(p);
    if (flags !== undefined)
      key = ((flags >>> 16) & 0x1) === 0; // not sample_is_non_sync_sample
  }
  return { time, key };
}
