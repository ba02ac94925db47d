#!/usr/bin/env bash
# Set up and start the app. Extra arguments go to `streamlit run` (e.g. --server.port 8502).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
# Offline machines with the archives beside the checkout: import them once (md5-checked).
data_dir=$(.venv/bin/python -c "from mnistdemo.data import resolve_data_dir, raw_dir; print(raw_dir(resolve_data_dir()))")
if [ ! -f "$data_dir/t10k-labels-idx1-ubyte" ] && [ -d ../shared/mnist/MNIST/raw ]; then
  .venv/bin/python -m mnistdemo data --from ../shared/mnist/MNIST/raw
fi
exec .venv/bin/streamlit run app.py "$@"
