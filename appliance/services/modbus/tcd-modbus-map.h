/* thermocamd: the Modbus register map (schemas/modbus-registers.json)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the registers hold and what a request to them means, apart from how
 * requests arrive (tcd-modbus.c, -tcp.c, -serial.c).  Pure functions over
 * plain values: a request's PDU in, an exception code or a decoded write
 * out; a reading and a configuration snapshot in, the four tables filled.
 * No sockets, no threads, no application state: the server calls these in
 * its threads and carries a decoded write out on the main loop.
 *
 * The names below are private to services/modbus; the constants must agree
 * with schemas/modbus-registers.json (the e2e test reads the file and
 * checks addresses against the wire).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define N_RULES 40                      /* GST_THERMAL_MAX_RULES: rule slots */
#define N_ALARM_INPUTS 4
#define N_ALARM_OUTPUTS 4
#define INVALID_I16 0x8000              /* -32768: no reading */
#define FRESH_US G_USEC_PER_SEC         /* status bit "frame fresh" */

/* input registers (function 04) */
enum {
  IR_STATUS = 0,
  IR_FRAME_COUNTER = 1,         /* uint32: 1-2 */
  IR_FRAME_AGE = 3,
  IR_RULE_COUNT = 4,
  IR_DEVICE_T = 5,
  IR_SCENE_MAX = 6,
  IR_SCENE_MIN = 7,
  IR_SCENE_AVG = 8,
  IR_SCENE_STATE = 9,
  IR_RULE_ID = 10,              /* 40 */
  IR_RULE_FLAGS = 50,           /* 40 */
  IR_RULE = 100,                /* 40 x (max, min, avg, state) */
  IR_RULE_STRIDE = 4,
  IR_F_DEVICE_T = 300,          /* float32 pairs */
  IR_F_SCENE_MAX = 302,
  IR_F_SCENE_MIN = 304,
  IR_F_SCENE_AVG = 306,
  IR_F_RULE = 400,              /* 40 x (max, min, avg) float32 pairs */
  IR_F_RULE_STRIDE = 6,
  IR_SIZE = 640
};

/* discrete inputs (function 02) */
enum {
  DI_STATUS = 0,                /* 8 bits: status word bits 0-7 */
  DI_RULE_ALARM = 100,
  DI_RULE_PRE_ALARM = 200,
  DI_RULE_VALID = 300,
  DI_ALARM_INPUT = 400,         /* alarm inputs in alarm (tcd-alarmio) */
  DI_SIZE = 404
};

/* coils (functions 01, 05, 15) */
enum {
  CO_FFC = 0,
  CO_RULE_ENABLE = 100,
  CO_ALARM_OUTPUT = 200,        /* alarm outputs: read their state, write to trigger/clear */
  CO_SIZE = 204
};

/* holding registers (functions 03, 06, 16) */
enum {
  HR_EMISSIVITY = 0,            /* x0.01 */
  HR_DISTANCE = 1,              /* x0.1 m */
  HR_REFLECTED = 2,             /* int16 x0.1 C */
  HR_RULE_ENABLE = 10,          /* 40 */
  HR_F_EMISSIVITY = 100,        /* float32 pairs */
  HR_F_DISTANCE = 102,
  HR_F_REFLECTED = 104,
  HR_SIZE = 106
};

/* the status word (input register 0; discrete inputs 0-7 mirror bits 0-7) */
enum {
  ST_VALID = 1 << 0,            /* readings of a measured frame */
  ST_FRESH = 1 << 1,            /* the newest frame is less than 1 s old */
  ST_ALARM = 1 << 2,            /* the scene or a rule is in alarm */
  ST_PRE_ALARM = 1 << 3,        /* the scene or a rule is in pre-alarm */
  ST_SHUTTER = 1 << 4,          /* the frame shows the closed shutter (burning prevention): not valid */
  ST_DEVICE_T = 1 << 5,         /* the device temperature is known */
  ST_WRITABLE = 1 << 6,         /* modbus.write_enabled */
  ST_THERMOMETRY = 1 << 7,      /* thermometry.enabled */
  ST_BELOW_RANGE = 1 << 8,      /* the scene's minimum is below the measurement range */
  ST_ABOVE_RANGE = 1 << 9       /* the scene's maximum is above it */
};

/* rule flags (input registers 50-89) */
enum {
  RF_EXISTS = 1 << 0,
  RF_ENABLED = 1 << 1,
  RF_VALID = 1 << 2,
  RF_ALARM = 1 << 3,            /* an alarm is configured */
  RF_BELOW_RANGE = 1 << 4,      /* its minimum is below the measurement range */
  RF_ABOVE_RANGE = 1 << 5       /* its maximum is above it */
};

/* alarm states as registers show them (GstThermalAlarmState's values) */
enum {
  TCD_MODBUS_STATE_NORMAL = 0,
  TCD_MODBUS_STATE_PRE_ALARM = 1,
  TCD_MODBUS_STATE_ALARM = 2
};

/* what the map needs of the configuration, as plain values */
typedef struct {
  gboolean word_big;            /* modbus.word_order big: high word first */
  gboolean write_enabled;       /* modbus.write_enabled */
  gboolean thermometry;         /* thermometry.enabled */
  gdouble emissivity, distance, reflected;      /* thermometry.* */
  guint n_rules;                /* rules configured (at most N_RULES): the slots in use */
  gint rule_id[N_RULES];
  gboolean rule_enabled[N_RULES], rule_alarm[N_RULES];
} TcdModbusMapConfig;

/* one rule's results on a frame */
typedef struct {
  gint id;
  gboolean valid;
  gdouble max, min, avg;        /* degrees C */
  guint state;                  /* TCD_MODBUS_STATE_* */
  gboolean below_range, above_range;    /* outside the measurement range */
} TcdModbusRuleReading;

/* the newest temperature frame and the alarm I/O, as plain values */
typedef struct {
  guint32 frame_counter;
  gint64 age_us;                /* since it was captured; -1: no frame */
  gboolean measured;            /* the frame has measurement results (the rest below) */
  gboolean valid;               /* they are of the scene, not of the closed shutter */
  gdouble max, min, avg;        /* the scene, degrees C */
  guint scene_state;            /* TCD_MODBUS_STATE_* */
  gboolean below_range, above_range;    /* the scene outside the measurement range */
  guint n_rules;                /* the enabled rules' results, in any order */
  TcdModbusRuleReading rules[N_RULES];
  gdouble device_t;             /* the sensor's temperature, degrees C; NAN: unknown */
  gboolean shutter_closed;
  guint alarm_inputs, alarm_outputs;    /* bit i: input / output i + 1 is on */
} TcdModbusReading;

/* the four tables (libmodbus's modbus_mapping_t arrays, or any of the sizes
 * above) */
typedef struct {
  guint8 *coils;                /* CO_SIZE */
  guint8 *discrete;             /* DI_SIZE */
  guint16 *holding;             /* HR_SIZE */
  guint16 *input;               /* IR_SIZE */
} TcdModbusTables;

/* a write request, decoded: what to change (nothing else is touched) */
typedef struct {
  gboolean write;               /* FALSE: a read (the fields below are unset) */
  gboolean set_emissivity, set_distance, set_reflected, ffc;
  gdouble emissivity, distance, reflected;
  gint8 rule_enable[N_RULES];   /* -1: unchanged */
  gint rule_id[N_RULES];        /* the rule the map saw in the slot */
  gint8 output[N_ALARM_OUTPUTS];        /* -1: unchanged, 1: trigger, 0: clear */
} TcdModbusWrite;

/* The registers that show the configuration: the parameters (holding
 * registers) and the rule enables (holding registers and coils) */
void tcd_modbus_map_encode_config (const TcdModbusMapConfig *c, const TcdModbusTables *t);
/* The measurement registers and inputs, the status word and the alarm
 * outputs' coils from @r */
void tcd_modbus_map_encode_reading (const TcdModbusMapConfig *c, const TcdModbusReading *r,
                                    const TcdModbusTables *t);
/* A request's PDU (function code and data, @len bytes): 0 or the exception
 * code to answer (MODBUS_EXCEPTION_*), in the order they are checked: the
 * function and the request's shape (01, 03), the range against its table
 * (02), writes off (01), the write's addresses (02) and values (03).  On 0,
 * @w says whether it is a write and what it changes; a read is answered
 * from the tables as they are. */
gint tcd_modbus_map_decode (const TcdModbusMapConfig *c, const guint8 *pdu, gsize len,
                            TcdModbusWrite *w);

G_END_DECLS
