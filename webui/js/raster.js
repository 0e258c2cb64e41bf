// The pixels a rule covers on a W x H image, as the daemon and `thermocam
// measure` count them (plugins/core/tc-rules.c tc_rule_rasterize): a point is
// the pixel under it, a line the Bresenham pixels between its ends' pixels
// (a joint drawn once), a polygon the pixels whose centres are inside (or the
// pixel under its centre when it is smaller than a pixel). Points are
// fractions 0..1 of the picture.
const toPixel = (v, size) => Math.min(size - 1, Math.max(0, Math.floor(v * size)));

// -> an array of pixel indices (y * w + x)
export function rasterize(type, pts, w, h) {
  const out = [];
  if (type === 'point') {
    out.push(toPixel(pts[0][1], h) * w + toPixel(pts[0][0], w));
  } else if (type === 'line') {
    for (let i = 0; i + 1 < pts.length; i++) {
      let x0 = toPixel(pts[i][0], w), y0 = toPixel(pts[i][1], h);
      const jx = x0, jy = y0;
      const x1 = toPixel(pts[i + 1][0], w), y1 = toPixel(pts[i + 1][1], h);
      const dx = Math.abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
      const dy = -Math.abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
      let err = dx + dy;
      for (;;) {
        if (!(i > 0 && x0 === jx && y0 === jy))
          out.push(y0 * w + x0);
        if (x0 === x1 && y0 === y1)
          break;
        const e2 = 2 * err;
        if (e2 >= dy) {
          err += dy;
          x0 += sx;
        }
        if (e2 <= dx) {
          err += dx;
          y0 += sy;
        }
      }
    }
  } else {
    const n = pts.length;
    let ymin = Infinity, ymax = -Infinity, cx = 0, cy = 0;
    for (const [u, v] of pts) {
      ymin = Math.min(ymin, v * h);
      ymax = Math.max(ymax, v * h);
      cx += u;
      cy += v;
    }
    const y0 = Math.max(0, Math.floor(ymin - 0.5)), y1 = Math.min(h, Math.ceil(ymax));
    for (let y = y0; y < y1; y++) {
      const yc = y + 0.5, xs = [];
      for (let i = 0; i < n; i++) {
        const ax = pts[i][0] * w, ay = pts[i][1] * h;
        const bx = pts[(i + 1) % n][0] * w, by = pts[(i + 1) % n][1] * h;
        if ((ay <= yc) !== (by <= yc))
          xs.push(ax + (yc - ay) * (bx - ax) / (by - ay));
      }
      xs.sort((a, b) => a - b);
      for (let j = 0; j + 1 < xs.length; j += 2) {
        const px0 = Math.max(0, Math.ceil(xs[j] - 0.5)), px1 = Math.min(w, Math.ceil(xs[j + 1] - 0.5));
        for (let x = px0; x < px1; x++)
          out.push(y * w + x);
      }
    }
    if (!out.length)
      out.push(toPixel(cy / n, h) * w + toPixel(cx / n, w));
  }
  return out;
}

// max, min, avg (°C) and where the max and min are (fractions, pixel
// centres) of @values (one a pixel, NaN skipped) over @pixels
export function stats(values, w, h, pixels) {
  let max = -Infinity, min = Infinity, sum = 0, n = 0, maxAt = 0, minAt = 0;
  for (const i of pixels) {
    const v = values[i];
    if (Number.isNaN(v))
      continue;
    if (v > max) { max = v; maxAt = i; }
    if (v < min) { min = v; minAt = i; }
    sum += v;
    n++;
  }
  const at = (i) => [((i % w) + 0.5) / w, (Math.floor(i / w) + 0.5) / h];
  return n ? { valid: true, max, min, avg: sum / n, count: n, max_at: at(maxAt), min_at: at(minAt) } : { valid: false, count: 0 };
}
