"""Command line: `python -m keiko_engine serve|create|info`."""

from __future__ import annotations

import argparse
import json
import os
import sys


def _quiet() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except Exception:  # noqa: BLE001 - cosmetics only
        pass


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="keiko_engine", description="keiko's engine: sampling + training service for one causal LM")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="serve a local Hugging Face model directory over HTTP (see engine/API.md)")
    s.add_argument("--model", required=True, help="local model directory (config.json, weights, tokenizer)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8321)
    s.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    s.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16"])
    s.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: measured best, 1)")
    s.add_argument("--lora-rank", type=int, default=0, help="train LoRA adapters of this rank instead of all weights")
    s.add_argument("--lora-alpha", type=float, default=None)
    s.add_argument("--reference", default="auto", help="KL reference: auto (copy of the loaded weights) | none | DIR")
    s.add_argument("--served-name", default=None)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--max-batch-rows", type=int, default=64)
    s.add_argument("--micro-batch-size", type=int, default=32, help="sequences per forward/backward chunk (a request's micro_batch_size overrides it)")
    s.add_argument("--checkpoint-root", action="append", default=None, metavar="DIR",
                   help="a folder /train/save and /train/load may use (repeatable; default: the working directory); "
                        "load may also read the model and reference folders")
    s.add_argument("--max-body-mb", type=float, default=128.0, help="largest request body accepted, MiB (larger: 413)")
    s.add_argument("--stuck-after", type=float, default=900.0, help="/health answers 503 'stuck' once one job has run this many seconds")
    s.add_argument("--docs", action="store_true", help="serve the interactive API docs (/docs, /openapi.json); off by default")
    s.add_argument("--dist-timeout", type=float, default=600.0,
                   help="under torchrun (WORLD_SIZE > 1): seconds any collective may wait before the engine gives up and exits")
    s.add_argument("--sharded-optimizer", action="store_true",
                   help="several ranks: each rank saves its shard of the optimizer state (torch.distributed.checkpoint) instead of gathering it to rank 0")
    s.add_argument("--activation-checkpointing", action="store_true",
                   help="recompute each decoder layer in the backward instead of keeping its activations (less memory, ~1/3 more compute)")

    c = sub.add_parser("create", help="create a tiny random model with a BPE tokenizer trained on a corpus")
    c.add_argument("--out", required=True)
    c.add_argument("--corpus", nargs="+", required=True, help="text file(s) to train the tokenizer on")
    c.add_argument("--architecture", default="qwen2", choices=["qwen2", "llama"])
    c.add_argument("--vocab-size", type=int, default=512)
    c.add_argument("--hidden", type=int, default=64)
    c.add_argument("--layers", type=int, default=2)
    c.add_argument("--heads", type=int, default=4)
    c.add_argument("--kv-heads", type=int, default=None)
    c.add_argument("--intermediate", type=int, default=None)
    c.add_argument("--max-context", type=int, default=512)
    c.add_argument("--seed", type=int, default=0)

    i = sub.add_parser("info", help="print a model directory's architecture and size as JSON")
    i.add_argument("--model", required=True)

    sub.add_parser("openapi", help="print the HTTP API's OpenAPI schema as JSON (no model is loaded)")

    m = sub.add_parser("plan", help="per-GPU memory of full fine-tuning under FSDP2 (an estimate from the config; see memory_plan.py)")
    m.add_argument("--model", required=True, help="a model directory, or a preset: qwen2.5-0.5b, qwen2.5-7b, qwen2.5-32b")
    m.add_argument("--ranks", default="1,2,4,8", help="comma-separated rank counts")
    m.add_argument("--tokens", type=int, default=8192, help="tokens per micro-batch")
    m.add_argument("--activation-checkpointing", action="store_true")

    args = p.parse_args(argv)
    _quiet()
    try:
        if args.command == "openapi":
            from .server import openapi_schema

            print(json.dumps(openapi_schema(), indent=1, sort_keys=True))
            return 0
        if args.command == "plan":
            from .memory_plan import main as plan_main

            return plan_main(args)
        if args.command == "create":
            from .create_model import CreateConfig, create_model

            out = create_model(
                CreateConfig(
                    out=args.out, corpus=args.corpus, architecture=args.architecture, vocab_size=args.vocab_size,
                    hidden=args.hidden, layers=args.layers, heads=args.heads, kv_heads=args.kv_heads,
                    intermediate=args.intermediate, max_context=args.max_context, seed=args.seed,
                )
            )
            print(json.dumps({"path": str(out.absolute())}))
            return 0
        if args.command == "serve":
            from .lifeline import watch_parent

            watch_parent()  # stop when the keiko that started us dies (no-op when started by hand)
        from .engine import Engine, EngineOptions

        if args.command == "info":
            eng = Engine(EngineOptions(model=args.model, device="cpu", reference="none"))
            print(json.dumps(eng.info(), indent=2))
            return 0
        import uvicorn

        from .server import app_options, create_app

        opts = EngineOptions(
            model=args.model, device=args.device, dtype=args.dtype, threads=args.threads, lora_rank=args.lora_rank,
            lora_alpha=args.lora_alpha, reference=args.reference, served_name=args.served_name, seed=args.seed,
            micro_batch_size=args.micro_batch_size, activation_checkpointing=args.activation_checkpointing,
            sharded_optimizer=args.sharded_optimizer,
        )
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # started by torchrun on several ranks: see distributed.py
            from .distributed import serve as serve_distributed

            return serve_distributed(args, opts)
        eng = Engine(opts)
        app = create_app(eng, **app_options(args))
        info = eng.info()
        print(f"keiko engine: {info['model']} ({info['architecture']}, {info['parameters']:,} params, {info['device']}, "
              f"{info['threads']} threads, step {info['step']}) on http://{args.host}:{args.port}", flush=True)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
        return 0
    except ValueError as e:
        print(f"keiko_engine: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
