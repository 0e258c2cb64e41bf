/* thermocam: measurement rules and alarm state machines
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tc-rules.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void
tc_span_list_clear (TcSpanList *list)
{
  free (list->spans);
  memset (list, 0, sizeof (*list));
}

static bool
span_add (TcSpanList *l, int y, int x0, int x1)
{
  if (x1 <= x0)
    return true;
  /* extend the previous span when this one continues it */
  if (l->n > 0) {
    TcSpan *p = &l->spans[l->n - 1];

    if (p->y == y && p->x + p->len == x0) {
      p->len += x1 - x0;
      l->pixels += x1 - x0;
      return true;
    }
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    TcSpan *s = realloc (l->spans, cap * sizeof (TcSpan));

    if (!s)
      return false;
    l->spans = s;
    l->cap = cap;
  }
  l->spans[l->n].y = (uint16_t) y;
  l->spans[l->n].x = (uint16_t) x0;
  l->spans[l->n].len = (uint16_t) (x1 - x0);
  l->n++;
  l->pixels += x1 - x0;
  return true;
}

static int
to_pixel (double v, int size)
{
  int p = (int) floor (v * size);

  return p < 0 ? 0 : (p >= size ? size - 1 : p);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static bool
rasterize_polygon (const double (*pts)[2], unsigned n, int w, int h, TcSpanList *out)
{
  double xs[TC_RULE_MAX_POINTS];
  double ymin = 1e300, ymax = -1e300, cx = 0, cy = 0;
  int y, y0, y1;
  unsigned i;

  for (i = 0; i < n; i++) {
    ymin = fmin (ymin, pts[i][1] * h);
    ymax = fmax (ymax, pts[i][1] * h);
    cx += pts[i][0];
    cy += pts[i][1];
  }
  y0 = (int) floor (ymin - 0.5);
  y1 = (int) ceil (ymax);
  y0 = y0 < 0 ? 0 : y0;
  y1 = y1 > h ? h : y1;
  for (y = y0; y < y1; y++) {
    double yc = y + 0.5;
    unsigned k = 0, j;

    for (i = 0; i < n; i++) {
      double ax = pts[i][0] * w, ay = pts[i][1] * h;
      double bx = pts[(i + 1) % n][0] * w, by = pts[(i + 1) % n][1] * h;

      if ((ay <= yc) != (by <= yc))
        xs[k++] = ax + (yc - ay) * (bx - ax) / (by - ay);
    }
    qsort (xs, k, sizeof (double), cmp_double);
    for (j = 0; j + 1 < k; j += 2) {
      /* pixel centres px + 0.5 within [xs[j], xs[j + 1]) */
      int px0 = (int) ceil (xs[j] - 0.5), px1 = (int) ceil (xs[j + 1] - 0.5);

      px0 = px0 < 0 ? 0 : px0;
      px1 = px1 > w ? w : px1;
      if (!span_add (out, y, px0, px1))
        return false;
    }
  }
  /* smaller than a pixel: the pixel under its centre */
  if (out->pixels == 0)
    return span_add (out, to_pixel (cy / n, h), to_pixel (cx / n, w),
        to_pixel (cx / n, w) + 1);
  return true;
}

static bool
rasterize_line (const double (*pts)[2], unsigned n, int w, int h, TcSpanList *out)
{
  unsigned i;

  for (i = 0; i + 1 < n; i++) {
    int x0 = to_pixel (pts[i][0], w), y0 = to_pixel (pts[i][1], h);
    int x1 = to_pixel (pts[i + 1][0], w), y1 = to_pixel (pts[i + 1][1], h);
    int dx = abs (x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs (y1 - y0), sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;

    for (;;) {
      /* a joint of a polyline is drawn once */
      if (!(i > 0 && x0 == to_pixel (pts[i][0], w) && y0 == to_pixel (pts[i][1], h)))
        if (!span_add (out, y0, x0, x0 + 1))
          return false;
      if (x0 == x1 && y0 == y1)
        break;
      {
        int e2 = 2 * err;
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
  }
  return true;
}

bool
tc_rule_rasterize (TcRuleType type, const double (*points)[2], unsigned n_points,
    int width, int height, TcSpanList *out)
{
  out->n = 0;
  out->pixels = 0;
  if (width < 1 || height < 1 || width > 65535 || height > 65535)
    return false;
  switch (type) {
    case TC_RULE_POINT:
      if (n_points != 1)
        return false;
      return span_add (out, to_pixel (points[0][1], height),
          to_pixel (points[0][0], width), to_pixel (points[0][0], width) + 1);
    case TC_RULE_LINE:
      if (n_points < 2 || n_points > TC_RULE_MAX_POINTS)
        return false;
      return rasterize_line (points, n_points, width, height, out);
    case TC_RULE_POLYGON:
      if (n_points < 3 || n_points > TC_RULE_MAX_POINTS)
        return false;
      return rasterize_polygon (points, n_points, width, height, out);
  }
  return false;
}

/* max, min and sum of a run; the compiler vectorizes the three reductions */
static inline void
run_stats (const uint16_t *restrict p, int n, uint16_t *mx, uint16_t *mn, uint64_t *sum)
{
  uint16_t a = 0, b = 0xffff;
  uint32_t s = 0;
  int i;

  for (i = 0; i < n; i++) {
    uint16_t v = p[i];
    a = v > a ? v : a;
    b = v < b ? v : b;
    s += v;
  }
  *mx = a;
  *mn = b;
  *sum += s;
}

static int
find_first (const uint16_t *p, int n, uint16_t v)
{
  int i;

  for (i = 0; i < n; i++)
    if (p[i] == v)
      return i;
  return 0;
}

void
tc_stats_spans (const TcSpanList *spans, const uint8_t *frame, size_t stride, TcStats *st)
{
  size_t i, imax = 0, imin = 0;
  uint16_t gmax = 0, gmin = 0xffff;
  uint64_t sum = 0;

  memset (st, 0, sizeof (*st));
  if (spans->n == 0)
    return;
  for (i = 0; i < spans->n; i++) {
    const TcSpan *s = &spans->spans[i];
    const uint16_t *row = (const uint16_t *) (frame + (size_t) s->y * stride) + s->x;
    uint16_t mx, mn;

    run_stats (row, s->len, &mx, &mn, &sum);
    if (mx > gmax || i == 0) {
      gmax = mx;
      imax = i;
    }
    if (mn < gmin || i == 0) {
      gmin = mn;
      imin = i;
    }
  }
  st->max = gmax;
  st->min = gmin;
  st->sum = sum;
  st->count = spans->pixels;
  {
    const TcSpan *s = &spans->spans[imax];
    st->max_x = s->x + find_first ((const uint16_t *) (frame + (size_t) s->y * stride) + s->x,
        s->len, gmax);
    st->max_y = s->y;
    s = &spans->spans[imin];
    st->min_x = s->x + find_first ((const uint16_t *) (frame + (size_t) s->y * stride) + s->x,
        s->len, gmin);
    st->min_y = s->y;
  }
}

void
tc_stats_frame (const uint8_t *frame, size_t stride, int width, int height, TcStats *st)
{
  int y, ymax = 0, ymin = 0;
  uint16_t gmax = 0, gmin = 0xffff;
  uint64_t sum = 0;

  memset (st, 0, sizeof (*st));
  if (width < 1 || height < 1)
    return;
  for (y = 0; y < height; y++) {
    uint16_t mx, mn;

    run_stats ((const uint16_t *) (frame + (size_t) y * stride), width, &mx, &mn, &sum);
    if (mx > gmax || y == 0) {
      gmax = mx;
      ymax = y;
    }
    if (mn < gmin || y == 0) {
      gmin = mn;
      ymin = y;
    }
  }
  st->max = gmax;
  st->min = gmin;
  st->sum = sum;
  st->count = (uint64_t) width * height;
  st->max_y = ymax;
  st->max_x = find_first ((const uint16_t *) (frame + (size_t) ymax * stride), width, gmax);
  st->min_y = ymin;
  st->min_x = find_first ((const uint16_t *) (frame + (size_t) ymin * stride), width, gmin);
}

double
tc_mean_spans_lut (const TcSpanList *spans, const uint8_t *frame, size_t stride,
    const uint16_t *lut)
{
  uint64_t sum = 0;
  size_t i;
  int k;

  if (spans->pixels == 0)
    return NAN;
  for (i = 0; i < spans->n; i++) {
    const TcSpan *s = &spans->spans[i];
    const uint16_t *row = (const uint16_t *) (frame + (size_t) s->y * stride) + s->x;

    for (k = 0; k < s->len; k++)
      sum += lut[row[k]];
  }
  return (double) sum / spans->pixels;
}

/* --- alarms --- */

void
tc_alarm_state_reset (TcAlarmState *st)
{
  int l;

  for (l = 0; l < 3; l++) {
    st->active[l] = false;
    st->since[l] = NAN;
    st->notified[l] = NAN;
  }
}

TcAlarmLevel
tc_alarm_level (const TcAlarmState *st)
{
  return st->active[TC_LEVEL_ALARM] ? TC_LEVEL_ALARM :
      (st->active[TC_LEVEL_PRE_ALARM] ? TC_LEVEL_PRE_ALARM : TC_LEVEL_NONE);
}

const char *
tc_alarm_config_check (const TcAlarmConfig *cfg)
{
  if (!isfinite (cfg->alarm))
    return "alarm";
  if (cfg->has_pre_alarm) {
    if (!isfinite (cfg->pre_alarm))
      return "pre_alarm";
    if (cfg->condition == TC_ABOVE ? cfg->pre_alarm > cfg->alarm : cfg->pre_alarm < cfg->alarm)
      return "pre_alarm";
  }
  if (!(cfg->tolerance >= 0 && cfg->tolerance <= 1000))
    return "tolerance";
  if (!(cfg->filter_time >= 0 && cfg->filter_time <= 86400))
    return "filter_time";
  if (!(cfg->interval >= 0 && cfg->interval <= 86400))
    return "interval";
  return NULL;
}

static void
level_update (const TcAlarmConfig *cfg, TcAlarmState *st, TcAlarmLevel level,
    double threshold, double value, double t, TcAlarmEvent *ev, unsigned *n)
{
  bool above = cfg->condition == TC_ABOVE;
  bool holds = above ? value >= threshold : value <= threshold;

  if (!st->active[level]) {
    if (!holds) {
      st->since[level] = NAN;
      return;
    }
    if (isnan (st->since[level]))
      st->since[level] = t;
    if (t - st->since[level] + 1e-9 >= cfg->filter_time) {
      st->active[level] = true;
      st->notified[level] = t;
      ev[*n].level = level;
      ev[*n].kind = TC_EVENT_START;
      ev[*n].value = value;
      ev[*n].threshold = threshold;
      (*n)++;
    }
    return;
  }
  /* active: ends only past the tolerance */
  if (above ? value < threshold - cfg->tolerance : value > threshold + cfg->tolerance) {
    st->active[level] = false;
    st->since[level] = NAN;
    ev[*n].level = level;
    ev[*n].kind = TC_EVENT_STOP;
    ev[*n].value = value;
    ev[*n].threshold = threshold;
    (*n)++;
    return;
  }
  if (cfg->interval > 0 && t - st->notified[level] + 1e-9 >= cfg->interval) {
    st->notified[level] = t;
    ev[*n].level = level;
    ev[*n].kind = TC_EVENT_REPEAT;
    ev[*n].value = value;
    ev[*n].threshold = threshold;
    (*n)++;
  }
}

unsigned
tc_alarm_update (const TcAlarmConfig *cfg, TcAlarmState *st, double value, double t,
    TcAlarmEvent *events)
{
  TcAlarmEvent tmp[2];
  unsigned n = 0, n_pre = 0, n_alarm = 0, i;

  if (!cfg->enabled || isnan (value)) {
    /* disabled or no reading: whatever was on stops */
    int l;

    for (l = TC_LEVEL_ALARM; l >= TC_LEVEL_PRE_ALARM; l--) {
      if (st->active[l]) {
        events[n].level = (TcAlarmLevel) l;
        events[n].kind = TC_EVENT_STOP;
        events[n].value = value;
        events[n].threshold = l == TC_LEVEL_ALARM ? cfg->alarm : cfg->pre_alarm;
        n++;
      }
    }
    tc_alarm_state_reset (st);
    return n;
  }
  if (cfg->has_pre_alarm)
    level_update (cfg, st, TC_LEVEL_PRE_ALARM, cfg->pre_alarm, value, t, tmp, &n_pre);
  else if (st->active[TC_LEVEL_PRE_ALARM])
    st->active[TC_LEVEL_PRE_ALARM] = false;
  level_update (cfg, st, TC_LEVEL_ALARM, cfg->alarm, value, t, tmp + n_pre, &n_alarm);

  /* a standing alarm is repeated at its highest level only */
  if (st->active[TC_LEVEL_ALARM] && n_pre == 1 && tmp[0].kind == TC_EVENT_REPEAT) {
    tmp[0] = tmp[1];
    n_pre = 0;
  }
  /* rising: pre-alarm first; falling: alarm first */
  if (n_pre && n_alarm && tmp[0].kind == TC_EVENT_STOP) {
    events[n++] = tmp[1];
    events[n++] = tmp[0];
  } else {
    for (i = 0; i < n_pre + n_alarm; i++)
      events[n++] = tmp[i];
  }
  return n;
}
