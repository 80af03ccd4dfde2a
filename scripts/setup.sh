#!/usr/bin/env bash
# Sets up keiko on a fresh machine: npm dependencies, and the Python engine in engine/.venv
# (PyTorch, transformers, tokenizers, safetensors, peft from PyPI).
# Measured on a fresh 2-core machine: ~1-3 min for npm, ~3-6 min for the engine (torch pulls ~3 GB
# of CUDA libraries from PyPI even on CPU machines; they are installed but unused without a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> npm dependencies"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

echo "==> dashboard page (Vite build into src/dashboard/web/dist)"
npm run --silent build:web

echo "==> Python engine (engine/.venv)"
PYTHON=${PYTHON:-python3}
if ! engine/.venv/bin/python -c 'import torch' >/dev/null 2>&1; then
  # A fresh engine venv takes ~5.6 GB (torch and its CUDA wheels); pip fails half-way without it.
  free_kb=$(df -Pk engine | awk 'NR == 2 { print $4 }')
  if [ "${free_kb:-0}" -lt $((6500 * 1024)) ]; then
    echo "setup: only $((free_kb / 1024)) MB free on the disk holding $(pwd)/engine; the engine's venv needs about 6.5 GB (PyTorch). Free some space and run this again." >&2
    exit 1
  fi
fi
if [ ! -x engine/.venv/bin/python ]; then
  "$PYTHON" -m venv engine/.venv
fi
engine/.venv/bin/pip install --quiet --upgrade pip
# engine/constraints.txt pins every Python package to the versions CI tests (keiko setup uses it too).
engine/.venv/bin/pip install --quiet --progress-bar off --constraint engine/constraints.txt -e "engine[dev]"
bash scripts/search-setup.sh  # Debian dictionaries for the search emulator's built-in corpus
# W&B / MLflow / TensorBoard clients for --track, and what the tests' local MLflow server needs.
bash scripts/setup-tracking.sh --server
echo "==> setup done"
