#!/usr/bin/env bash
# Builds thermocam (warnings are errors) and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
meson test -C build --print-errorlogs "$@"
