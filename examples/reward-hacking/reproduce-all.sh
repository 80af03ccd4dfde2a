#!/usr/bin/env bash
# The three seeds of examples/reward-hacking/RESULTS.md: each runs create → SFT → GRPO with the guards
# watching → GRPO with the guard enforced → held-out test scoring, into runs/reward-hacking-seed<N>[-guarded].
set -euo pipefail
cd "$(dirname "$0")/../.."
for seed in ${SEEDS:-0 1 2}; do
  npx tsx examples/reward-hacking/run.ts --seed="$seed" --envArgs.seed="$seed" --runName="reward-hacking-seed$seed" "$@"
done
