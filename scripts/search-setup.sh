#!/usr/bin/env bash
# Installs the Debian dictionary databases the search emulator's built-in corpus is built from
# (dictd .index/.dict.dz files under /usr/share/dictd). Idempotent: installs only what is missing.
# Skipped quietly (with a warning) where apt-get is unavailable or we are not root.
set -uo pipefail
PKGS="dict-foldoc dict-jargon dict-gcide dict-wn"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then echo "==> search corpus sources: already installed"; exit 0; fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "warning: cannot install$missing (need apt-get as root); the built-in search corpus will lack them"; exit 0
fi
echo "==> search corpus sources (Debian):$missing"
apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null \
  || echo "warning: could not install$missing"
