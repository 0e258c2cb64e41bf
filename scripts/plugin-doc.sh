#!/usr/bin/env bash
# Writes the plugin's documentation cache (plugins/gst/doc/gst_plugins_cache.json)
# from the plugin in build/: run it after changing an element, its pads or its
# properties, and commit the result (the test plugin-doc fails until then).
set -euo pipefail
cd "$(dirname "$0")/.."
ninja -C build plugins/gst/doc/plugin-doc plugins/gst/libgstthermal.so >/dev/null
GST_PLUGIN_PATH="$PWD/build/plugins/gst" GST_REGISTRY_1_0="$PWD/build/plugins/gst/doc/registry.bin" \
  build/plugins/gst/doc/plugin-doc > plugins/gst/doc/gst_plugins_cache.json
echo "plugins/gst/doc/gst_plugins_cache.json written"
