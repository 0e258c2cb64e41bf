#!/usr/bin/env bash
# Renders a few seconds of the simulated camera through the whole thermal
# pipeline (sensor -> NUC -> radiometry -> palette -> H.264/MP4).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

out="$PWD/build/thermocam-demo.mp4"
export GST_PLUGIN_PATH="$PWD/build/plugins/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
gst-launch-1.0 -q -e \
  thermalsrc num-buffers=125 \
  ! video/x-raw,width=640,height=512,framerate=25/1 \
  ! thermalnuc ! thermalradiometry \
  ! thermalpalette palette=ironbow \
  ! video/x-raw,format=I420 \
  ! x264enc speed-preset=veryfast tune=zerolatency \
  ! mp4mux ! filesink location="$out"
echo "thermocam: 5 s of the simulated camera rendered to $out"
