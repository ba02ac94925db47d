#!/usr/bin/env bash
# Set up and run every check: ruff (lint and format), then unit, integration on the real MNIST,
# AppTest and headless Chromium tests. Extra arguments go to pytest (e.g. -k drawing).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then  # Debian's browser for the end-to-end tests
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
bash scripts/setup.sh requirements-dev.txt
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
