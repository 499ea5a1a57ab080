#!/usr/bin/env bash
# Makes sure headless Chromium is installed for the browser test. As root
# with apt-get it installs Debian's chromium; otherwise it says what to run.
set -euo pipefail

for b in chromium chromium-browser google-chrome; do
  command -v "$b" >/dev/null 2>&1 && exit 0
done

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: installing Chromium (apt-get install chromium)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
  command -v chromium >/dev/null 2>&1 && exit 0
fi

cat >&2 <<'MSG'
ensure-chromium: the browser test needs Chromium. Install it, then run the command again:
  Debian/Ubuntu: sudo apt-get install -y chromium
  macOS:         brew install --cask chromium
Without CI set, the browser test is skipped when Chromium is missing.
MSG
[ -n "${CI:-}" ] && exit 1 || exit 0
