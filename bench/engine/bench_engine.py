"""keiko engine benchmarks, side by side in one run (contenders interleaved, ratios reported).

  1. threads: 1 vs 2 torch threads, tiny model: fwd+bwd and decode time  -> the engine's default
  2. decode:  tokens/s, batch of 16 prompts, engine's sampler vs transformers `generate`
  3. flops:   fwd+bwd achieved FLOP/s (hidden >= 256) vs a matmul ceiling measured in the same run

Run:  engine/.venv/bin/python bench/engine/bench_engine.py [--device cpu|cuda] [--out bench/engine/RESULTS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "engine"))

import torch  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from keiko_engine.create_model import CreateConfig, create_model  # noqa: E402
from keiko_engine.generation import GenRow, generate  # noqa: E402

hf_logging.disable_progress_bar()
hf_logging.set_verbosity_error()

CORPUS = ["the quick brown fox jumps over the lazy dog", "hello world, this is keiko practising", "1 + 2 = 3; 2 + 2 = 4"] * 50


def make_model(tmp: Path, name: str, **shape):
    from transformers import AutoModelForCausalLM

    d = tmp / name
    create_model(CreateConfig(out=str(d), texts=CORPUS, **shape))
    return AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


CLOCK = time.perf_counter  # set to time.process_time with --cpu-time (shared, oversubscribed machines)


def timeit(fn, device, reps: int) -> float:
    """Median seconds of `reps` runs after one warm-up."""
    fn()
    sync(device)
    ts = []
    for _ in range(reps):
        t0 = CLOCK()
        fn()
        sync(device)
        ts.append(CLOCK() - t0)
    return statistics.median(ts)


def fwd_bwd_fn(model, device, batch: int, seq: int, vocab: int, amp_dtype=None):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (batch, seq), generator=g).to(device)

    def run():
        ctx = torch.autocast(device.type, dtype=amp_dtype) if amp_dtype else torch.autocast(device.type, enabled=False)
        with ctx:
            logits = model(input_ids=ids).logits
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
        loss.backward()
        model.zero_grad(set_to_none=True)

    return run


def engine_decode_fn(model, device, prompts, new_tokens: int, amp_dtype=None):
    def run():
        rows = [GenRow(list(p), max_tokens=new_tokens, temperature=1.0) for p in prompts]
        generate(model, rows, pad_id=0, eos_ids=set(), device=device, shared_generator=torch.Generator().manual_seed(0), autocast_dtype=amp_dtype)
        assert all(len(r.token_ids) == new_tokens for r in rows)

    return run


def hf_decode_fn(model, device, prompts, new_tokens: int, amp_dtype=None):
    width = max(len(p) for p in prompts)
    ids = torch.zeros((len(prompts), width), dtype=torch.long)
    attn = torch.zeros_like(ids)
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(p)
        attn[i, width - len(p) :] = 1
    ids, attn = ids.to(device), attn.to(device)

    def run():
        ctx = torch.autocast(device.type, dtype=amp_dtype) if amp_dtype else torch.autocast(device.type, enabled=False)
        with torch.inference_mode(), ctx:
            out = model.generate(
                input_ids=ids, attention_mask=attn, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=True,
                temperature=1.0, top_p=1.0, top_k=0, pad_token_id=0, eos_token_id=None,
            )
        assert out.shape[1] == width + new_tokens

    return run


def bench_threads(tmp: Path, device, reps: int) -> dict:
    """Wall-clock (CPU time would add up both threads' work)."""
    global CLOCK
    saved, CLOCK = CLOCK, time.perf_counter
    try:
        return _bench_threads(tmp, device, reps)
    finally:
        CLOCK = saved


def _bench_threads(tmp: Path, device, reps: int) -> dict:
    model = make_model(tmp, "tiny", vocab_size=512, hidden=64, layers=2, heads=4, max_context=512)
    vocab = model.config.vocab_size
    prompts = [[(7 * i + j) % vocab for j in range(8 + i % 5)] for i in range(16)]
    fb = fwd_bwd_fn(model, device, 8, 128, vocab)
    dec = engine_decode_fn(model, device, prompts, 32)
    res = {n: {"fwd_bwd": [], "decode": []} for n in (1, 2)}
    for _ in range(3):  # interleave thread counts
        for n in (1, 2):
            torch.set_num_threads(n)
            res[n]["fwd_bwd"].append(timeit(fb, device, reps))
            res[n]["decode"].append(timeit(dec, device, max(1, reps // 2)))
    out = {n: {k: statistics.median(v) for k, v in d.items()} for n, d in res.items()}
    out["params"] = sum(p.numel() for p in model.parameters())
    return out


def bench_decode(tmp: Path, device, reps: int, amp_dtype=None, shape=None) -> dict:
    shape = shape or dict(vocab_size=512, hidden=64, layers=2, heads=4, max_context=512)
    model = make_model(tmp, f"dec{shape['hidden']}", **shape).to(device)
    vocab = model.config.vocab_size
    prompts = [[(7 * i + j) % vocab for j in range(8 + i % 5)] for i in range(16)]
    new = 64
    ours = engine_decode_fn(model, device, prompts, new, amp_dtype)
    hf = hf_decode_fn(model, device, prompts, new, amp_dtype)
    t_ours, t_hf = [], []
    for _ in range(reps):  # interleaved
        t_ours.append(timeit(ours, device, 1))
        t_hf.append(timeit(hf, device, 1))
    toks = 16 * new
    o, h = statistics.median(t_ours), statistics.median(t_hf)
    return {"params": sum(p.numel() for p in model.parameters()), "hidden": shape["hidden"], "layers": shape["layers"],
            "batch": 16, "new_tokens": new, "engine_tok_s": toks / o, "hf_tok_s": toks / h, "ratio": h / o}


def bench_http_batching(tmp: Path, device, reps: int) -> dict:
    """16 chat requests over HTTP (in-process ASGI): all at once (the server batches them) vs one by one."""
    import asyncio

    import httpx

    from keiko_engine.engine import Engine, EngineOptions
    from keiko_engine.server import create_app

    d = tmp / "http"
    create_model(CreateConfig(out=str(d), texts=CORPUS, vocab_size=512, hidden=64, layers=2, heads=4, max_context=512))
    eng = Engine(EngineOptions(model=str(d), device=device.type, threads=torch.get_num_threads(), reference="none"))
    app = create_app(eng)
    new = 32
    bodies = [{"messages": [{"role": "user", "content": f"hello {i}"}], "max_tokens": new, "seed": i, "return_token_ids": True} for i in range(16)]

    async def run(concurrent: bool) -> float:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://engine", timeout=600) as c:
            t0 = CLOCK()
            before = app.state.worker.batches
            if concurrent:
                res = await asyncio.gather(*[c.post("/v1/chat/completions", json=b) for b in bodies])
            else:
                res = [await c.post("/v1/chat/completions", json=b) for b in bodies]
            assert all(r.status_code == 200 for r in res)
            passes[concurrent] = app.state.worker.batches - before
            return CLOCK() - t0

    conc, seq = [], []
    passes: dict = {}
    for _ in range(reps):  # interleaved
        conc.append(asyncio.run(run(True)))
        seq.append(asyncio.run(run(False)))
    toks = 16 * new  # upper bound (rows may stop at EOS); same requests and seeds for both
    c, s_ = statistics.median(conc), statistics.median(seq)
    return {"requests": 16, "max_tokens": new, "concurrent_tok_s": toks / c, "sequential_tok_s": toks / s_, "ratio": s_ / c,
            "generation_passes_concurrent": passes[True], "generation_passes_sequential": passes[False]}


def flops_per_token(cfg, seq: int) -> float:
    """Training FLOPs per token: 6 × (matmul params incl. the LM head) + attention (12 · L · d · T)."""
    d, L, f, v = cfg.hidden_size, cfg.num_hidden_layers, cfg.intermediate_size, cfg.vocab_size
    kv = d // cfg.num_attention_heads * cfg.num_key_value_heads
    per_layer = d * d * 2 + 2 * d * kv + 3 * d * f  # q, o, k, v, gate/up/down
    n = L * per_layer + d * v
    return 6 * n + 12 * L * d * seq / 2  # causal: half the score/value matmuls are masked


def bench_flops(tmp: Path, device, reps: int, amp_dtype=None, shape=None, batch=8, seq=256) -> dict:
    shape = shape or dict(vocab_size=2048, hidden=256, layers=4, heads=4, max_context=1024)
    model = make_model(tmp, f"flops{shape['hidden']}", **shape).to(device)
    cfg = model.config
    fb = fwd_bwd_fn(model, device, batch, seq, cfg.vocab_size, amp_dtype)
    d = cfg.hidden_size
    mm_dtype = amp_dtype or torch.float32
    m, k, n = batch * seq, d, cfg.intermediate_size
    a = torch.randn(m, k, device=device, dtype=mm_dtype)
    b = torch.randn(k, n, device=device, dtype=mm_dtype)
    big = 4096 if device.type == "cuda" else 1024
    A = torch.randn(big, big, device=device, dtype=mm_dtype)
    B = torch.randn(big, big, device=device, dtype=mm_dtype)
    # the same work through the engine's own /train/forward_backward code (SFT loss, entropy, masks)
    from keiko_engine.engine import Engine, EngineOptions
    from keiko_engine.losses import LossSpec

    eng = Engine(EngineOptions(model=str(tmp / f"flops{shape['hidden']}"), device=device.type, threads=torch.get_num_threads(), reference="none", micro_batch_size=batch))
    g = torch.Generator().manual_seed(1)
    seqs = [{"input_ids": torch.randint(0, cfg.vocab_size, (seq,), generator=g).tolist(), "loss_mask": [0] + [1] * (seq - 1)} for _ in range(batch)]

    def engine_fb():
        eng.forward_backward(seqs, LossSpec(type="sft"))
        eng.model.zero_grad(set_to_none=True)
        eng.has_grads = False

    t_fb, t_mm, t_big, t_eng = [], [], [], []
    for _ in range(3):  # interleaved
        t_fb.append(timeit(fb, device, reps))
        t_eng.append(timeit(engine_fb, device, reps))
        t_mm.append(timeit(lambda: a @ b, device, reps * 5))
        t_big.append(timeit(lambda: A @ B, device, reps))
    fb_flops = flops_per_token(cfg, seq) * batch * seq / statistics.median(t_fb)
    mm_flops = 2 * m * k * n / statistics.median(t_mm)
    big_flops = 2 * big**3 / statistics.median(t_big)
    ceiling = max(mm_flops, big_flops)
    eng_flops = flops_per_token(cfg, seq) * batch * seq / statistics.median(t_eng)
    return {"params": sum(p.numel() for p in model.parameters()), "hidden": d, "layers": cfg.num_hidden_layers,
            "vocab": cfg.vocab_size, "batch": batch, "seq": seq, "fwd_bwd_gflops": fb_flops / 1e9,
            "matmul_model_shape_gflops": mm_flops / 1e9, f"matmul_{big}_gflops": big_flops / 1e9,
            "ceiling_gflops": ceiling / 1e9, "fraction_of_ceiling": fb_flops / ceiling,
            "engine_fwd_bwd_gflops": eng_flops / 1e9, "engine_fraction_of_ceiling": eng_flops / ceiling,
            "dtype": str(mm_dtype).replace("torch.", "")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="threads for the decode/flops benchmarks (CPU)")
    ap.add_argument("--skip-threads", action="store_true")
    ap.add_argument("--json", default=None, help="write raw results here")
    ap.add_argument("--cpu-time", action="store_true", help="time with process CPU time instead of wall time (busy shared machines)")
    args = ap.parse_args()
    global CLOCK
    if args.cpu_time:
        CLOCK = time.process_time
    device = torch.device(args.device)
    amp = torch.bfloat16 if device.type == "cuda" else None
    results: dict = {"load_avg_start": os.getloadavg(), "clock": "process_time" if args.cpu_time else "wall", "device": args.device, "torch": torch.__version__, "cpu_count": os.cpu_count(), "machine": platform.processor() or platform.machine()}
    if device.type == "cuda":
        results["gpu"] = torch.cuda.get_device_name(0)
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        if device.type == "cpu" and not args.skip_threads:
            results["threads"] = bench_threads(tmp, device, args.reps)
            print("threads", json.dumps(results["threads"]), flush=True)
        if device.type == "cpu":
            torch.set_num_threads(args.threads)
            results["decode_threads"] = args.threads
        results["decode"] = bench_decode(tmp, device, args.reps, amp)
        print("decode", json.dumps(results["decode"]), flush=True)
        results["http_batching"] = bench_http_batching(tmp, device, args.reps)
        print("http_batching", json.dumps(results["http_batching"]), flush=True)
        if device.type == "cuda":
            results["decode_256"] = bench_decode(tmp, device, args.reps, amp, shape=dict(vocab_size=2048, hidden=256, layers=4, heads=4, max_context=1024))
            print("decode_256", json.dumps(results["decode_256"]), flush=True)
            results["flops"] = bench_flops(tmp, device, args.reps, amp, shape=dict(vocab_size=4096, hidden=1024, layers=8, heads=16, max_context=2048), batch=16, seq=1024)
        else:
            results["flops"] = bench_flops(tmp, device, args.reps, amp)
        print("flops", json.dumps(results["flops"]), flush=True)
    results["load_avg_end"] = os.getloadavg()
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
