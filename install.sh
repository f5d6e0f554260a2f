#!/usr/bin/env bash
# Install everything the crawler and its tests need on a fresh Debian machine (run as root, or
# with sudo available for the system packages):
#   - Python packages into .venv (requirements.txt, pinned);
#   - the site builders the tests build the output with: Jekyll (Debian), Eleventy and Hexo (npm,
#     at the versions their lock files pin);
#   - redis-server (Debian) for the distributed-mode tests;
#   - chromium (Debian) and a CJK font, for the tests that open the built sites in a browser
#     (Playwright drives /usr/bin/chromium; it never downloads a browser of its own).
set -euo pipefail
cd "$(dirname "$0")"
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v jekyll >/dev/null || missing+=(jekyll)
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  sudo_if_needed apt-get update -qq
  sudo_if_needed apt-get install -y -qq "${missing[@]}"
fi
(cd examples/eleventy && npm ci --no-audit --no-fund)
(cd examples/hexo && npm ci --no-audit --no-fund)
python3 -m venv .venv
.venv/bin/pip install -r requirements.txt
