#!/bin/sh
# Makes an Ed25519 key pair for signing upgrade packages (development).
#   scripts/upgrade-key.sh [DIR]      (default: ~/.config/thermocam)
# DIR/upgrade-key.pem is the private key: keep it there, never commit it
# (.gitignore refuses upgrade-key*.pem); DIR/upgrade-key.pub.pem is the
# public key a device trusts once it is in its STATE_DIR/keys/ (or in
# share/thermocam/keys/ of the installed software). Then:
#   build/appliance/thermocam package --tree TREE --version V \
#       --key DIR/upgrade-key.pem -o thermocam-V.tcpkg
set -eu
dir=${1:-"${XDG_CONFIG_HOME:-$HOME/.config}/thermocam"}
mkdir -p "$dir"
umask 077
if [ -e "$dir/upgrade-key.pem" ]; then
  echo "$dir/upgrade-key.pem exists already; not replaced" >&2
  exit 1
fi
openssl genpkey -algorithm ed25519 -out "$dir/upgrade-key.pem"
openssl pkey -in "$dir/upgrade-key.pem" -pubout -out "$dir/upgrade-key.pub.pem"
chmod 644 "$dir/upgrade-key.pub.pem"
echo "private: $dir/upgrade-key.pem"
echo "public:  $dir/upgrade-key.pub.pem (copy it to STATE_DIR/keys/ of the device)"
