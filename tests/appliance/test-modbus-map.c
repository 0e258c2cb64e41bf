/* thermocamd: the Modbus register map (appliance/services/modbus/tcd-modbus-map.c)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Requests decoded into the exception a PLC gets or the write carried out,
 * and readings encoded into registers, in-process (tests/e2e/test_modbus.py
 * checks the same over the wire against the daemon).
 */
#include <math.h>
#include <string.h>

#include "tcd-modbus-map.h"

/* exception codes as on the wire */
enum { OK = 0, EXC_FUNCTION = 1, EXC_ADDRESS = 2, EXC_VALUE = 3 };

/* function codes */
enum {
  FC_READ_COILS = 1, FC_READ_DISCRETE = 2, FC_READ_HOLDING = 3, FC_READ_INPUT = 4,
  FC_WRITE_COIL = 5, FC_WRITE_REGISTER = 6, FC_WRITE_COILS = 15, FC_WRITE_REGISTERS = 16
};

#define F32_NAN 0x7FC00000u

/* two rules: slot 0 id 7 (enabled, with an alarm), slot 1 id 9 (disabled) */
static TcdModbusMapConfig
config (void)
{
  TcdModbusMapConfig c = {
    .word_big = TRUE, .write_enabled = TRUE, .thermometry = TRUE,
    .emissivity = 0.95, .distance = 2.0, .reflected = 20.0,
    .n_rules = 2,
  };

  c.rule_id[0] = 7;
  c.rule_enabled[0] = TRUE;
  c.rule_alarm[0] = TRUE;
  c.rule_id[1] = 9;
  return c;
}

static gint
decode (const TcdModbusMapConfig *c, const guint8 *pdu, gsize len, TcdModbusWrite *w)
{
  TcdModbusWrite scratch;

  return tcd_modbus_map_decode (c, pdu, len, w ? w : &scratch);
}

/* a read (functions 1-4) or a single write (5, 6): function, address, value */
static gint
request (const TcdModbusMapConfig *c, guint fc, guint addr, guint v, TcdModbusWrite *w)
{
  guint8 pdu[5] = { fc, addr >> 8, addr & 0xFF, v >> 8, v & 0xFF };

  return decode (c, pdu, sizeof pdu, w);
}

/* function 16 with @n register values */
static gint
write_registers (const TcdModbusMapConfig *c, guint addr, const guint16 *v, guint n,
    TcdModbusWrite *w)
{
  guint8 pdu[6 + 2 * 130] = { FC_WRITE_REGISTERS, addr >> 8, addr & 0xFF, n >> 8, n & 0xFF,
    2 * n };

  g_assert_cmpuint (n, <=, 130);
  for (guint i = 0; i < n; i++) {
    pdu[6 + 2 * i] = v[i] >> 8;
    pdu[7 + 2 * i] = v[i] & 0xFF;
  }
  return decode (c, pdu, 6 + 2 * n, w);
}

/* function 15 with @n coils, bit i of @bits the coil at addr + i */
static gint
write_coils (const TcdModbusMapConfig *c, guint addr, guint n, guint64 bits, TcdModbusWrite *w)
{
  guint8 pdu[6 + 250] = { FC_WRITE_COILS, addr >> 8, addr & 0xFF, n >> 8, n & 0xFF,
    (n + 7) / 8 };

  for (guint i = 0; i < (n + 7) / 8; i++)
    pdu[6 + i] = i < 8 ? (bits >> (8 * i)) & 0xFF : 0;
  return decode (c, pdu, 6 + (n + 7) / 8, w);
}

/* nothing but what the test sets: checks the rest is untouched */
static void
assert_only (const TcdModbusWrite *w, gboolean e, gboolean d, gboolean r, gboolean ffc,
    guint rules_set, guint outputs_set)
{
  guint nr = 0, no = 0;

  g_assert_true (w->write);
  g_assert_cmpint (w->set_emissivity, ==, e);
  g_assert_cmpint (w->set_distance, ==, d);
  g_assert_cmpint (w->set_reflected, ==, r);
  g_assert_cmpint (w->ffc, ==, ffc);
  for (guint i = 0; i < N_RULES; i++)
    nr += w->rule_enable[i] >= 0;
  for (guint i = 0; i < N_ALARM_OUTPUTS; i++)
    no += w->output[i] >= 0;
  g_assert_cmpuint (nr, ==, rules_set);
  g_assert_cmpuint (no, ==, outputs_set);
}

static guint32
f32_bits (gfloat f)
{
  guint32 u;

  memcpy (&u, &f, sizeof u);
  return u;
}

static guint32
words (const guint16 *r, gboolean big)
{
  return big ? ((guint32) r[0] << 16) | r[1] : ((guint32) r[1] << 16) | r[0];
}

/* ---- reads ---- */

static void
test_reads (void)
{
  TcdModbusMapConfig c = config ();
  /* the blocks of schemas/modbus-registers.json: function, address, count */
  static const guint blocks[][3] = {
    { FC_READ_INPUT, IR_STATUS, 1 }, { FC_READ_INPUT, IR_FRAME_COUNTER, 2 },
    { FC_READ_INPUT, IR_FRAME_AGE, 1 }, { FC_READ_INPUT, IR_RULE_COUNT, 1 },
    { FC_READ_INPUT, IR_DEVICE_T, 1 }, { FC_READ_INPUT, IR_SCENE_MAX, 4 },
    { FC_READ_INPUT, IR_RULE_ID, 40 }, { FC_READ_INPUT, IR_RULE_FLAGS, 40 },
    { FC_READ_INPUT, IR_RULE, 120 }, { FC_READ_INPUT, IR_RULE + 120, 40 },
    { FC_READ_INPUT, IR_F_DEVICE_T, 8 }, { FC_READ_INPUT, IR_F_RULE, 120 },
    { FC_READ_INPUT, IR_F_RULE + 120, 120 }, { FC_READ_INPUT, IR_F_RULE + 39 * 6 + 4, 2 },
    { FC_READ_DISCRETE, DI_STATUS, 8 }, { FC_READ_DISCRETE, DI_RULE_ALARM, 40 },
    { FC_READ_DISCRETE, DI_RULE_PRE_ALARM, 40 }, { FC_READ_DISCRETE, DI_RULE_VALID, 40 },
    { FC_READ_DISCRETE, DI_ALARM_INPUT, 4 },
    { FC_READ_COILS, CO_FFC, 1 }, { FC_READ_COILS, CO_RULE_ENABLE, 40 },
    { FC_READ_COILS, CO_ALARM_OUTPUT, 4 },
    { FC_READ_HOLDING, HR_EMISSIVITY, 3 }, { FC_READ_HOLDING, HR_RULE_ENABLE, 40 },
    { FC_READ_HOLDING, HR_F_EMISSIVITY, 6 },
    /* whole tables at once, reserved addresses too */
    { FC_READ_COILS, 0, CO_SIZE }, { FC_READ_DISCRETE, 0, DI_SIZE },
    { FC_READ_HOLDING, 0, HR_SIZE }, { FC_READ_INPUT, 0, 125 },
  };
  static const guint sizes[][2] = {
    { FC_READ_COILS, CO_SIZE }, { FC_READ_DISCRETE, DI_SIZE },
    { FC_READ_HOLDING, HR_SIZE }, { FC_READ_INPUT, IR_SIZE },
  };

  /* reads are answered with writes off too */
  for (gint writable = 0; writable < 2; writable++) {
    c.write_enabled = writable;
    for (guint i = 0; i < G_N_ELEMENTS (blocks); i++) {
      TcdModbusWrite w;
      g_assert_cmpint (request (&c, blocks[i][0], blocks[i][1], blocks[i][2], &w), ==, OK);
      g_assert_false (w.write);
    }
  }

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    guint fc = sizes[i][0], size = sizes[i][1];
    /* the last address reads, the table's size is beyond it */
    g_assert_cmpint (request (&c, fc, size - 1, 1, NULL), ==, OK);
    g_assert_cmpint (request (&c, fc, size, 1, NULL), ==, EXC_ADDRESS);
    g_assert_cmpint (request (&c, fc, size - 1, 2, NULL), ==, EXC_ADDRESS);
    g_assert_cmpint (request (&c, fc, 60000, 2, NULL), ==, EXC_ADDRESS);
    /* quantities: 1..125 registers, 1..2000 bits; checked before the range */
    g_assert_cmpint (request (&c, fc, 0, 0, NULL), ==, EXC_VALUE);
    g_assert_cmpint (request (&c, fc, 60000, 0, NULL), ==, EXC_VALUE);
  }
  g_assert_cmpint (request (&c, FC_READ_INPUT, 0, 125, NULL), ==, OK);
  g_assert_cmpint (request (&c, FC_READ_INPUT, 0, 126, NULL), ==, EXC_VALUE);
  g_assert_cmpint (request (&c, FC_READ_HOLDING, 0, 126, NULL), ==, EXC_VALUE);
  g_assert_cmpint (request (&c, FC_READ_COILS, 0, 2000, NULL), ==, EXC_ADDRESS);
  g_assert_cmpint (request (&c, FC_READ_COILS, 0, 2001, NULL), ==, EXC_VALUE);
  g_assert_cmpint (request (&c, FC_READ_DISCRETE, 0, 2001, NULL), ==, EXC_VALUE);
  /* a read one byte short or long */
  {
    const guint8 shorter[] = { FC_READ_INPUT, 0, 0, 0 };
    const guint8 longer[] = { FC_READ_INPUT, 0, 0, 0, 1, 0 };
    g_assert_cmpint (decode (&c, shorter, sizeof shorter, NULL), ==, EXC_VALUE);
    g_assert_cmpint (decode (&c, longer, sizeof longer, NULL), ==, EXC_VALUE);
  }
}

/* functions not served: 01, whatever follows */
static void
test_functions (void)
{
  TcdModbusMapConfig c = config ();
  static const guint8 unknown[] = { 0x07, 0x08, 0x11, 0x14, 0x16, 0x17, 0x2B, 0x00, 0x81, 0x90 };

  for (guint i = 0; i < G_N_ELEMENTS (unknown); i++) {
    const guint8 pdu[] = { unknown[i], 0x0E, 0x01, 0x00, 0x01 };
    g_assert_cmpint (decode (&c, pdu, 1, NULL), ==, EXC_FUNCTION);
    g_assert_cmpint (decode (&c, pdu, sizeof pdu, NULL), ==, EXC_FUNCTION);
  }
}

/* ---- writes ---- */

static void
test_write_registers (void)
{
  TcdModbusMapConfig c = config ();
  TcdModbusWrite w;

  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, HR_EMISSIVITY, 80, &w), ==, OK);
  assert_only (&w, TRUE, FALSE, FALSE, FALSE, 0, 0);
  g_assert_cmpfloat (w.emissivity, ==, 0.8);
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, HR_DISTANCE, 25, &w), ==, OK);
  assert_only (&w, FALSE, TRUE, FALSE, FALSE, 0, 0);
  g_assert_cmpfloat (w.distance, ==, 2.5);
  /* two's complement: 0xFF65 is -155, -15.5 C */
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, HR_REFLECTED, 0xFF65, &w), ==, OK);
  assert_only (&w, FALSE, FALSE, TRUE, FALSE, 0, 0);
  g_assert_cmpfloat (w.reflected, ==, -15.5);
  /* values the configuration refuses are decoded: the change path says 03 */
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, HR_EMISSIVITY, 0, &w), ==, OK);
  g_assert_cmpfloat (w.emissivity, ==, 0.0);
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, HR_EMISSIVITY, 150, &w), ==, OK);
  g_assert_cmpfloat (w.emissivity, ==, 1.5);

  /* the three at once (function 16), applied together */
  {
    const guint16 v[] = { 90, 35, 250 };
    g_assert_cmpint (write_registers (&c, HR_EMISSIVITY, v, 3, &w), ==, OK);
    assert_only (&w, TRUE, TRUE, TRUE, FALSE, 0, 0);
    g_assert_cmpfloat (w.emissivity, ==, 0.9);
    g_assert_cmpfloat (w.distance, ==, 3.5);
    g_assert_cmpfloat (w.reflected, ==, 25.0);
  }

  /* reserved and read-only addresses: 02 */
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, 3, 1, NULL), ==, EXC_ADDRESS);
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, 9, 0, NULL), ==, EXC_ADDRESS);
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, HR_RULE_ENABLE + 40, 0, NULL), ==,
      EXC_ADDRESS);
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, 99, 0, NULL), ==, EXC_ADDRESS);
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, HR_SIZE, 0, NULL), ==, EXC_ADDRESS);
  {
    guint16 v[11] = { 90, 35, 250 };
    /* 0-10 takes in the reserved 3-9: nothing written */
    g_assert_cmpint (write_registers (&c, HR_EMISSIVITY, v, 11, NULL), ==, EXC_ADDRESS);
    /* beyond the table */
    g_assert_cmpint (write_registers (&c, HR_F_REFLECTED, v, 3, NULL), ==, EXC_ADDRESS);
  }
  /* a value no register can hold is not checked before the address */
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, 3, 0xFFFF, NULL), ==, EXC_ADDRESS);

  /* quantities and byte counts: 1..123 registers */
  {
    guint16 v[124] = { 0 };
    const guint8 short_count[] = { FC_WRITE_REGISTERS, 0, 0, 0, 1, 2, 0x00, 0x50, 0x00 };
    const guint8 no_count[] = { FC_WRITE_REGISTERS, 0, 0, 0, 1 };
    const guint8 odd_count[] = { FC_WRITE_REGISTERS, 0, 0, 0, 1, 1, 0x50 };
    const guint8 single_long[] = { FC_WRITE_REGISTER, 0, 0, 0, 80, 0 };
    g_assert_cmpint (write_registers (&c, 0, v, 0, NULL), ==, EXC_VALUE);
    g_assert_cmpint (write_registers (&c, 0, v, 124, NULL), ==, EXC_VALUE);
    /* 123 is a valid quantity: then the range decides */
    g_assert_cmpint (write_registers (&c, 0, v, 123, NULL), ==, EXC_ADDRESS);
    g_assert_cmpint (decode (&c, short_count, sizeof short_count, NULL), ==, EXC_VALUE);
    g_assert_cmpint (decode (&c, no_count, sizeof no_count, NULL), ==, EXC_VALUE);
    g_assert_cmpint (decode (&c, odd_count, sizeof odd_count, NULL), ==, EXC_VALUE);
    g_assert_cmpint (decode (&c, single_long, sizeof single_long, NULL), ==, EXC_VALUE);
  }
}

static void
test_write_floats (void)
{
  TcdModbusMapConfig c = config ();
  TcdModbusWrite w;

  for (gint big = 0; big < 2; big++) {
    guint32 e = f32_bits (0.9f), d = f32_bits (2.5f), r = f32_bits (-15.5f);
    guint16 v[6];
    c.word_big = big;
    v[big ? 0 : 1] = e >> 16;
    v[big ? 1 : 0] = e & 0xFFFF;
    v[big ? 2 : 3] = d >> 16;
    v[big ? 3 : 2] = d & 0xFFFF;
    v[big ? 4 : 5] = r >> 16;
    v[big ? 5 : 4] = r & 0xFFFF;
    /* one pair: the decimal the PLC meant, not 0.899999976... */
    g_assert_cmpint (write_registers (&c, HR_F_EMISSIVITY, v, 2, &w), ==, OK);
    assert_only (&w, TRUE, FALSE, FALSE, FALSE, 0, 0);
    g_assert_cmpfloat (w.emissivity, ==, 0.9);
    g_assert_cmpint (write_registers (&c, HR_F_EMISSIVITY, v, 6, &w), ==, OK);
    assert_only (&w, TRUE, TRUE, TRUE, FALSE, 0, 0);
    g_assert_cmpfloat (w.emissivity, ==, 0.9);
    g_assert_cmpfloat (w.distance, ==, 2.5);
    g_assert_cmpfloat (w.reflected, ==, -15.5);
    g_assert_cmpint (write_registers (&c, HR_F_REFLECTED, v + 4, 2, &w), ==, OK);
    assert_only (&w, FALSE, FALSE, TRUE, FALSE, 0, 0);
    g_assert_cmpfloat (w.reflected, ==, -15.5);
  }

  /* half a pair: 02, whether alone, at either end or across two pairs */
  {
    const guint16 v[4] = { 0x3F66, 0x6666, 0x4020, 0 };
    g_assert_cmpint (request (&c, FC_WRITE_REGISTER, HR_F_EMISSIVITY, 1, NULL), ==,
        EXC_ADDRESS);
    g_assert_cmpint (request (&c, FC_WRITE_REGISTER, HR_F_EMISSIVITY + 1, 1, NULL), ==,
        EXC_ADDRESS);
    g_assert_cmpint (write_registers (&c, HR_F_EMISSIVITY + 1, v, 2, NULL), ==, EXC_ADDRESS);
    g_assert_cmpint (write_registers (&c, HR_F_EMISSIVITY, v, 3, NULL), ==, EXC_ADDRESS);
  }
  /* NaN and infinities are no value: 03 */
  {
    const guint32 bad[] = { F32_NAN, 0x7F800000, 0xFF800000 };
    c.word_big = TRUE;
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
      const guint16 v[2] = { bad[i] >> 16, bad[i] & 0xFFFF };
      g_assert_cmpint (write_registers (&c, HR_F_DISTANCE, v, 2, NULL), ==, EXC_VALUE);
    }
  }
}

static void
test_write_rule_enables (void)
{
  TcdModbusMapConfig c = config ();
  TcdModbusWrite w;
  guint16 zeros[N_RULES] = { 0 };

  /* holding register and coil of slot 0: the rule the map saw there */
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, HR_RULE_ENABLE, 0, &w), ==, OK);
  assert_only (&w, FALSE, FALSE, FALSE, FALSE, 1, 0);
  g_assert_cmpint (w.rule_enable[0], ==, 0);
  g_assert_cmpint (w.rule_id[0], ==, 7);
  g_assert_cmpint (request (&c, FC_WRITE_COIL, CO_RULE_ENABLE + 1, 0xFF00, &w), ==, OK);
  assert_only (&w, FALSE, FALSE, FALSE, FALSE, 1, 0);
  g_assert_cmpint (w.rule_enable[1], ==, 1);
  g_assert_cmpint (w.rule_id[1], ==, 9);
  /* 0 or 1 only */
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, HR_RULE_ENABLE, 2, NULL), ==, EXC_VALUE);
  /* an empty slot: 1 is refused, 0 changes nothing */
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, HR_RULE_ENABLE + 2, 1, NULL), ==, EXC_VALUE);
  g_assert_cmpint (request (&c, FC_WRITE_COIL, CO_RULE_ENABLE + 5, 0xFF00, NULL), ==, EXC_VALUE);
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, HR_RULE_ENABLE + 39, 0, &w), ==, OK);
  assert_only (&w, FALSE, FALSE, FALSE, FALSE, 0, 0);
  /* a PLC writing the whole block: 0 for the empty slots is accepted */
  g_assert_cmpint (write_registers (&c, HR_RULE_ENABLE, zeros, N_RULES, &w), ==, OK);
  assert_only (&w, FALSE, FALSE, FALSE, FALSE, 2, 0);
  g_assert_cmpint (w.rule_enable[0], ==, 0);
  g_assert_cmpint (w.rule_enable[1], ==, 0);
  /* the 40 coils (function 15): slot 0 on, slot 1 off */
  g_assert_cmpint (write_coils (&c, CO_RULE_ENABLE, N_RULES, 0x1, &w), ==, OK);
  assert_only (&w, FALSE, FALSE, FALSE, FALSE, 2, 0);
  g_assert_cmpint (w.rule_enable[0], ==, 1);
  g_assert_cmpint (w.rule_enable[1], ==, 0);
  /* and a 1 in an empty slot spoils the whole request */
  g_assert_cmpint (write_coils (&c, CO_RULE_ENABLE, N_RULES, 0x1 | (1ull << 20), NULL), ==,
      EXC_VALUE);
  /* no rules configured */
  c.n_rules = 0;
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, HR_RULE_ENABLE, 1, NULL), ==, EXC_VALUE);
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, HR_RULE_ENABLE, 0, &w), ==, OK);
  assert_only (&w, FALSE, FALSE, FALSE, FALSE, 0, 0);
}

static void
test_write_coils (void)
{
  TcdModbusMapConfig c = config ();
  TcdModbusWrite w;

  /* the flat-field correction: 1 asks for one, 0 is a write of nothing */
  g_assert_cmpint (request (&c, FC_WRITE_COIL, CO_FFC, 0xFF00, &w), ==, OK);
  assert_only (&w, FALSE, FALSE, FALSE, TRUE, 0, 0);
  g_assert_cmpint (request (&c, FC_WRITE_COIL, CO_FFC, 0x0000, &w), ==, OK);
  assert_only (&w, FALSE, FALSE, FALSE, FALSE, 0, 0);
  /* alarm outputs: 1 triggers, 0 clears */
  g_assert_cmpint (request (&c, FC_WRITE_COIL, CO_ALARM_OUTPUT + 1, 0xFF00, &w), ==, OK);
  assert_only (&w, FALSE, FALSE, FALSE, FALSE, 0, 1);
  g_assert_cmpint (w.output[1], ==, 1);
  g_assert_cmpint (request (&c, FC_WRITE_COIL, CO_ALARM_OUTPUT + 3, 0, &w), ==, OK);
  g_assert_cmpint (w.output[3], ==, 0);
  g_assert_cmpint (write_coils (&c, CO_ALARM_OUTPUT, N_ALARM_OUTPUTS, 0x5, &w), ==, OK);
  assert_only (&w, FALSE, FALSE, FALSE, FALSE, 0, 4);
  g_assert_cmpint (w.output[0], ==, 1);
  g_assert_cmpint (w.output[1], ==, 0);
  g_assert_cmpint (w.output[2], ==, 1);
  g_assert_cmpint (w.output[3], ==, 0);

  /* a coil value other than 0x0000 and 0xFF00: 03 */
  g_assert_cmpint (request (&c, FC_WRITE_COIL, CO_FFC, 0x1234, NULL), ==, EXC_VALUE);
  g_assert_cmpint (request (&c, FC_WRITE_COIL, CO_FFC, 0x0001, NULL), ==, EXC_VALUE);
  g_assert_cmpint (request (&c, FC_WRITE_COIL, CO_FFC, 0x00FF, NULL), ==, EXC_VALUE);
  /* reserved coils and beyond the table: 02 */
  g_assert_cmpint (request (&c, FC_WRITE_COIL, 1, 0xFF00, NULL), ==, EXC_ADDRESS);
  g_assert_cmpint (request (&c, FC_WRITE_COIL, CO_RULE_ENABLE + 40, 0, NULL), ==, EXC_ADDRESS);
  g_assert_cmpint (request (&c, FC_WRITE_COIL, CO_SIZE, 0, NULL), ==, EXC_ADDRESS);
  g_assert_cmpint (write_coils (&c, CO_FFC, 2, 0x1, NULL), ==, EXC_ADDRESS);
  g_assert_cmpint (write_coils (&c, CO_ALARM_OUTPUT, 5, 0x1, NULL), ==, EXC_ADDRESS);
  g_assert_cmpint (write_coils (&c, CO_ALARM_OUTPUT - 1, 2, 0x2, NULL), ==, EXC_ADDRESS);
  /* quantities and byte counts: 1..1968 coils */
  g_assert_cmpint (write_coils (&c, 0, 0, 0, NULL), ==, EXC_VALUE);
  g_assert_cmpint (write_coils (&c, 0, 1969, 0, NULL), ==, EXC_VALUE);
  g_assert_cmpint (write_coils (&c, 0, 1968, 0, NULL), ==, EXC_ADDRESS);
  {
    const guint8 count_off[] = { FC_WRITE_COILS, 0, 200, 0, 4, 2, 0x01, 0x00 };
    const guint8 data_short[] = { FC_WRITE_COILS, 0, 200, 0, 9, 2, 0x01 };
    const guint8 no_count[] = { FC_WRITE_COILS, 0, 200, 0, 4 };
    g_assert_cmpint (decode (&c, count_off, sizeof count_off, NULL), ==, EXC_VALUE);
    g_assert_cmpint (decode (&c, data_short, sizeof data_short, NULL), ==, EXC_VALUE);
    g_assert_cmpint (decode (&c, no_count, sizeof no_count, NULL), ==, EXC_VALUE);
  }
}

/* writes off (the default): 01 for any well-formed write in the table;
 * the request's shape and range are still checked first */
static void
test_writes_off (void)
{
  TcdModbusMapConfig c = config ();
  const guint16 v[2] = { 90, 20 };

  c.write_enabled = FALSE;
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, HR_EMISSIVITY, 80, NULL), ==, EXC_FUNCTION);
  g_assert_cmpint (request (&c, FC_WRITE_COIL, CO_FFC, 0xFF00, NULL), ==, EXC_FUNCTION);
  g_assert_cmpint (write_registers (&c, HR_EMISSIVITY, v, 2, NULL), ==, EXC_FUNCTION);
  g_assert_cmpint (write_coils (&c, CO_ALARM_OUTPUT, 4, 0xF, NULL), ==, EXC_FUNCTION);
  /* not even a look at the addresses */
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, 3, 1, NULL), ==, EXC_FUNCTION);
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, HR_RULE_ENABLE + 5, 1, NULL), ==,
      EXC_FUNCTION);
  /* but shape and range first */
  g_assert_cmpint (request (&c, FC_WRITE_COIL, CO_FFC, 0x1234, NULL), ==, EXC_VALUE);
  g_assert_cmpint (request (&c, FC_WRITE_REGISTER, HR_SIZE, 1, NULL), ==, EXC_ADDRESS);
  g_assert_cmpint (write_registers (&c, HR_EMISSIVITY, v, 0, NULL), ==, EXC_VALUE);
}

/* ---- encoding ---- */

static TcdModbusTables
new_tables (void)
{
  TcdModbusTables t = {
    .coils = g_new0 (guint8, CO_SIZE),
    .discrete = g_new0 (guint8, DI_SIZE),
    .holding = g_new0 (guint16, HR_SIZE),
    .input = g_new0 (guint16, IR_SIZE),
  };
  return t;
}

static void
free_tables (TcdModbusTables *t)
{
  g_free (t->coils);
  g_free (t->discrete);
  g_free (t->holding);
  g_free (t->input);
}

static void
test_encode_config (void)
{
  TcdModbusMapConfig c = config ();
  TcdModbusTables t = new_tables ();

  c.reflected = -15.5;
  t.coils[CO_FFC] = 1;
  for (gint big = 0; big < 2; big++) {
    c.word_big = big;
    tcd_modbus_map_encode_config (&c, &t);
    g_assert_cmpuint (t.holding[HR_EMISSIVITY], ==, 95);
    g_assert_cmpuint (t.holding[HR_DISTANCE], ==, 20);
    g_assert_cmpuint (t.holding[HR_REFLECTED], ==, 0xFF65);     /* -155 */
    g_assert_cmpuint (words (t.holding + HR_F_EMISSIVITY, big), ==, f32_bits (0.95f));
    g_assert_cmpuint (words (t.holding + HR_F_DISTANCE, big), ==, f32_bits (2.0f));
    g_assert_cmpuint (words (t.holding + HR_F_REFLECTED, big), ==, f32_bits (-15.5f));
    /* word order: big is the high word first */
    g_assert_cmpuint (t.holding[HR_F_EMISSIVITY + (big ? 0 : 1)], ==, 0x3F73);
    g_assert_cmpuint (t.holding[HR_F_EMISSIVITY + (big ? 1 : 0)], ==, 0x3333);
    g_assert_cmpuint (t.coils[CO_FFC], ==, 0);
    g_assert_cmpuint (t.holding[HR_RULE_ENABLE], ==, 1);
    g_assert_cmpuint (t.coils[CO_RULE_ENABLE], ==, 1);
    for (guint i = 1; i < N_RULES; i++) {
      g_assert_cmpuint (t.holding[HR_RULE_ENABLE + i], ==, 0);
      g_assert_cmpuint (t.coils[CO_RULE_ENABLE + i], ==, 0);
    }
  }
  /* scaled and rounded, clamped to what a register holds */
  c.emissivity = 0.856;
  c.distance = 10000.0;
  c.reflected = 5000.0;
  tcd_modbus_map_encode_config (&c, &t);
  g_assert_cmpuint (t.holding[HR_EMISSIVITY], ==, 86);
  g_assert_cmpuint (t.holding[HR_DISTANCE], ==, 65535);
  g_assert_cmpuint (t.holding[HR_REFLECTED], ==, 32767);
  c.reflected = -5000.0;
  tcd_modbus_map_encode_config (&c, &t);
  g_assert_cmpuint (t.holding[HR_REFLECTED], ==, 0x8001);       /* -32767: not the sentinel */
  free_tables (&t);
}

/* the simulated scene of the e2e test: a hot motor, a -10 C object */
static TcdModbusReading
reading (void)
{
  TcdModbusReading r = {
    .frame_counter = 0x00012345, .age_us = 40000,
    .measured = TRUE, .valid = TRUE,
    .max = 36.6, .min = -10.2, .avg = 20.04, .scene_state = TCD_MODBUS_STATE_NORMAL,
    .n_rules = 2,
    .device_t = 41.3,
  };

  /* the enabled rules, in another order than the slots; 3 is in no slot */
  r.rules[0] = (TcdModbusRuleReading) { 3, TRUE, 99.0, 98.0, 98.5, TCD_MODBUS_STATE_ALARM };
  r.rules[1] = (TcdModbusRuleReading) { 7, TRUE, 55.5, 30.0, 48.25, TCD_MODBUS_STATE_NORMAL };
  return r;
}

static void
test_encode_reading (void)
{
  TcdModbusMapConfig c = config ();
  TcdModbusReading r = reading ();
  TcdModbusTables t = new_tables ();
  guint16 *ir = t.input;

  for (gint big = 0; big < 2; big++) {
    c.word_big = big;
    tcd_modbus_map_encode_reading (&c, &r, &t);
    g_assert_cmpuint (words (ir + IR_FRAME_COUNTER, big), ==, 0x00012345);
    g_assert_cmpuint (ir[IR_FRAME_AGE], ==, 40);
    g_assert_cmpuint (ir[IR_RULE_COUNT], ==, 2);
    /* int16 x0.1 C, two's complement */
    g_assert_cmpuint (ir[IR_SCENE_MAX], ==, 366);
    g_assert_cmpuint (ir[IR_SCENE_MIN], ==, 65434);     /* -102 */
    g_assert_cmpint ((gint16) ir[IR_SCENE_MIN], ==, -102);
    g_assert_cmpuint (ir[IR_SCENE_AVG], ==, 200);
    g_assert_cmpuint (ir[IR_SCENE_STATE], ==, 0);
    g_assert_cmpuint (ir[IR_DEVICE_T], ==, 413);
    g_assert_cmpuint (words (ir + IR_F_SCENE_MAX, big), ==, f32_bits (36.6f));
    g_assert_cmpuint (words (ir + IR_F_SCENE_MIN, big), ==, f32_bits (-10.2f));
    g_assert_cmpuint (words (ir + IR_F_SCENE_AVG, big), ==, f32_bits (20.04f));
    g_assert_cmpuint (words (ir + IR_F_DEVICE_T, big), ==, f32_bits (41.3f));
    g_assert_cmpuint (words (ir + IR_F_SCENE_MAX, big), ==, 0x42126666);

    /* slot 0: rule 7 found by its id */
    g_assert_cmpuint (ir[IR_RULE_ID], ==, 7);
    g_assert_cmpuint (ir[IR_RULE_FLAGS], ==, RF_EXISTS | RF_ENABLED | RF_VALID | RF_ALARM);
    g_assert_cmpuint (ir[IR_RULE + 0], ==, 555);
    g_assert_cmpuint (ir[IR_RULE + 1], ==, 300);
    g_assert_cmpuint (ir[IR_RULE + 2], ==, 483);        /* 482.5 rounds away from 0 */
    g_assert_cmpuint (ir[IR_RULE + 3], ==, TCD_MODBUS_STATE_NORMAL);
    g_assert_cmpuint (words (ir + IR_F_RULE + 0, big), ==, f32_bits (55.5f));
    g_assert_cmpuint (words (ir + IR_F_RULE + 2, big), ==, f32_bits (30.0f));
    g_assert_cmpuint (words (ir + IR_F_RULE + 4, big), ==, f32_bits (48.25f));
    g_assert_cmpuint (t.discrete[DI_RULE_VALID], ==, 1);
    /* slot 1: rule 9, disabled, so not in the reading: it exists only */
    g_assert_cmpuint (ir[IR_RULE_ID + 1], ==, 9);
    g_assert_cmpuint (ir[IR_RULE_FLAGS + 1], ==, RF_EXISTS);
    g_assert_cmpuint (ir[IR_RULE + IR_RULE_STRIDE], ==, INVALID_I16);
    g_assert_cmpuint (words (ir + IR_F_RULE + IR_F_RULE_STRIDE, big), ==, F32_NAN);
    g_assert_cmpuint (t.discrete[DI_RULE_VALID + 1], ==, 0);
    /* empty slots: id 0, no flags, the sentinel and NaN */
    for (guint i = 2; i < N_RULES; i++) {
      g_assert_cmpuint (ir[IR_RULE_ID + i], ==, 0);
      g_assert_cmpuint (ir[IR_RULE_FLAGS + i], ==, 0);
      for (guint k = 0; k < 3; k++) {
        g_assert_cmpuint (ir[IR_RULE + i * IR_RULE_STRIDE + k], ==, 0x8000);
        g_assert_cmpuint (words (ir + IR_F_RULE + i * IR_F_RULE_STRIDE + 2 * k, big), ==,
            F32_NAN);
      }
      g_assert_cmpuint (ir[IR_RULE + i * IR_RULE_STRIDE + 3], ==, 0);
    }
    /* rule 3 of the reading has no slot: its alarm counts nowhere */
    g_assert_cmpuint (ir[IR_STATUS], ==, ST_VALID | ST_FRESH | ST_DEVICE_T | ST_WRITABLE
        | ST_THERMOMETRY);
    for (guint b = 0; b < 8; b++)
      g_assert_cmpuint (t.discrete[DI_STATUS + b], ==, (ir[IR_STATUS] >> b) & 1);
  }
  free_tables (&t);
}

static void
test_encode_states (void)
{
  TcdModbusMapConfig c = config ();
  TcdModbusReading r = reading ();
  TcdModbusTables t = new_tables ();
  guint16 *ir = t.input;

  /* a rule in alarm, the scene in pre-alarm */
  r.rules[1].state = TCD_MODBUS_STATE_ALARM;
  r.scene_state = TCD_MODBUS_STATE_PRE_ALARM;
  r.alarm_inputs = 0x4;         /* input 3 */
  r.alarm_outputs = 0x2;        /* output 2 */
  tcd_modbus_map_encode_reading (&c, &r, &t);
  g_assert_cmpuint (ir[IR_SCENE_STATE], ==, TCD_MODBUS_STATE_PRE_ALARM);
  g_assert_cmpuint (ir[IR_RULE + 3], ==, TCD_MODBUS_STATE_ALARM);
  g_assert_cmpuint (t.discrete[DI_RULE_ALARM], ==, 1);
  g_assert_cmpuint (t.discrete[DI_RULE_PRE_ALARM], ==, 0);
  g_assert_cmpuint (ir[IR_STATUS] & (ST_ALARM | ST_PRE_ALARM), ==, ST_ALARM | ST_PRE_ALARM);
  g_assert_cmpuint (t.discrete[DI_STATUS + 2], ==, 1);
  g_assert_cmpuint (t.discrete[DI_STATUS + 3], ==, 1);
  for (guint i = 0; i < N_ALARM_INPUTS; i++)
    g_assert_cmpuint (t.discrete[DI_ALARM_INPUT + i], ==, i == 2);
  for (guint i = 0; i < N_ALARM_OUTPUTS; i++)
    g_assert_cmpuint (t.coils[CO_ALARM_OUTPUT + i], ==, i == 1);

  /* the closed shutter: no readings, the states held, the shutter bit */
  r.valid = FALSE;
  r.rules[1].valid = FALSE;
  r.shutter_closed = TRUE;
  tcd_modbus_map_encode_reading (&c, &r, &t);
  g_assert_cmpuint (ir[IR_SCENE_MAX], ==, INVALID_I16);
  g_assert_cmpuint (words (ir + IR_F_SCENE_MAX, TRUE), ==, F32_NAN);
  g_assert_cmpuint (ir[IR_SCENE_STATE], ==, TCD_MODBUS_STATE_PRE_ALARM);
  g_assert_cmpuint (ir[IR_RULE + 0], ==, INVALID_I16);
  g_assert_cmpuint (ir[IR_RULE + 3], ==, TCD_MODBUS_STATE_ALARM);
  g_assert_cmpuint (ir[IR_RULE_FLAGS], ==, RF_EXISTS | RF_ENABLED | RF_ALARM);
  g_assert_cmpuint (ir[IR_STATUS], ==, ST_FRESH | ST_ALARM | ST_PRE_ALARM | ST_SHUTTER
      | ST_DEVICE_T | ST_WRITABLE | ST_THERMOMETRY);

  /* outside the measurement range: the scene's bits 8-9, the rule's flag bits
   * 4-5; none while the readings are not valid */
  r = reading ();
  r.below_range = TRUE;
  r.rules[1].above_range = TRUE;      /* id 7, slot 0 */
  tcd_modbus_map_encode_reading (&c, &r, &t);
  g_assert_cmpuint (ir[IR_STATUS] & (ST_BELOW_RANGE | ST_ABOVE_RANGE), ==, ST_BELOW_RANGE);
  g_assert_cmpuint (ir[IR_RULE_FLAGS] & (RF_BELOW_RANGE | RF_ABOVE_RANGE), ==, RF_ABOVE_RANGE);
  r.valid = FALSE;
  r.rules[1].valid = FALSE;
  tcd_modbus_map_encode_reading (&c, &r, &t);
  g_assert_cmpuint (ir[IR_STATUS] & (ST_BELOW_RANGE | ST_ABOVE_RANGE), ==, 0);
  g_assert_cmpuint (ir[IR_RULE_FLAGS] & (RF_BELOW_RANGE | RF_ABOVE_RANGE), ==, 0);

  /* thermometry off: no readings, no states, writes off */
  r = reading ();
  r.scene_state = TCD_MODBUS_STATE_ALARM;
  c.thermometry = FALSE;
  c.write_enabled = FALSE;
  tcd_modbus_map_encode_reading (&c, &r, &t);
  g_assert_cmpuint (ir[IR_SCENE_MAX], ==, INVALID_I16);
  g_assert_cmpuint (ir[IR_SCENE_STATE], ==, 0);
  g_assert_cmpuint (ir[IR_RULE_FLAGS], ==, RF_EXISTS | RF_ENABLED | RF_ALARM);
  g_assert_cmpuint (ir[IR_STATUS], ==, ST_FRESH | ST_DEVICE_T);

  /* no frame at all: age 0xFFFF, not fresh, the device temperature unknown */
  c = config ();
  r = (TcdModbusReading) { .age_us = -1, .device_t = NAN };
  tcd_modbus_map_encode_reading (&c, &r, &t);
  g_assert_cmpuint (ir[IR_FRAME_AGE], ==, 0xFFFF);
  g_assert_cmpuint (words (ir + IR_FRAME_COUNTER, TRUE), ==, 0);
  g_assert_cmpuint (ir[IR_DEVICE_T], ==, INVALID_I16);
  g_assert_cmpuint (words (ir + IR_F_DEVICE_T, TRUE), ==, F32_NAN);
  g_assert_cmpuint (ir[IR_SCENE_AVG], ==, INVALID_I16);
  g_assert_cmpuint (ir[IR_RULE_FLAGS], ==, RF_EXISTS | RF_ENABLED | RF_ALARM);
  g_assert_cmpuint (ir[IR_STATUS], ==, ST_WRITABLE | ST_THERMOMETRY);

  /* old frames: the age in ms up to 0xFFFF, fresh below 1 s */
  r = reading ();
  r.age_us = 999999;
  tcd_modbus_map_encode_reading (&c, &r, &t);
  g_assert_cmpuint (ir[IR_FRAME_AGE], ==, 999);
  g_assert_cmpuint (ir[IR_STATUS] & ST_FRESH, ==, ST_FRESH);
  r.age_us = G_USEC_PER_SEC;
  tcd_modbus_map_encode_reading (&c, &r, &t);
  g_assert_cmpuint (ir[IR_STATUS] & ST_FRESH, ==, 0);
  r.age_us = (gint64) 3600 * G_USEC_PER_SEC;
  tcd_modbus_map_encode_reading (&c, &r, &t);
  g_assert_cmpuint (ir[IR_FRAME_AGE], ==, 0xFFFF);

  /* out of the int16 range: clamped (never the sentinel); NaN: the sentinel */
  r = reading ();
  r.max = 5000.0;
  r.min = -5000.0;
  r.avg = NAN;
  tcd_modbus_map_encode_reading (&c, &r, &t);
  g_assert_cmpuint (ir[IR_SCENE_MAX], ==, 32767);
  g_assert_cmpuint (ir[IR_SCENE_MIN], ==, 0x8001);
  g_assert_cmpuint (ir[IR_SCENE_AVG], ==, INVALID_I16);
  g_assert_cmpuint (words (ir + IR_F_SCENE_MAX, TRUE), ==, f32_bits (5000.0f));
  g_assert_cmpuint (words (ir + IR_F_SCENE_AVG, TRUE), ==, F32_NAN);
  free_tables (&t);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/modbus-map/reads", test_reads);
  g_test_add_func ("/modbus-map/functions", test_functions);
  g_test_add_func ("/modbus-map/write-registers", test_write_registers);
  g_test_add_func ("/modbus-map/write-floats", test_write_floats);
  g_test_add_func ("/modbus-map/write-rule-enables", test_write_rule_enables);
  g_test_add_func ("/modbus-map/write-coils", test_write_coils);
  g_test_add_func ("/modbus-map/writes-off", test_writes_off);
  g_test_add_func ("/modbus-map/encode-config", test_encode_config);
  g_test_add_func ("/modbus-map/encode-reading", test_encode_reading);
  g_test_add_func ("/modbus-map/encode-states", test_encode_states);
  return g_test_run ();
}
