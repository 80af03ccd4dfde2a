#!/usr/bin/env bash
# Installs verifiers (PyPI) and the benchmark's taskset + harness into bench/eval/.venv, apart from
# keiko's own setup. `uv` is needed by verifiers' built-in harnesses to run their chat program.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet "verifiers==${VERIFIERS_VERSION:-0.4.0}" uv
.venv/bin/pip install --quiet -e vf_arith
.venv/bin/python -c "import verifiers; print('verifiers', verifiers.__version__)"
