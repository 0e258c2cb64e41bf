#!/usr/bin/env bash
# Installs what thermocam needs on Debian 12 (if missing) and builds it into build/.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  meson ninja-build pkg-config gcc
  libglib2.0-dev libjson-glib-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-ugly
  libpango1.0-dev libcairo2-dev fonts-dejavu-core
  libpng-dev libtiff-dev libjpeg-dev libdeflate-dev
  libimage-exiftool-perl python3-yaml
  libgstrtspserver-1.0-dev libsoup-3.0-dev libssl-dev
  python3 curl ffmpeg openssl glib-networking iproute2
  libmodbus-dev mbpoll socat python3-pymodbus python3-serial python3-serial-asyncio
  libcurl4-openssl-dev python3-pyftpdlib python3-aiosmtpd
  libmosquitto-dev mosquitto mosquitto-clients
  # the metas from Python (GObject introspection) and the examples
  gobject-introspection libgirepository1.0-dev gir1.2-gstreamer-1.0 python3-gi python3-numpy
  # the history (SQLite) and the check of /metrics (promtool)
  libsqlite3-dev sqlite3 prometheus
  # ONVIF (SOAP with libxml2; python3-zeep as a real client), SNMP (net-snmp), UPnP (miniupnpc,
  # miniupnpd as the test's gateway), time (chronyd and faketime in the tests), DSCP captures
  libxml2-dev libxml2-utils python3-zeep libsnmp-dev snmp snmpd snmptrapd
  libminiupnpc-dev miniupnpd chrony faketime tcpdump
  # e2e-upnp: miniupnpd's nftables flavour and nft, which makes the chains it fills
  miniupnpd-nftables nftables
  # the camera as a service: sd_notify, the Debian package
  libsystemd-dev systemd debhelper dpkg-dev fakeroot lintian
  # the network backend's 802.1X configuration parsed by wpa_supplicant itself (test-net)
  wpasupplicant
  # the web page's browser tests: Debian's Chromium, fonts for the Chinese catalog
  nodejs chromium fonts-noto-cjk
  "$@"
)
# Debian's npm comes apart from its nodejs; another nodejs may bring its own
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# the browser tests' npm packages, as package-lock.json pins them; again when the
# lockfile changed since the last install
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # the rest of the tests do not need it: a failure here fails only tests/web
  npm ci --no-audit --no-fund || echo "npm ci failed: the browser tests (tests/web) cannot run" >&2
fi

if [ ! -f build/build.ninja ]; then
  # warnings are errors: CI builds exactly this way
  meson setup build --werror
fi
ninja -C build
