#!/usr/bin/env bash
# Sets up everything the tests need (npm, the Python engine, Chromium for the dashboard test) and
# runs all tests: type-check, lint, vitest (TypeScript), pytest (engine). Ends with one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || exit 1
if ! command -v chromium >/dev/null 2>&1; then
  echo "==> Chromium (Debian) for the dashboard browser test"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "warning: could not install chromium"
fi

if ! command -v bwrap >/dev/null 2>&1; then
  echo "==> bubblewrap (Debian) for the code sandbox's tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null) || echo "warning: could not install bubblewrap"
fi

mkdir -p test-artifacts
status=0
# vLLM's CPU build in its own venv, for test/vllm.test.ts (~4-8 min the first time, seconds after)
echo "==> vLLM (scripts/vllm-setup.sh)"
bash scripts/vllm-setup.sh || { echo "error: vLLM setup failed; test/vllm.test.ts will be skipped" >&2; status=1; }
# Tests that need a prerequisite skip themselves where it is missing (a contributor's machine); in
# this script a missing one fails the run instead, so CI never passes by skipping.
echo "==> prerequisites"
for need in engine/.venv/bin/python tracking/.venv/bin/python "${KEIKO_VLLM_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/keiko/vllm-venv}/bin/python"; do
  [ -x "$need" ] || { echo "error: $need is missing; the tests that need it would be skipped" >&2; status=1; }
done
for tool in bwrap chromium; do
  command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool is not installed; the tests that need it would be skipped" >&2; status=1; }
done
echo "==> type-check"; npm run --silent typecheck || status=1
echo "==> lint"; npm run --silent lint || status=1

echo "==> vitest"
npx vitest run --reporter=default --reporter=json --outputFile=test-artifacts/vitest.json || status=1

echo "==> pytest (engine)"
engine/.venv/bin/python -m pytest engine/tests -q -p no:cacheprovider --junitxml=test-artifacts/pytest.xml || status=1

node scripts/test-summary.mjs test-artifacts/vitest.json test-artifacts/pytest.xml || status=1
exit $status
