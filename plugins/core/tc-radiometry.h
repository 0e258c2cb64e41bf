/* thermocam: the radiometric chain (counts <-> temperature)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The chain is the one FLIR cameras document and Thermimage publishes
 * (raw2temp): Planck constants R1, R2, B, F, O turn object radiance counts into
 * temperature; emissivity, reflected apparent temperature, atmospheric
 * transmission (ATA1, ATA2, ATB1, ATB2, ATX with humidity and distance) and an
 * external window (temperature, transmission) are removed first.  Everything
 * here is pure C with no allocation.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TC_KELVIN_OFFSET 273.15

/* A camera's factory calibration. */
typedef struct {
  double r1, r2, b, f, o;              /* Planck constants */
  double ata1, ata2, atb1, atb2, atx;  /* atmospheric transmission constants */
  double range_min, range_max;         /* calibrated range, degrees Celsius */
} TcCalibration;

/* The object parameters a user sets (manual §3.1). */
typedef struct {
  double emissivity;           /* 0 < e <= 1 */
  double distance;             /* metres */
  double reflected_temp;       /* reflected apparent temperature, degrees C */
  double atmospheric_temp;     /* degrees C */
  double relative_humidity;    /* fraction 0..1 */
  double window_temp;          /* external optics / window temperature, degrees C */
  double window_transmission;  /* external optics transmissivity 0 < t <= 1 */
} TcObjectParams;

/* The chain reduced to its per-count form for one calibration + parameter set:
 * object counts = raw * gain - offset, then Planck. */
typedef struct {
  TcCalibration cal;
  double gain;     /* 1 / (E * tau1 * IRT * tau2) */
  double offset;   /* sum of the attenuated reflected, atmosphere and window terms */
  double tau1, tau2;
} TcChain;

void   tc_calibration_init_default (TcCalibration *cal);
void   tc_object_params_init_default (TcObjectParams *p);
/* Checks every field is in its domain; returns NULL or the name of the first bad field. */
const char *tc_calibration_check (const TcCalibration *cal);
const char *tc_object_params_check (const TcObjectParams *p);

/* Blackbody counts of a surface at @kelvin (no emissivity, no atmosphere). */
double tc_planck_counts (const TcCalibration *cal, double kelvin);
/* Inverse of tc_planck_counts; returns NAN outside the domain. */
double tc_planck_kelvin (const TcCalibration *cal, double counts);

void   tc_chain_init (TcChain *chain, const TcCalibration *cal, const TcObjectParams *p);
/* Sensor counts to object temperature in kelvin; NAN outside the domain. */
double tc_chain_raw_to_kelvin (const TcChain *chain, double raw);
/* Object temperature in kelvin to the sensor counts the camera would see. */
double tc_chain_kelvin_to_raw (const TcChain *chain, double kelvin);
/* d(raw)/dT at @kelvin: the sensor's responsivity in counts per kelvin. */
double tc_chain_responsivity (const TcChain *chain, double kelvin);

/* A 65536-entry table from raw counts to temperature counts of @scale kelvin.
 * Raw values outside [*valid_lo, *valid_hi] have no temperature the output can
 * hold (logarithm undefined, below 0 K or above 65535 * scale); their entries
 * are clamped to the nearest valid one.  Returns false when no raw value is
 * valid at all (then the table is all zeros). */
bool   tc_radiometry_lut_build (uint16_t *lut, const TcChain *chain, double scale,
                                uint16_t *valid_lo, uint16_t *valid_hi);
/* Applies the table to a frame; returns the number of clamped pixels.
 * Strides are in bytes. */
uint64_t tc_radiometry_lut_apply (const uint16_t *lut, uint16_t valid_lo, uint16_t valid_hi,
                                  const uint8_t *src, size_t src_stride,
                                  uint8_t *dst, size_t dst_stride,
                                  int width, int height);
/* Highest temperature a scale holds, kelvin; and the scale auto picks for a range. */
double tc_scale_for_range (double range_max_c);

#ifdef __cplusplus
}
#endif
