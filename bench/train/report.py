"""Summarises bench/train/work into the Markdown of RESULTS.md (stdout)."""

import json
import os
import platform
import statistics
import sys

work, rounds, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


def wall(name):
    try:
        return float(open(os.path.join(work, name + ".wall")).read().split()[-1])
    except (OSError, ValueError, IndexError):
        return float("nan")


rows = []
for r in range(1, rounds + 1):
    ms = [json.loads(l) for l in open(os.path.join(work, f"keiko-{r}", "metrics.jsonl")) if l.strip()]
    k_steps = [m["stepSeconds"] for m in ms]
    rows.append(("keiko", r, statistics.median(k_steps), sum(k_steps), sum(m["samplingSeconds"] for m in ms),
                 sum(m["scoringSeconds"] for m in ms), sum(m["trainingSeconds"] for m in ms), wall(f"keiko-{r}"),
                 statistics.mean(m["reward"] for m in ms)))
    t = json.load(open(os.path.join(work, f"trl-{r}.json")))
    other = t["prepare_seconds"] - t["sampling_seconds"] - t["scoring_seconds"]
    rows.append(("TRL", r, statistics.median(t["step_seconds"]), sum(t["step_seconds"]), t["sampling_seconds"],
                 t["scoring_seconds"], t["training_seconds"] + other, wall(f"trl-{r}"), statistics.mean(t["rewards"]) if t["rewards"] else float("nan")))

print("# GRPO step time: keiko vs TRL GRPOTrainer (CPU)\n")
print(f"Reproduce: `bash bench/train/run.sh {steps} {rounds}` (from the repository root, after `bash scripts/setup.sh`).\n")
print(f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, no GPU. Both sides: the same keiko-created tiny model "
      "(HF format, created + SFT-warm-started by keiko), the arithmetic prompts (1-digit +), 8 prompts × 8 samples per step, "
      f"max 12 completion tokens, temperature 1, lr 1e-4, grpo loss, no KL, one optimizer step per batch, the whole batch of 64 "
      f"in one forward/backward (TRL per_device_train_batch_size=64, keiko microBatchSize=64), {steps} steps, 1 torch thread, "
      "run one after the other, interleaved.\n")
def round_load(r):
    try:
        return float(open(os.path.join(work, f"load-{r}")).read())
    except (OSError, ValueError):
        return float("nan")


print("| run | round | load at round start | median s/step | sum of steps (s) | sampling (s) | scoring (s) | training (s) | process wall (s) | mean train reward |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for name, r, med, tot, samp, score, train, w, rew in rows:
    print(f"| {name} | {r} | {round_load(r):.1f} | {med:.3f} | {tot:.1f} | {samp:.1f} | {score:.3f} | {train:.1f} | {w:.1f} | {rew:.3f} |")
k = statistics.median([x[2] for x in rows if x[0] == "keiko"])
t = statistics.median([x[2] for x in rows if x[0] == "TRL"])
print(f"\n**Median step time ratio TRL / keiko: {t / k:.2f}×** (keiko {k:.3f} s/step, TRL {t:.3f} s/step; >1 means keiko is faster).\n")
load = os.getloadavg()
print(f"Load average when the report was written: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) on {os.cpu_count()} cores. "
      "A load well above the core count means other processes shared the CPU and the per-round numbers are noisy; "
      "compare rounds, and rerun on an idle machine for a clean figure.\n")
print("Time split: keiko's sampling = rollouts through the engine (the step's 8 prompts × n=8 in one batch request, one "
      "generation pass), scoring = the TypeScript rubric, training = one engine forward_backward call over HTTP with the "
      "optimizer step in the same call. TRL's sampling = `_generate`, scoring = "
      "`_calculate_rewards`, training = the rest of `training_step` (its extra logprob passes, loss, backward, optimizer). "
      "Process wall time includes start-up (engine spawn and model load for keiko; imports and model load for TRL) and keiko's "
      "1-example before/after evals.")
