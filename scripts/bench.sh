#!/usr/bin/env bash
# Prints the per-element cost figures (JSON), with OpenCV and numpy doing the
# same work for comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh python3-opencv python3-numpy >&2   # stdout is the JSON
GST_PLUGIN_PATH="$PWD/build/plugins/gst" build/tests/bench/bench-elements "$@"
