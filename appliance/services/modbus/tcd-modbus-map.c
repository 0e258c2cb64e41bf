/* thermocamd: the Modbus register map (schemas/modbus-registers.json)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Encoding readings and configuration into the four tables, and decoding a
 * request into an exception code or a write; see tcd-modbus-map.h.  Only
 * libmodbus's header is used here (function and exception codes, quantity
 * limits), not the library.
 */
#include "tcd-modbus-map.h"

#include <math.h>
#include <modbus.h>
#include <string.h>

static guint
u16_at (const guint8 *p)
{
  return ((guint) p[0] << 8) | p[1];
}

/* ---- register encoding ---- */

/* 0.1 C, two's complement; INVALID_I16 when there is no reading */
static guint16
enc_i16 (gdouble celsius, gboolean valid)
{
  gdouble v;

  if (!valid || !isfinite (celsius))
    return INVALID_I16;
  v = CLAMP (round (celsius * 10.0), -32767.0, 32767.0);
  return (guint16) (gint16) v;
}

static void
put_u32 (guint16 *tab, guint32 v, gboolean big)
{
  tab[big ? 0 : 1] = v >> 16;
  tab[big ? 1 : 0] = v & 0xFFFF;
}

/* IEEE 754 single in two registers; NaN when there is no reading */
static void
put_f32 (guint16 *tab, gdouble v, gboolean valid, gboolean big)
{
  gfloat f = valid && isfinite (v) ? (gfloat) v : NAN;
  guint32 u;

  memcpy (&u, &f, sizeof u);
  put_u32 (tab, u, big);
}

static gdouble
get_f32 (const guint8 *p, gboolean big)
{
  guint hi = u16_at (big ? p : p + 2), lo = u16_at (big ? p + 2 : p);
  guint32 u = ((guint32) hi << 16) | lo;
  gfloat f;

  memcpy (&f, &u, sizeof f);
  return f;
}

/* a float a PLC wrote, as the decimal it meant (0.85f -> 0.85, not
 * 0.85000002384...) */
static gdouble
float_as_decimal (gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  return g_ascii_strtod (g_ascii_formatd (buf, sizeof buf, "%.7g", v), NULL);
}

/* ---- filling the tables ---- */

void
tcd_modbus_map_encode_config (const TcdModbusMapConfig *c, const TcdModbusTables *t)
{
  guint16 *hr = t->holding;

  hr[HR_EMISSIVITY] = (guint16) CLAMP (round (c->emissivity * 100.0), 0.0, 65535.0);
  hr[HR_DISTANCE] = (guint16) CLAMP (round (c->distance * 10.0), 0.0, 65535.0);
  hr[HR_REFLECTED] = enc_i16 (c->reflected, TRUE);
  put_f32 (hr + HR_F_EMISSIVITY, c->emissivity, TRUE, c->word_big);
  put_f32 (hr + HR_F_DISTANCE, c->distance, TRUE, c->word_big);
  put_f32 (hr + HR_F_REFLECTED, c->reflected, TRUE, c->word_big);
  t->coils[CO_FFC] = 0;
  for (guint i = 0; i < N_RULES; i++) {
    gboolean on = i < c->n_rules && c->rule_enabled[i];
    hr[HR_RULE_ENABLE + i] = on;
    t->coils[CO_RULE_ENABLE + i] = on;
  }
}

void
tcd_modbus_map_encode_reading (const TcdModbusMapConfig *c, const TcdModbusReading *r,
    const TcdModbusTables *t)
{
  guint16 *ir = t->input;
  guint8 *di = t->discrete;
  /* states are held while the shutter is closed; its readings are not valid */
  gboolean have = r->measured && c->thermometry;
  gboolean valid = have && r->valid;
  gboolean dev_valid = isfinite (r->device_t);
  gboolean any_alarm = FALSE, any_pre = FALSE;
  guint16 status = 0;
  gint64 age = r->age_us;

  put_u32 (ir + IR_FRAME_COUNTER, r->frame_counter, c->word_big);
  ir[IR_FRAME_AGE] = age < 0 ? 0xFFFF : (guint16) MIN (age / 1000, 0xFFFF);
  ir[IR_RULE_COUNT] = c->n_rules;
  ir[IR_DEVICE_T] = enc_i16 (dev_valid ? r->device_t : 0, dev_valid);
  put_f32 (ir + IR_F_DEVICE_T, dev_valid ? r->device_t : 0, dev_valid, c->word_big);
  ir[IR_SCENE_MAX] = enc_i16 (valid ? r->max : 0, valid);
  ir[IR_SCENE_MIN] = enc_i16 (valid ? r->min : 0, valid);
  ir[IR_SCENE_AVG] = enc_i16 (valid ? r->avg : 0, valid);
  ir[IR_SCENE_STATE] = have ? r->scene_state : 0;
  put_f32 (ir + IR_F_SCENE_MAX, valid ? r->max : 0, valid, c->word_big);
  put_f32 (ir + IR_F_SCENE_MIN, valid ? r->min : 0, valid, c->word_big);
  put_f32 (ir + IR_F_SCENE_AVG, valid ? r->avg : 0, valid, c->word_big);
  if (have) {
    any_alarm = r->scene_state == TCD_MODBUS_STATE_ALARM;
    any_pre = r->scene_state == TCD_MODBUS_STATE_PRE_ALARM;
  }

  for (guint i = 0; i < N_RULES; i++) {
    const TcdModbusRuleReading *rr = NULL;
    gboolean exists = i < c->n_rules, rv;
    guint16 flags = 0;
    guint state = TCD_MODBUS_STATE_NORMAL;

    /* the reading lists the enabled rules only: find this slot's by id */
    if (exists && have)
      for (guint k = 0; k < r->n_rules && !rr; k++)
        if (r->rules[k].id == c->rule_id[i])
          rr = &r->rules[k];
    rv = rr && rr->valid;
    if (rr)
      state = rr->state;
    if (exists)
      flags |= RF_EXISTS;
    if (exists && c->rule_enabled[i])
      flags |= RF_ENABLED;
    if (rv)
      flags |= RF_VALID;
    if (exists && c->rule_alarm[i])
      flags |= RF_ALARM;
    if (rv && rr->below_range)
      flags |= RF_BELOW_RANGE;
    if (rv && rr->above_range)
      flags |= RF_ABOVE_RANGE;
    ir[IR_RULE_ID + i] = exists ? c->rule_id[i] : 0;
    ir[IR_RULE_FLAGS + i] = flags;
    ir[IR_RULE + i * IR_RULE_STRIDE + 0] = enc_i16 (rv ? rr->max : 0, rv);
    ir[IR_RULE + i * IR_RULE_STRIDE + 1] = enc_i16 (rv ? rr->min : 0, rv);
    ir[IR_RULE + i * IR_RULE_STRIDE + 2] = enc_i16 (rv ? rr->avg : 0, rv);
    ir[IR_RULE + i * IR_RULE_STRIDE + 3] = state;
    put_f32 (ir + IR_F_RULE + i * IR_F_RULE_STRIDE + 0, rv ? rr->max : 0, rv, c->word_big);
    put_f32 (ir + IR_F_RULE + i * IR_F_RULE_STRIDE + 2, rv ? rr->min : 0, rv, c->word_big);
    put_f32 (ir + IR_F_RULE + i * IR_F_RULE_STRIDE + 4, rv ? rr->avg : 0, rv, c->word_big);
    di[DI_RULE_ALARM + i] = state == TCD_MODBUS_STATE_ALARM;
    di[DI_RULE_PRE_ALARM + i] = state == TCD_MODBUS_STATE_PRE_ALARM;
    di[DI_RULE_VALID + i] = rv;
    any_alarm |= state == TCD_MODBUS_STATE_ALARM;
    any_pre |= state == TCD_MODBUS_STATE_PRE_ALARM;
  }
  for (guint i = 0; i < N_ALARM_INPUTS; i++)
    di[DI_ALARM_INPUT + i] = (r->alarm_inputs >> i) & 1;
  for (guint i = 0; i < N_ALARM_OUTPUTS; i++)
    t->coils[CO_ALARM_OUTPUT + i] = (r->alarm_outputs >> i) & 1;

  if (valid)
    status |= ST_VALID;
  if (age >= 0 && age < FRESH_US)
    status |= ST_FRESH;
  if (any_alarm)
    status |= ST_ALARM;
  if (any_pre)
    status |= ST_PRE_ALARM;
  if (r->shutter_closed)
    status |= ST_SHUTTER;
  if (dev_valid)
    status |= ST_DEVICE_T;
  if (c->write_enabled)
    status |= ST_WRITABLE;
  if (c->thermometry)
    status |= ST_THERMOMETRY;
  if (valid && r->below_range)
    status |= ST_BELOW_RANGE;
  if (valid && r->above_range)
    status |= ST_ABOVE_RANGE;
  ir[IR_STATUS] = status;
  for (guint b = 0; b < 8; b++)
    di[DI_STATUS + b] = (status >> b) & 1;
}

/* ---- decoding requests ---- */

/* 0, or the exception for a request's shape: the function, the quantities,
 * the byte counts (Modbus application protocol, 6.x: exceptions 01 and 03) */
static gint
check_shape (const guint8 *pdu, gsize len)
{
  guint nb;

  switch (pdu[0]) {
    case MODBUS_FC_READ_COILS:
    case MODBUS_FC_READ_DISCRETE_INPUTS:
    case MODBUS_FC_READ_HOLDING_REGISTERS:
    case MODBUS_FC_READ_INPUT_REGISTERS:
      if (len != 5)
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
      nb = u16_at (pdu + 3);
      if (nb < 1 || nb > (pdu[0] <= MODBUS_FC_READ_DISCRETE_INPUTS
              ? MODBUS_MAX_READ_BITS : MODBUS_MAX_READ_REGISTERS))
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
      return 0;
    case MODBUS_FC_WRITE_SINGLE_COIL:
      if (len != 5 || (u16_at (pdu + 3) != 0xFF00 && u16_at (pdu + 3) != 0))
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
      return 0;
    case MODBUS_FC_WRITE_SINGLE_REGISTER:
      return len == 5 ? 0 : MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
    case MODBUS_FC_WRITE_MULTIPLE_COILS:
      if (len < 6)
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
      nb = u16_at (pdu + 3);
      if (nb < 1 || nb > MODBUS_MAX_WRITE_BITS || pdu[5] != (nb + 7) / 8
          || len != 6u + pdu[5])
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
      return 0;
    case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
      if (len < 6)
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
      nb = u16_at (pdu + 3);
      if (nb < 1 || nb > MODBUS_MAX_WRITE_REGISTERS || pdu[5] != nb * 2
          || len != 6u + pdu[5])
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
      return 0;
    default:
      /* 07, 08, 11, 16, 17, 2B...: not served */
      return MODBUS_EXCEPTION_ILLEGAL_FUNCTION;
  }
}

static gboolean
is_write (guint fc)
{
  return fc == MODBUS_FC_WRITE_SINGLE_COIL || fc == MODBUS_FC_WRITE_SINGLE_REGISTER
      || fc == MODBUS_FC_WRITE_MULTIPLE_COILS || fc == MODBUS_FC_WRITE_MULTIPLE_REGISTERS;
}

static guint
table_size (guint fc)
{
  switch (fc) {
    case MODBUS_FC_READ_COILS:
    case MODBUS_FC_WRITE_SINGLE_COIL:
    case MODBUS_FC_WRITE_MULTIPLE_COILS:
      return CO_SIZE;
    case MODBUS_FC_READ_DISCRETE_INPUTS:
      return DI_SIZE;
    case MODBUS_FC_READ_INPUT_REGISTERS:
      return IR_SIZE;
    default:
      return HR_SIZE;
  }
}

static gboolean
coil_writable (guint a)
{
  return a == CO_FFC || (a >= CO_RULE_ENABLE && a < CO_RULE_ENABLE + N_RULES)
      || (a >= CO_ALARM_OUTPUT && a < CO_ALARM_OUTPUT + N_ALARM_OUTPUTS);
}

static gboolean
register_writable (guint a)
{
  return a == HR_EMISSIVITY || a == HR_DISTANCE || a == HR_REFLECTED
      || (a >= HR_RULE_ENABLE && a < HR_RULE_ENABLE + N_RULES)
      || (a >= HR_F_EMISSIVITY && a < HR_F_REFLECTED + 2);
}

/* a rule slot's enable into @w: 0 or an exception; 0 for an empty slot
 * changes nothing (a PLC writing its whole image), 1 is refused */
static gint
decode_rule_enable (const TcdModbusMapConfig *c, guint slot, guint v, TcdModbusWrite *w)
{
  if (v > 1 || (slot >= c->n_rules && v))
    return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
  if (slot < c->n_rules) {
    w->rule_enable[slot] = v;
    w->rule_id[slot] = c->rule_id[slot];
  }
  return 0;
}

/* A write's addresses and values into @w: 0 or an exception (02 for an
 * address that is not writable or half a float pair, 03 for a value that
 * cannot be one).  The shape and the range were checked. */
static gint
decode_write (const TcdModbusMapConfig *c, const guint8 *pdu, TcdModbusWrite *w)
{
  guint fc = pdu[0], addr = u16_at (pdu + 1), nb;
  const guint8 *data;
  gint exc;

  if (fc == MODBUS_FC_WRITE_SINGLE_COIL || fc == MODBUS_FC_WRITE_SINGLE_REGISTER) {
    nb = 1;
    data = pdu + 3;
  } else {
    nb = u16_at (pdu + 3);
    data = pdu + 6;
  }

  if (fc == MODBUS_FC_WRITE_SINGLE_COIL || fc == MODBUS_FC_WRITE_MULTIPLE_COILS) {
    for (guint i = 0; i < nb; i++)
      if (!coil_writable (addr + i))
        return MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS;
    for (guint i = 0; i < nb; i++) {
      guint a = addr + i;
      gboolean on = fc == MODBUS_FC_WRITE_SINGLE_COIL ? data[0] == 0xFF
          : (data[i / 8] >> (i % 8)) & 1;
      if (a == CO_FFC) {
        w->ffc |= on;
      } else if (a >= CO_ALARM_OUTPUT && a < CO_ALARM_OUTPUT + N_ALARM_OUTPUTS) {
        w->output[a - CO_ALARM_OUTPUT] = on;
      } else if ((exc = decode_rule_enable (c, a - CO_RULE_ENABLE, on, w))) {
        return exc;
      }
    }
    return 0;
  }

  for (guint i = 0; i < nb; i++) {
    guint a = addr + i;
    if (!register_writable (a))
      return MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS;
    /* a float pair is written whole */
    if (a >= HR_F_EMISSIVITY) {
      guint first = a - (a - HR_F_EMISSIVITY) % 2;
      if (first < addr || first + 1 >= addr + nb)
        return MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS;
    }
  }
  for (guint i = 0; i < nb; i++) {
    guint a = addr + i, v = u16_at (data + 2 * i);
    if (a == HR_EMISSIVITY) {
      w->set_emissivity = TRUE;
      w->emissivity = v / 100.0;
    } else if (a == HR_DISTANCE) {
      w->set_distance = TRUE;
      w->distance = v / 10.0;
    } else if (a == HR_REFLECTED) {
      w->set_reflected = TRUE;
      w->reflected = (gint16) v / 10.0;
    } else if (a >= HR_RULE_ENABLE && a < HR_RULE_ENABLE + N_RULES) {
      if ((exc = decode_rule_enable (c, a - HR_RULE_ENABLE, v, w)))
        return exc;
    } else if ((a - HR_F_EMISSIVITY) % 2 == 0) {
      gdouble f = get_f32 (data + 2 * i, c->word_big);
      if (!isfinite (f))
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
      f = float_as_decimal (f);
      if (a == HR_F_EMISSIVITY) {
        w->set_emissivity = TRUE;
        w->emissivity = f;
      } else if (a == HR_F_DISTANCE) {
        w->set_distance = TRUE;
        w->distance = f;
      } else {
        w->set_reflected = TRUE;
        w->reflected = f;
      }
    }
  }
  return 0;
}

gint
tcd_modbus_map_decode (const TcdModbusMapConfig *c, const guint8 *pdu, gsize len,
    TcdModbusWrite *w)
{
  guint fc = pdu[0];
  gint exc;

  memset (w, 0, sizeof *w);
  memset (w->rule_enable, -1, sizeof w->rule_enable);
  memset (w->output, -1, sizeof w->output);
  if ((exc = check_shape (pdu, len)))
    return exc;
  if (u16_at (pdu + 1) + (fc == MODBUS_FC_WRITE_SINGLE_COIL
          || fc == MODBUS_FC_WRITE_SINGLE_REGISTER ? 1 : u16_at (pdu + 3)) > table_size (fc))
    return MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS;
  if (!is_write (fc))
    return 0;
  /* writable only when configured so: "not an allowable action" (01) */
  if (!c->write_enabled)
    return MODBUS_EXCEPTION_ILLEGAL_FUNCTION;
  w->write = TRUE;
  return decode_write (c, pdu, w);
}
