#!/usr/bin/env bash
# Debian's chromium, for the report test (tests/report opens the HTML report in headless Chromium).
# Installed with apt-get when missing and running as root; otherwise a message says what to do.
# Under CI=true a missing Chromium is an error (the report test fails too, it never skips).
set -euo pipefail

find_chromium() {
  for name in chromium chromium-browser google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  done
  return 1
}

if found=$(find_chromium); then
  echo "chromium: $found"
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium: installing Debian's chromium (apt-get)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
  if found=$(find_chromium); then
    echo "chromium: $found"
    exit 0
  fi
fi

echo "chromium is missing: install it (Debian/Ubuntu: sudo apt-get install chromium)." >&2
echo "The report test needs it to open the HTML report in headless Chromium." >&2
case "${CI:-}" in
  1|true|TRUE|True) exit 1 ;;
  *) echo "(outside CI the report's browser test is skipped)" >&2; exit 0 ;;
esac
