#!/usr/bin/env bash
# Installs the W&B, MLflow and TensorBoard clients behind `--track` into tracking/.venv.
# With --server, also what `mlflow server` needs (the tests start a local MLflow tracking server).
# Measured on the 2-core dev machine under load: ~6 min for the clients, ~2 min more for --server.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x tracking/.venv/bin/python ] || "$PYTHON" -m venv tracking/.venv
tracking/.venv/bin/pip install --quiet --progress-bar off -r tracking/requirements.txt
if [ "${1:-}" = "--server" ]; then
  tracking/.venv/bin/pip install --quiet --progress-bar off -r tracking/requirements-server.txt
fi
echo "==> tracker clients ready in tracking/.venv"
