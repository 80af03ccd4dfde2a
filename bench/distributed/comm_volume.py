"""Bytes each rank sends per GRPO step under FSDP2, counted at the collectives, beside the plan's formula.

Launches itself under torchrun (gloo, CPU), builds the engine's `DistributedEngine` on a created model
(the same shape as bench_ranks.py), wraps torch.distributed's collectives to count the bytes each
rank contributes, and runs one forward/backward + AdamW step for each path:
- `plain`: one forward pass per micro-batch (what activation checkpointing uses);
- `shared`: the shared-prompt path (the prompt once per group, then the completions on its KV cache:
  two model calls per micro-batch).
The formula (`keiko_engine.memory_plan.comm_bytes_per_step`): per micro-batch an all-gather of every
weight in the forward and again in the backward, a reduce-scatter of every gradient; a ring
collective of S bytes sends S (W-1)/W per rank. float32 here (CPU); bf16 all-gathers on GPUs.

    engine/.venv/bin/python bench/distributed/comm_volume.py --json bench/distributed/comm-cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"
sys.path.insert(0, str(ENGINE))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def count_collectives(dist, counts: dict) -> None:
    """Wraps the collectives FSDP2 and the engine call; counts the bytes this rank sends into each (a
    ring collective of S bytes: S (W-1)/W per rank). The command broadcast (the pickled batch, from
    rank 0) goes through torch's internal broadcast and is sized separately."""
    world = dist.get_world_size()

    def wrap(name: str, size_of):
        fn = getattr(dist, name)

        def counted(*args, **kwargs):
            counts[name] += size_of(*args, **kwargs)
            return fn(*args, **kwargs)

        setattr(dist, name, counted)

    nbytes = lambda t: t.numel() * t.element_size()  # noqa: E731
    first = lambda a, k, name: a[0] if a else k[name]  # noqa: E731 - FSDP passes these positionally or by name
    wrap("all_gather_single", lambda *a, **k: nbytes(first(a, k, "output_tensor") if a or "output_tensor" in k else k["output"]) * (world - 1) / world)
    wrap("reduce_scatter_single", lambda *a, **k: nbytes(a[1] if len(a) > 1 else k["input"]) * (world - 1) / world)
    wrap("all_reduce", lambda t, *a, **k: 2 * nbytes(t) * (world - 1) / world)


def rank_main(model: str, micro_batch_size: int, out: str) -> None:
    import torch.distributed as dist

    from bench_ranks import make_batch
    from keiko_engine.distributed import DistributedEngine, init
    from keiko_engine.engine import EngineOptions
    from keiko_engine.losses import LossSpec
    from keiko_engine.memory_plan import comm_bytes_per_step

    init(600)
    results = {}
    for path in ("shared", "plain"):
        eng = DistributedEngine(EngineOptions(model=model, device="cpu", threads=1, dtype="float32",
                                              activation_checkpointing=(path == "plain")), timeout_s=600)
        seqs = make_batch(eng.vocab_size, 8, 8, 32, 64)
        counts: dict = defaultdict(float)
        originals = {n: getattr(dist, n) for n in ("all_gather_single", "reduce_scatter_single", "all_reduce")}
        count_collectives(dist, counts)
        try:
            if eng.rank == 0:
                fb = eng.forward_backward(seqs, LossSpec(type="grpo"), 1.0, micro_batch_size)
                eng.optim_step(lr=1e-5)
                eng.shutdown()
                micro = max(-(-len(s) // micro_batch_size) for s in _shares(seqs, eng.world))
            else:
                eng.follow()
        finally:
            for n, f in originals.items():
                setattr(dist, n, f)
        if eng.rank == 0:
            cfg = json.loads((Path(model) / "config.json").read_text())
            formula = comm_bytes_per_step(cfg, eng.world, micro_batches=micro, bf16=False)
            results[path] = {"measured": dict(counts), "micro_batches_per_rank": micro, "tokens": fb["tokens"],
                             "batch_broadcast_bytes": len(pickle.dumps(seqs)),
                             "formula": formula, "parameters": eng.info()["parameters"]}
    if dist.get_rank() == 0:
        Path(out).write_text(json.dumps(results, indent=1))
    dist.destroy_process_group()


def _shares(seqs, world):
    from keiko_engine.distributed import split_by_tokens

    return split_by_tokens(seqs, world)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--micro-batch-size", type=int, default=8)
    ap.add_argument("--json", default=None)
    ap.add_argument("--rank-main", nargs=3, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rank_main:
        rank_main(args.rank_main[0], int(args.rank_main[1]), args.rank_main[2])
        return 0

    from keiko_engine.create_model import CreateConfig, create_model

    tmp = Path(tempfile.mkdtemp(prefix="keiko-bench-comm-"))
    corpus = ["the quick brown fox jumps over the lazy dog", "1 + 2 = 3; 2 + 2 = 4", "hello world"] * 50
    model = str(create_model(CreateConfig(out=str(tmp / "model"), texts=corpus, vocab_size=512, hidden=256, layers=4, heads=4, max_context=512, seed=0)))
    out = tmp / "comm.json"
    env = {**os.environ, "PYTHONPATH": str(ENGINE), "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(args.ranks), __file__,
                    "--rank-main", model, str(args.micro_batch_size), str(out)], env=env, check=True)
    results = json.loads(out.read_text())
    mib = 1024**2
    for path, r in results.items():
        m, f = r["measured"], r["formula"]
        fsdp = m.get("all_gather_single", 0) + m.get("reduce_scatter_single", 0)
        print(f"{path}: {r['parameters']:,} params, {r['micro_batches_per_rank']} micro-batches per rank: "
              f"all-gather {m.get('all_gather_single', 0) / mib:.1f} MiB (formula {f['all_gather'] / mib:.1f}), "
              f"reduce-scatter {m.get('reduce_scatter_single', 0) / mib:.1f} MiB (formula {f['reduce_scatter'] / mib:.1f}), "
              f"FSDP total / formula {fsdp / f['total']:.2f}; all-reduce {m.get('all_reduce', 0) / 1024:.1f} KiB; "
              f"batch broadcast {r['batch_broadcast_bytes'] / 1024:.0f} KiB")
    if args.json:
        Path(args.json).write_text(json.dumps({"ranks": args.ranks, "micro_batch_size": args.micro_batch_size, "results": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
