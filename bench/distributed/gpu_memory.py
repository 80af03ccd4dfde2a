"""Peak GPU memory of one GRPO step on the FSDP2 engine, beside the memory plan's estimate.

For a machine with GPUs (the 1-GPU case: `--ranks 1`). Builds a randomly initialised model with a
preset's shape (no download: the weights are random, only memory and time matter), starts the
engine's `DistributedEngine` under torchrun (NCCL, bf16 compute), runs one forward/backward on
`--tokens` tokens plus an AdamW step, and prints each rank's `torch.cuda.max_memory_allocated`
beside `python -m keiko_engine plan` for the same shape. On a CPU (`--device cpu`, gloo) it runs the
same code on a small preset as a smoke test and reports no memory figure.

    engine/.venv/bin/python bench/distributed/gpu_memory.py --preset qwen2.5-0.5b --ranks 1 --tokens 4096 --json bench/distributed/gpu-memory.json
    engine/.venv/bin/python bench/distributed/gpu_memory.py --device cpu --preset tiny --tokens 256   # smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"
sys.path.insert(0, str(ENGINE))

TINY = dict(hidden_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, intermediate_size=352,
            vocab_size=512, tie_word_embeddings=True)


def build_model(preset: str, out: Path) -> Path:
    """A random model of the preset's shape with a keiko-created tokenizer (its ids are all < vocab)."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from keiko_engine.create_model import CreateConfig, create_model
    from keiko_engine.memory_plan import PRESETS

    shape = TINY if preset == "tiny" else PRESETS[preset]
    tok_dir = create_model(CreateConfig(out=str(out / "tokenizer-model"), texts=["the quick brown fox 1 + 2 = 3"] * 50, vocab_size=300,
                                        hidden=32, layers=1, heads=4, max_context=128, seed=0))
    cfg = Qwen2Config(**shape, max_position_embeddings=32768)
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(cfg)
    model.save_pretrained(out / "model")
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(tok_dir).save_pretrained(out / "model")
    return out / "model"


def rank_main(model: str, tokens: int, out: str, checkpointing: bool) -> None:
    import torch
    import torch.distributed as dist

    from keiko_engine.distributed import DistributedEngine, init
    from keiko_engine.engine import EngineOptions
    from keiko_engine.losses import LossSpec

    init(1800)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    eng = DistributedEngine(EngineOptions(model=model, device=device, threads=1, dtype="auto", micro_batch_size=8,
                                          activation_checkpointing=checkpointing), timeout_s=1800)
    seq_len = 512
    n = max(1, tokens // seq_len)
    seqs = [{"input_ids": [3 + (i * 7 + t) % 290 for t in range(seq_len)], "loss_mask": [0] * 32 + [1] * (seq_len - 32),
             "advantages": 1.0 if i % 2 else -1.0} for i in range(n)]
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    if eng.rank == 0:
        fb = eng.forward_backward(seqs, LossSpec(type="grpo"), 1.0, micro_batch_size=n)
        st = eng.optim_step(lr=1e-6)
        # a second step: AdamW's moments exist from the first on, so its peak is the steady state
        fb = eng.forward_backward(seqs, LossSpec(type="grpo"), 1.0, micro_batch_size=n)
        st = eng.optim_step(lr=1e-6)
        eng.shutdown()
    else:
        eng.follow()
    peak = torch.cuda.max_memory_allocated() if device == "cuda" else None
    peaks = [None] * dist.get_world_size()
    dist.all_gather_object(peaks, peak)
    if eng.rank == 0:
        Path(out).write_text(json.dumps({"device": device, "gpu": torch.cuda.get_device_name() if device == "cuda" else None,
                                         "peak_bytes_per_rank": peaks, "tokens": n * seq_len, "loss": fb["loss"],
                                         "seconds": fb["seconds"], "grad_norm": st["grad_norm"], "parameters": eng.info()["parameters"]}))
    dist.destroy_process_group()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="qwen2.5-0.5b", help="tiny | qwen2.5-0.5b | qwen2.5-7b | qwen2.5-32b")
    ap.add_argument("--ranks", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=4096, help="tokens in the step's one micro-batch (sequences of 512)")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--activation-checkpointing", action="store_true")
    ap.add_argument("--json", default=None)
    ap.add_argument("--rank-main", nargs=4, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rank_main:
        rank_main(args.rank_main[0], int(args.rank_main[1]), args.rank_main[2], args.rank_main[3] == "1")
        return 0

    from keiko_engine.memory_plan import GIB, PRESETS, plan

    tmp = Path(tempfile.mkdtemp(prefix="keiko-bench-gpu-memory-"))
    model = build_model(args.preset, tmp)
    out = tmp / "result.json"
    env = {**os.environ, "PYTHONPATH": str(ENGINE), "OMP_NUM_THREADS": "1"}
    if args.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(args.ranks), __file__,
                    "--rank-main", str(model), str(args.tokens), str(out), "1" if args.activation_checkpointing else "0"], env=env, check=True)
    result = json.loads(out.read_text())
    shape = TINY if args.preset == "tiny" else PRESETS[args.preset]
    est = plan(shape, args.ranks, tokens=result["tokens"], checkpointing=args.activation_checkpointing)
    result["plan_total_bytes"] = est["total"]
    result["preset"] = args.preset
    peaks = result["peak_bytes_per_rank"]
    measured = "no GPU: no memory figure" if peaks[0] is None else ", ".join(f"{p / GIB:.2f}" for p in peaks) + " GiB"
    print(f"{args.preset}: {result['parameters']:,} params, {args.ranks} rank(s), {result['tokens']} tokens, "
          f"checkpointing {'on' if args.activation_checkpointing else 'off'}: peak {measured}; plan {est['total'] / GIB:.2f} GiB; "
          f"step {result['seconds']:.2f} s, loss {result['loss']:.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
