#!/usr/bin/env bash
# Runs the camera: thermocamd with the simulated sensor (installs and builds
# first).  Extra arguments go to thermocamd (--source v4l2:/dev/video0,
# --state-dir DIR, --http-port N, --rtsp-port N; port 0 = any free port).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >&2

cat >&2 <<'TXT'
thermocam: starting the camera (simulated sensor); Ctrl-C stops it.
  web page   http://127.0.0.1:8080/  (activation the first time, then login and the live view)
  or, without a browser:
  1. activate it once (creates the user admin):
       curl -X POST -d '{"password": "Your#Passw0rd"}' http://127.0.0.1:8080/api/v1/activate
  2. then, with Digest authentication as admin:
       API        http://127.0.0.1:8080/api/v1/  (routes: /api/v1/openapi.yaml)
       readings   curl --digest -u admin:Your#Passw0rd http://127.0.0.1:8080/api/v1/temperatures
       live view  http://127.0.0.1:8080/api/v1/live.mjpeg
       RTSP       rtsp://127.0.0.1:8554/Streaming/Channels/101 (main), /102 (sub)
  (the ready line below gives the real ports when they differ)
TXT
exec build/appliance/thermocamd "$@"
