/* thermocam: the simulated thermal sensor
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A scene of objects at known temperatures is turned into raw counts with the
 * inverse of the radiometric chain (tc-radiometry.h), then given what a real
 * microbolometer adds: per-pixel gain and offset (fixed-pattern noise),
 * temporal noise at a set NETD, dead and hot pixels, and an offset drift that
 * follows the focal plane array (FPA) temperature.  A closed shutter shows a
 * uniform blackbody at the FPA temperature.  Deterministic for a given seed:
 * frame n of a configuration is always the same.
 */
#pragma once

#include "tc-radiometry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  TC_SCENE_DEFAULT,   /* background, warm and hot bodies, a moving one, a heating one, a cold one */
  TC_SCENE_BLACKBODY  /* one uniform target at blackbody_temp */
} TcSceneKind;

typedef struct {
  int width, height;
  uint64_t seed;
  TcSceneKind scene;
  double blackbody_temp;   /* degrees C */
  double netd;             /* kelvin (noise equivalent temperature difference at 30 C) */
  double fpa_start;        /* FPA temperature at t = 0, degrees C */
  double fpa_drift;        /* FPA warm-up, kelvin, reached with time constant fpa_tau */
  double fpa_tau;          /* seconds */
  double fpn;              /* fixed-pattern strength: 1 = typical, 0 = none */
  int dead_pixels;         /* stuck low; all in the factory list */
  int hot_pixels;          /* stuck high; all in the factory list */
  int new_defects;         /* defects that appeared after calibration (not in the list) */
  TcCalibration cal;
  TcObjectParams obj;      /* what lies between the scene and the sensor */
} TcSimConfig;

typedef struct TcSim TcSim;

void tc_sim_config_init_default (TcSimConfig *cfg);
/* Allocates every table; NULL if the size is unusable (under 16 or over 8192). */
TcSim *tc_sim_new (const TcSimConfig *cfg);
void tc_sim_free (TcSim *sim);
const TcSimConfig *tc_sim_get_config (const TcSim *sim);
/* Changes that keep the tables: scene, blackbody temperature, netd, object
 * parameters, FPA model.  Size, seed, fpn and defect counts need a new sim. */
void tc_sim_update (TcSim *sim, const TcSimConfig *cfg);

/* Renders frame @index at scene time @t seconds into @dst (stride in bytes). */
void tc_sim_render (TcSim *sim, uint64_t index, double t, bool shutter_closed,
                    uint8_t *dst, size_t stride);
double tc_sim_fpa_temperature (const TcSim *sim, double t);       /* degrees C */
/* The scene's true temperature at pixel (x, y) and time t, degrees C. */
double tc_sim_true_temperature (const TcSim *sim, double t, int x, int y);

/* The factory calibration: corrected = gain[i] * raw[i] + offset[i] makes a
 * uniform scene uniform and radiometrically right at the FPA reference
 * temperature (fpa_start). */
const float *tc_sim_factory_gain (const TcSim *sim);
const float *tc_sim_factory_offset (const TcSim *sim);
/* The factory bad pixel list (indices y * width + x), sorted. */
const uint32_t *tc_sim_factory_bad_pixels (const TcSim *sim, size_t *n);
/* Every injected defect, listed or not (for tests), sorted. */
const uint32_t *tc_sim_defects (const TcSim *sim, size_t *n);

#ifdef __cplusplus
}
#endif
