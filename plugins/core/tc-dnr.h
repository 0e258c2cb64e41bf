/* thermocam: digital noise reduction (temporal and spatial)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * For the video branch (what a palette draws), never for measurement.  The
 * input is a uint16 frame (temperature counts, linear in kelvin at some scale,
 * or any 16-bit intensities).  Two filters, each with its own strength:
 *
 * - temporal: a recursive (IIR) filter per pixel.  The accumulated value moves
 *   towards each new frame by a small weight while the difference looks like
 *   noise (below the threshold); the weight rises linearly to 1 between the
 *   threshold and twice it, so a moving or changing object is taken at once
 *   and does not smear.  The accumulator keeps 6 fractional bits and rounds
 *   to nearest, so the filter does not drift (no dead band around a level).
 * - spatial: one pass of an edge-preserving 3x3 filter on the temporal
 *   output: out = c + strength * sum(w_i * psi(n_i - c)) / 16, w the 1-2-1
 *   Gaussian weights, psi(d) = d up to the threshold, falling to 0 at twice
 *   it (a "tent" influence function), so neighbours across an edge stronger
 *   than twice the threshold do not count and the edge stays sharp, while
 *   flat areas get the full Gaussian.  16-bit integer arithmetic with
 *   saturating subtractions, no division, no table lookups: SSE2 (AVX2 when
 *   the CPU has it, chosen once) on x86, vectorized C elsewhere.
 *
 * The levels stand for thresholds in kelvin (tc_dnr_params_for_levels()
 * turns them into counts with the frame's scale), so a level means the same
 * on a 0.01 K and a 0.1 K stream.  A TcDnr holds
 * the temporal state and three rows of scratch; tc_dnr_process() allocates
 * nothing.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct TcDnr TcDnr;

typedef struct {
  /* temporal: the weight of a new frame in 1/256 (256 = no filtering, off);
   * threshold in counts (> 0 when on): |new - accumulated| below it is
   * noise, from twice it the new value is taken whole */
  int temporal_weight;
  double temporal_threshold;
  /* spatial: strength 0..256 (0 = off); threshold in counts: neighbours
   * closer than it are averaged, those beyond twice it are left out */
  int spatial_strength;
  double spatial_threshold;
} TcDnrParams;

/* The parameters levels 0..100 stand for (0 = that filter off) on frames of
 * @kelvin_per_count (<= 0: 0.01).  Temporal: weight 2^-(1 + 3 L/100) (1/2 ..
 * 1/16), threshold 0.06 + 0.54 L/100 K.  Spatial: strength 0.25 + 0.75 L/50
 * (full from level 50), threshold 0.05 + 0.45 L/100 K. */
void tc_dnr_params_for_levels (TcDnrParams *p, int spatial_level, int temporal_level,
                               double kelvin_per_count);

TcDnr *tc_dnr_new (void);
void tc_dnr_free (TcDnr *d);
/* Frame geometry; allocates the state.  A new size resets the temporal
 * filter; the same size keeps it.  False on a bad size or out of memory. */
bool tc_dnr_configure (TcDnr *d, int width, int height);
/* Parameters (cheap: call it when they change).  Turning the temporal filter
 * off forgets its state. */
void tc_dnr_set_params (TcDnr *d, const TcDnrParams *p);
void tc_dnr_get_params (const TcDnr *d, TcDnrParams *p);
/* The next frame starts the temporal filter afresh (a discontinuity). */
void tc_dnr_reset (TcDnr *d);
/* Which kernels run (the results are the same, bit for bit): plain C (which
 * the compiler vectorizes for the target's baseline), the baseline's SIMD
 * (SSE2 on x86-64), or the best the CPU has (AVX2 on x86, the default).
 * Asking for more than the CPU has gives what it has; returns the choice in
 * effect.  For tests and benchmarks. */
enum { TC_DNR_SIMD_NONE, TC_DNR_SIMD_BASELINE, TC_DNR_SIMD_BEST };
int tc_dnr_set_simd (TcDnr *d, int simd);
/* One frame (strides in bytes); @src and @dst must not overlap.  Does
 * nothing before tc_dnr_configure(). */
void tc_dnr_process (TcDnr *d, const uint8_t *src, size_t src_stride,
                     uint8_t *dst, size_t dst_stride);

#ifdef __cplusplus
}
#endif
