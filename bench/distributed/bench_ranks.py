"""One GRPO training step (forward/backward + AdamW) on 1 rank vs 2 ranks (torchrun, FSDP2, gloo, CPU).

Both engines are started side by side on the same created model and sent the same batch; the
timed calls are interleaved (1, 2, 1, 2, ...) so machine load hits both alike. Wall clock of the
HTTP call, as a trainer sees it. Writes a JSON file with every timing.

    engine/.venv/bin/python bench/distributed/bench_ranks.py --json bench/distributed/results-cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(model: str, ranks: int, log: Path) -> tuple[subprocess.Popen, httpx.Client]:
    port = free_port()
    serve = ["-m", "keiko_engine", "serve", "--model", model, "--port", str(port), "--device", "cpu", "--dtype", "float32", "--threads", "1"]
    cmd = [sys.executable, *(["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(ranks)] if ranks > 1 else []), *serve]
    env = {**os.environ, "PYTHONPATH": str(ENGINE), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"engine ({ranks} ranks) exited:\n{log.read_text()[-2000:]}")
        try:
            if http.get("/health").status_code == 200:
                return proc, http
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"engine ({ranks} ranks) not healthy")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def make_batch(vocab: int, groups: int, group_size: int, prompt: int, completion: int) -> list[dict]:
    import random

    rng = random.Random(0)
    seqs = []
    for _ in range(groups):
        p = [rng.randrange(3, vocab) for _ in range(prompt)]
        for k in range(group_size):
            c = [rng.randrange(3, vocab) for _ in range(rng.randint(completion // 2, completion))]
            ids = p + c
            seqs.append({"input_ids": ids, "loss_mask": [0] * prompt + [1] * len(c), "advantages": (k % 3) - 1.0})
    return seqs


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--groups", type=int, default=8)
    ap.add_argument("--group-size", type=int, default=8)
    ap.add_argument("--prompt", type=int, default=32)
    ap.add_argument("--completion", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    sys.path.insert(0, str(ENGINE))
    from keiko_engine.create_model import CreateConfig, create_model

    tmp = Path(tempfile.mkdtemp(prefix="keiko-bench-ranks-"))
    corpus = ["the quick brown fox jumps over the lazy dog", "1 + 2 = 3; 2 + 2 = 4", "hello world"] * 50
    model = str(create_model(CreateConfig(out=str(tmp / "model"), texts=corpus, vocab_size=512, hidden=args.hidden, layers=args.layers,
                                          heads=args.heads, max_context=512, seed=0)))
    engines = {}
    try:
        for ranks in (1, 2):
            engines[ranks] = start(model, ranks, tmp / f"engine-{ranks}.log")
        info = engines[1][1].get("/info").json()
        seqs = make_batch(info["vocab_size"], args.groups, args.group_size, args.prompt, args.completion)
        body = {"sequences": seqs, "loss": {"type": "grpo"}, "optim_step": {"lr": 1e-5}}
        times: dict[int, list[float]] = {1: [], 2: []}
        for rnd in range(args.rounds + 1):  # round 0 warms up
            for ranks in (1, 2):
                http = engines[ranks][1]
                t0 = time.perf_counter()
                r = http.post("/train/forward_backward", json=body)
                dt = time.perf_counter() - t0
                assert r.status_code == 200, r.text
                if rnd > 0:
                    times[ranks].append(dt)
        load = os.getloadavg()
    finally:
        for proc, http in engines.values():
            http.close()
            stop(proc)
    med = {k: statistics.median(v) for k, v in times.items()}
    tokens = sum(len(s["input_ids"]) for s in seqs)
    result = {
        "model": {"hidden": args.hidden, "layers": args.layers, "heads": args.heads, "parameters": info["parameters"]},
        "batch": {"sequences": len(seqs), "tokens": tokens, "groups": args.groups, "group_size": args.group_size},
        "seconds": times,
        "median_s": med,
        "ratio_2_over_1": med[2] / med[1],
        "load_average_after": load,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "torch": __import__("torch").__version__,
    }
    print(json.dumps({k: result[k] for k in ("model", "batch", "median_s", "ratio_2_over_1", "load_average_after", "cpus")}, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
