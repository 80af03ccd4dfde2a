#!/usr/bin/env bash
# Side-by-side GRPO benchmark: `keiko train` vs TRL's GRPOTrainer on the same keiko-created tiny
# model (HF format), same prompts, group size, completion length, batch and step count, on CPU,
# interleaved (keiko, TRL, keiko, TRL). Both run the whole batch (prompts x group) in one
# forward/backward (TRL: per_device_train_batch_size = batch; keiko: microBatchSize = batch).
# Writes bench/train/RESULTS.md.
# Usage: bash bench/train/run.sh [steps=20] [rounds=2]
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS=${1:-20}
ROUNDS=${2:-2}
WORK=bench/train/work
PPS=8; GROUP=8; MAXTOK=12; LR=1e-4; THREADS=1
ENVARGS='{"digits":1}'
mkdir -p "$WORK"

if [ ! -x bench/train/.venv/bin/python ]; then
  echo "==> TRL venv (bench/train/.venv, reusing the engine's torch/transformers)"
  python3 -m venv bench/train/.venv
  ls -d "$PWD"/engine/.venv/lib/python3*/site-packages > "$(ls -d bench/train/.venv/lib/python3*/site-packages)/engine-venv.pth"
  bench/train/.venv/bin/pip install --quiet trl
fi

MODEL="$WORK/prep/sft/checkpoints/step-000150"
if [ ! -f "$MODEL/config.json" ]; then
  echo "==> preparing the model: create + SFT (keiko train --steps=0)"
  ./bin/keiko.js train --outDir="$WORK" --runName=prep --envArgs.digits=1 --envArgs.demoErrorRate=0.3 --sftSteps=150 --steps=0 --evalExamples=1 >/dev/null
fi
npx tsx bench/train/write-prompts.ts "$WORK/prompts.jsonl" "$ENVARGS"

# NAME STEPS: one run of each side; /usr/bin/time writes the process wall time (start-up included).
keiko_run() {
  rm -rf "$WORK/$1"
  /usr/bin/time -f "%e" -o "$WORK/$1.wall" ./bin/keiko.js train --model="$MODEL" --outDir="$WORK" --runName="$1" \
    --envArgs.digits=1 --steps="$2" --promptsPerStep=$PPS --groupSize=$GROUP --maxTokens=$MAXTOK --lr=$LR --threads=$THREADS \
    --microBatchSize=$((PPS * GROUP)) --zeroVariance=keep --isCorrection=false --checkpointEvery=off --evalExamples=1 --logRollouts=0 >/dev/null
}
trl_run() {
  /usr/bin/time -f "%e" -o "$WORK/$1.wall" bench/train/.venv/bin/python bench/train/trl_grpo.py --model "$MODEL" --prompts "$WORK/prompts.jsonl" \
    --steps "$2" --prompts-per-step $PPS --group-size $GROUP --max-tokens $MAXTOK --lr $LR --threads $THREADS --out "$WORK/$1.json" >/dev/null
}

for round in $(seq 1 "$ROUNDS"); do
  cut -d' ' -f1 /proc/loadavg > "$WORK/load-$round"
  echo "==> round $round: keiko"; keiko_run "keiko-$round" "$STEPS"
  echo "==> round $round: TRL"; trl_run "trl-$round" "$STEPS"
done
python3 bench/train/report.py "$WORK" "$ROUNDS" "$STEPS" > bench/train/RESULTS.md
cat bench/train/RESULTS.md
