#!/usr/bin/env bash
# Every run in RESULTS.md's current configuration, one after another (about 25 minutes on a busy
# 2-core machine, load 3-6), then the tables. The test results and curves land in results/.
set -euo pipefail
cd "$(dirname "$0")/../.."
run() { npx tsx examples/beyond-imitation/run.ts "$@"; }
for s in 0 1 2; do run --seed=$s --envArgs.seed=$s --runName=beyond-imitation-seed$s; done
run --runName=beyond-imitation-seed0-rerun   # the same seed-0 command again: timing and reproducibility
run --sftSteps=0 --runName=beyond-imitation-seed0-nosft
sft=runs/beyond-imitation-seed0/sft/checkpoints/step-000800
run --model=$sft --sftSteps=0 --loss=dr_grpo --advantageScale=none --runName=beyond-imitation-seed0-drgrpo
run --model=$sft --sftSteps=0 --groupSize=4 --promptsPerStep=64 --runName=beyond-imitation-seed0-g4

results=examples/beyond-imitation/results
for s in 0 1 2; do
  cp runs/beyond-imitation-seed$s/test-results.json $results/seed$s-test-results.json
  cp runs/beyond-imitation-seed$s/curves.png $results/seed$s-curves.png
done
for a in rerun nosft drgrpo g4; do cp runs/beyond-imitation-seed0-$a/test-results.json $results/seed0-$a-test-results.json; done
npx tsx examples/beyond-imitation/summarize.ts runs/beyond-imitation-seed{0,1,2} runs/beyond-imitation-seed0-{rerun,nosft,drgrpo,g4}
