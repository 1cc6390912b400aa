#!/usr/bin/env bash
# Debian's Chromium for the browser end-to-end tests (test/browser/), driven by
# playwright-core through executablePath: a test tool's own browser download
# cannot be used here, so the distribution's package is the browser.
# Idempotent: with /usr/bin/chromium present it only reports the version.
EIP_NAME=chromium
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

CHROMIUM_BIN=${EIP_CHROMIUM:-/usr/bin/chromium}

take_lock
start=$SECONDS
if [[ -x $CHROMIUM_BIN ]]; then
  log "already installed: $("$CHROMIUM_BIN" --version 2>/dev/null || echo "$CHROMIUM_BIN")"
  exit 0
fi
[[ -f /etc/debian_version ]] || die "$CHROMIUM_BIN is missing and this is not a Debian-based system: install Chromium yourself and set EIP_CHROMIUM to its path"
command -v apt-get >/dev/null || die "$CHROMIUM_BIN is missing and apt-get is not available to install Debian's chromium package"
log "$CHROMIUM_BIN missing: installing Debian's chromium (and fonts-liberation, so text renders in screenshots)"
# apt_ensure runs apt-get update first on a fresh machine, non-interactively, -y.
apt_ensure chromium fonts-liberation
[[ -x $CHROMIUM_BIN ]] || die "the chromium package installed, but $CHROMIUM_BIN is still missing"
log "installed $("$CHROMIUM_BIN" --version 2>/dev/null || echo chromium) in $((SECONDS - start))s"
