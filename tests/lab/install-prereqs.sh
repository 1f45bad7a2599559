#!/usr/bin/env bash
# Installs the Debian packages the lab and tests need (idempotent; quiet when all present).
set -euo pipefail
PKGS=(golang-go golang-github-vmware-govmomi-dev openssh-server openssh-client busybox-static gzip procps iproute2 util-linux passwd coreutils chromium shellcheck)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The distribution's sshd service must not grab port 22 or the lab's keys: the lab runs its own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled ssh >/dev/null 2>&1; then
  systemctl disable --now ssh >/dev/null 2>&1 || true
fi
