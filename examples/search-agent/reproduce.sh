#!/usr/bin/env bash
# The runs in RESULTS.md: one per training seed (model init, SFT order, sampling; the questions and
# their split stay seed 0), about 15-25 minutes each on 2 cores, then their held-out test results,
# curves and tool-use chains copied into results/. SEEDS="0 1" runs more seeds.
set -euo pipefail
cd "$(dirname "$0")/../.."
results=examples/search-agent/results
for s in ${SEEDS:-0}; do
  run=runs/search-agent-seed$s
  if [ -e "$run" ]; then echo "reproduce.sh: $run already exists (an earlier run); move or delete it first" >&2; exit 2; fi
  npx tsx examples/search-agent/run.ts --seed="$s" --runName="search-agent-seed$s"
  cp "$run/test-results.json" "$results/seed$s-test-results.json"
  cp "$run/curves.png" "$results/seed$s-curves.png"
  npx tsx examples/search-agent/copy-stats.ts "$run/test/sft.jsonl" "$run/test/grpo.jsonl" | tee "$results/seed$s-chain.txt"
done
