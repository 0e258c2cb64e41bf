#!/usr/bin/python3
"""What a user would write instead of thermocam's elements, timed on the same frames.

- the radiometric chain in numpy (Thermimage's raw2temp, vectorized);
- OpenCV's AGC and palette: min/max normalization to 8 bits, histogram
  equalization, applyColorMap.

Reads a raw frame and a temperature frame (uint16 little-endian files), prints JSON.
"""
import argparse
import json
import time

import cv2
import numpy as np


def raw2temp(raw, c, p):
    e, od = p["emissivity"], p["distance"]
    irt, rh = p["window_transmission"], p["relative_humidity"]
    atemp, rtemp, wtemp = p["atmospheric_temp"], p["reflected_temp"], p["window_temp"]
    r1, r2, b, f, o = c["r1"], c["r2"], c["b"], c["f"], c["o"]
    h2o = rh * np.exp(1.5587 + 0.06939 * atemp - 0.00027816 * atemp ** 2 + 0.00000068455 * atemp ** 3)
    tau = c["atx"] * np.exp(-np.sqrt(od / 2) * (c["ata1"] + c["atb1"] * np.sqrt(h2o))) + \
        (1 - c["atx"]) * np.exp(-np.sqrt(od / 2) * (c["ata2"] + c["atb2"] * np.sqrt(h2o)))

    def planck(t):
        return r1 / (r2 * (np.exp(b / (t + 273.15)) - f)) - o

    raw_refl = planck(rtemp)
    raw_atm = planck(atemp)
    raw_win = planck(wtemp)
    raw_obj = (raw / e / tau / irt / tau
               - (1 - tau) / e / tau * raw_atm
               - (1 - tau) / e / tau / irt / tau * raw_atm
               - (1 - irt) / e / tau / irt * raw_win
               - (1 - e) / e * raw_refl)
    return b / np.log(r1 / (r2 * (raw_obj + o)) + f) - 273.15


def median_ms(fn, frames):
    fn()  # warm up
    times = []
    for _ in range(frames):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, required=True)
    ap.add_argument("--height", type=int, required=True)
    ap.add_argument("--raw", required=True)
    ap.add_argument("--temperature", required=True)
    ap.add_argument("--frames", type=int, default=50)
    ap.add_argument("--calibration", required=True, help="JSON of the calibration and parameters")
    a = ap.parse_args()

    shape = (a.height, a.width)
    raw = np.fromfile(a.raw, dtype="<u2").reshape(shape)
    temp = np.fromfile(a.temperature, dtype="<u2").reshape(shape)
    cal = json.loads(open(a.calibration).read())

    # the chain as numpy users write it: float64 over the frame
    celsius = raw2temp(raw.astype(np.float64), cal["calibration"], cal["params"])
    numpy_ms = median_ms(lambda: raw2temp(raw.astype(np.float64), cal["calibration"], cal["params"]),
                         a.frames)

    def opencv_agc():
        eight = cv2.normalize(temp, None, 0, 255, cv2.NORM_MINMAX, dtype=cv2.CV_8U)
        eq = cv2.equalizeHist(eight)
        return cv2.applyColorMap(eq, cv2.COLORMAP_INFERNO)

    opencv_ms = median_ms(opencv_agc, a.frames)
    print(json.dumps({
        "numpy_radiometry_ms": round(numpy_ms, 4),
        "opencv_agc_colormap_ms": round(opencv_ms, 4),
        "numpy_mean_c": round(float(np.nanmean(celsius)), 4),
        "opencv_threads": cv2.getNumThreads(),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
    }))


if __name__ == "__main__":
    main()
