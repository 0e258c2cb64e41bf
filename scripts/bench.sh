#!/usr/bin/env bash
# Prints the per-element cost figures (JSON), with OpenCV and numpy doing the
# same work for comparison, then the daemon's (CPU with one RTSP client,
# capture-to-RTP and capture-to-alarm delays) and the web page's (glass to
# glass, CPU with page viewers, radiometric frames), MQTT's (CPU with the
# readings of 40 rules published every frame) and the history's (a day of
# 40 rules queried, CPU with the history writing on against off):
# {"elements": ..., "daemon": ..., "web": ..., "mqtt": ..., "history": ...}
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh python3-opencv python3-numpy >&2   # stdout is the JSON
elements=$(GST_PLUGIN_PATH="$PWD/build/plugins/gst" build/tests/bench/bench-elements "$@")
daemon=$(THERMOCAM_BUILD="$PWD/build" /usr/bin/python3 tests/bench/bench-daemon.py 20)
web=$(THERMOCAM_BUILD="$PWD/build" /usr/bin/python3 tests/bench/bench-web.py 15)
mqtt=$(THERMOCAM_BUILD="$PWD/build" /usr/bin/python3 tests/bench/bench-mqtt.py 20)
history=$(THERMOCAM_BUILD="$PWD/build" /usr/bin/python3 tests/bench/bench-history.py 40)
printf '{"elements": %s,\n "daemon": %s,\n "web": %s,\n "mqtt": %s,\n "history": %s}\n' "$elements" "$daemon" "$web" "$mqtt" "$history"
