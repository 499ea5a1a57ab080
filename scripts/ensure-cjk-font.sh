#!/usr/bin/env bash
# Makes sure a Japanese font is installed, so that screenshots of the
# Japanese pages show text rather than empty boxes. As root with apt-get it
# installs Debian's IPA Gothic; otherwise it says what to run.
set -euo pipefail

if command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=ja 2>/dev/null)" ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-cjk-font: installing a Japanese font (apt-get install fonts-ipafont-gothic)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends fonts-ipafont-gothic fontconfig >/dev/null
  exit 0
fi
cat >&2 <<'MSG'
ensure-cjk-font: the Japanese screenshots need a Japanese font. Install one, then run the command again:
  Debian/Ubuntu: sudo apt-get install -y fonts-ipafont-gothic
MSG
exit 1
