"""TRL GRPOTrainer on the same tiny model, prompts and settings as `keiko train`, with a time split.

Usage: bench/train/.venv/bin/python bench/train/trl_grpo.py --model DIR --prompts prompts.jsonl \
         --steps 20 --prompts-per-step 8 --group-size 8 --max-tokens 12 --lr 1e-4 --out trl.json
Each prompts.jsonl line: {"prompt": [chat messages], "answer": <int>} (written by bench/train/run.ts).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time

ANSWER = re.compile(r"<answer>\s*(-?\d+)\s*</answer>")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--prompts", required=True)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--prompts-per-step", type=int, default=8)
    p.add_argument("--group-size", type=int, default=8)
    p.add_argument("--max-tokens", type=int, default=12)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    a = p.parse_args()

    import torch

    torch.set_num_threads(a.threads)
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    rows = [json.loads(line) for line in open(a.prompts, encoding="utf-8") if line.strip()]
    dataset = Dataset.from_list([{"prompt": r["prompt"], "answer": r["answer"]} for r in rows])
    tokenizer = AutoTokenizer.from_pretrained(a.model)
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)

    timing = {"sampling": 0.0, "scoring": 0.0, "prepare": 0.0, "step": []}

    def correct(completions, answer, **_):
        out = []
        for c, ans in zip(completions, answer):
            text = c[-1]["content"] if isinstance(c, list) else c
            m = ANSWER.search(text or "")
            out.append(1.0 if m and int(m.group(1)) == int(ans) else 0.0)
        return out

    class TimedGRPOTrainer(GRPOTrainer):
        def _generate(self, prompts):
            t = time.perf_counter()
            try:
                return super()._generate(prompts)
            finally:
                timing["sampling"] += time.perf_counter() - t

        def _calculate_rewards(self, *args, **kwargs):
            t = time.perf_counter()
            try:
                return super()._calculate_rewards(*args, **kwargs)
            finally:
                timing["scoring"] += time.perf_counter() - t

        def _generate_and_score_completions(self, *args, **kwargs):
            t = time.perf_counter()
            try:
                return super()._generate_and_score_completions(*args, **kwargs)
            finally:
                timing["prepare"] += time.perf_counter() - t

        def training_step(self, *args, **kwargs):
            t = time.perf_counter()
            try:
                return super().training_step(*args, **kwargs)
            finally:
                timing["step"].append(time.perf_counter() - t)

    batch = a.prompts_per_step * a.group_size
    config = GRPOConfig(
        output_dir=os.path.join(os.path.dirname(os.path.abspath(a.out)), "trl-output"),
        per_device_train_batch_size=batch,
        gradient_accumulation_steps=1,
        num_generations=a.group_size,
        max_completion_length=a.max_tokens,
        temperature=1.0,
        learning_rate=a.lr,
        lr_scheduler_type="constant",
        warmup_steps=0,
        max_grad_norm=1.0,
        beta=0.0,
        loss_type="grpo",
        scale_rewards="group",
        num_iterations=1,
        max_steps=a.steps,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        bf16=False,
        seed=a.seed,
        disable_tqdm=True,
    )
    trainer = TimedGRPOTrainer(model=model, processing_class=tokenizer, reward_funcs=[correct], args=config, train_dataset=dataset)
    t0 = time.perf_counter()
    trainer.train()
    total = time.perf_counter() - t0
    rewards = [h["reward"] for h in trainer.state.log_history if "reward" in h]
    steps = timing["step"]
    result = {
        "steps": len(steps),
        "total_seconds": total,
        "step_seconds": steps,
        "sampling_seconds": timing["sampling"],
        "scoring_seconds": timing["scoring"],
        # generation + scoring + TRL's own logprob passes happen inside training_step's input preparation
        "prepare_seconds": timing["prepare"],
        "training_seconds": sum(steps) - timing["prepare"],
        "rewards": rewards,
        "threads": a.threads,
    }
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    print(json.dumps({k: v for k, v in result.items() if k != "step_seconds"}))


if __name__ == "__main__":
    main()
