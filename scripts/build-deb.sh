#!/usr/bin/env bash
# Builds the Debian packages of thermocam (debian/: dh with meson) from this
# tree's files (tracked and new, not ignored) and checks them with lintian.
#   scripts/build-deb.sh [OUTDIR]      (default: build-deb/)
# The tree is copied to a fixed place (/var/tmp/thermocam-deb) so that ccache
# finds the objects of the previous build; the project's tests are not run
# (DEB_BUILD_OPTIONS=nocheck; CI runs them).  Prints the .deb files, then
# lintian's tags (lintian.txt in OUTDIR).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
out=$(realpath -m "${1:-build-deb}")
work=${THERMOCAM_DEB_WORK:-/var/tmp/thermocam-deb}
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
src=$work/thermocam-$version

for tool in dpkg-buildpackage dh lintian; do
  command -v "$tool" >/dev/null || { echo "build-deb: $tool is missing (scripts/setup.sh)" >&2; exit 2; }
done
rm -rf "$src" "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes
mkdir -p "$src" "$out"
git -C "$top" ls-files -z --cached --others --exclude-standard \
  | (cd "$top" && xargs -0 tar --no-recursion -cf - --ignore-failed-read) | tar -C "$src" -xf -

cd "$src"
# debhelper gives the build a HOME of its own: ccache's cache is the caller's
if command -v ccache >/dev/null; then
  CCACHE_DIR=${CCACHE_DIR:-$(ccache -k cache_dir)}
  export CCACHE_DIR
fi
export DEB_BUILD_OPTIONS="nocheck parallel=${THERMOCAM_DEB_JOBS:-2} ${DEB_BUILD_OPTIONS:-}"
# binary packages only (a native source tarball is not needed here)
dpkg-buildpackage -b -uc -us >"$work/build.log" 2>&1 || {
  tail -60 "$work/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed (the whole log: $work/build.log)" >&2
  exit 1
}
rm -f "$out"/*.deb
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
# the copy and its objects are not needed again (ccache keeps what a next
# build at the same place reuses)
cd "$out"
rm -rf "$src"
ls -1 "$out"/*.deb
# lintian's tags, every level but the pedantic and experimental
lintian --info --display-level ">=info" --tag-display-limit 0 ./*.changes >lintian.txt 2>&1 || true
cat lintian.txt
