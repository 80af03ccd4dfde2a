#!/usr/bin/env bash
# Every run in RESULTS.md's current configuration, one after another (about 50 minutes on a busy
# 2-core machine, load 4-8), then the tables.
set -euo pipefail
cd "$(dirname "$0")/../.."
run() { npx tsx examples/beyond-imitation/run.ts "$@"; }
for s in 0 1 2; do run --seed=$s --envArgs.seed=$s --runName=beyond-imitation-seed$s; done
run --runName=beyond-imitation-seed0-rerun   # the same seed-0 command again: timing and reproducibility
run --sftSteps=0 --runName=beyond-imitation-seed0-nosft
sft=runs/beyond-imitation-seed0/sft/checkpoints/step-000800
run --model=$sft --sftSteps=0 --loss=dr_grpo --advantageScale=none --runName=beyond-imitation-seed0-drgrpo
run --model=$sft --sftSteps=0 --groupSize=4 --promptsPerStep=64 --runName=beyond-imitation-seed0-g4
npx tsx examples/beyond-imitation/summarize.ts runs/beyond-imitation-seed{0,1,2} runs/beyond-imitation-seed0-{rerun,nosft,drgrpo,g4}
