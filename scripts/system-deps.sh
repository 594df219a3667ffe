#!/usr/bin/env bash
# System packages the test suite needs: Debian's Chromium (the browser tests), fonts with every Kazakh letter and
# PostgreSQL's server (the tests start a real one).
# Idempotent and quiet when everything is there; needs root (or sudo) only when something is missing.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need+=(fonts-dejavu-core)
dpkg -s fonts-noto-core >/dev/null 2>&1 || need+=(fonts-noto-core)
# PostgreSQL's server programs (the tests start their own server on a private port; no system service is used)
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "system-deps: need root to install: ${need[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "system-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
