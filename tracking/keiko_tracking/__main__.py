"""Forwards keiko's metrics to an experiment tracker with that tracker's own client.

keiko (TypeScript) starts `python -m keiko_tracking --backend <wandb|mlflow|tensorboard> ...` and
writes one JSON object per line on its stdin:

    {"kind": "config", "config": {...}}                 run settings (W&B config, MLflow params, TB text)
    {"kind": "metrics", "step": 3, "values": {"train/reward": 0.5, ...}}
    {"kind": "finish", "status": "completed"}           completed | failed | interrupted

Each backend is the tool's maintained Python client: `wandb` (WANDB_MODE=offline keeps the run on
disk for `wandb sync`), `mlflow` (MLFLOW_TRACKING_URI, default ./mlruns) and TensorBoard event files
written by `tensorboardX` (read by TensorBoard itself). The process answers each line it could not
use on stderr and goes on; it exits 0 once the tracker has flushed, 1 if the tracker rejected something.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Any


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}; lists and other values as JSON text."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, (str, int, float, bool)) or value is None:
            out[name] = value
        else:
            out[name] = json.dumps(value)
    return out


def finite(values: dict[str, Any]) -> dict[str, float]:
    """The numeric, finite values (trackers reject NaN or strings in a metric)."""
    return {k: float(v) for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}


class WandbSink:
    def __init__(self, args: argparse.Namespace) -> None:
        import wandb

        self.wandb = wandb
        self.run = wandb.init(project=args.project, name=args.run_name, dir=args.dir, job_type=args.kind, reinit="finish_previous")

    def config(self, config: dict[str, Any]) -> None:
        self.run.config.update(config, allow_val_change=True)

    def metrics(self, step: int, values: dict[str, float]) -> None:
        self.run.log(values, step=step)

    def finish(self, status: str) -> None:
        self.run.finish(exit_code=0 if status == "completed" else 1)


class MlflowSink:
    def __init__(self, args: argparse.Namespace) -> None:
        import mlflow

        self.mlflow = mlflow
        mlflow.set_experiment(args.project)
        self.run = mlflow.start_run(run_name=args.run_name, tags={"keiko.kind": args.kind})

    def config(self, config: dict[str, Any]) -> None:
        params = {k: str(v)[:6000] for k, v in flatten(config).items()}
        items = list(params.items())
        for i in range(0, len(items), 100):  # MLflow takes at most 100 params per batch
            self.mlflow.log_params(dict(items[i : i + 100]))

    def metrics(self, step: int, values: dict[str, float]) -> None:
        self.mlflow.log_metrics(values, step=step)

    def finish(self, status: str) -> None:
        self.mlflow.end_run(status={"completed": "FINISHED", "interrupted": "KILLED"}.get(status, "FAILED"))


class TensorboardSink:
    def __init__(self, args: argparse.Namespace) -> None:
        from tensorboardX import SummaryWriter

        self.writer = SummaryWriter(logdir=os.path.join(args.dir, args.run_name))

    def config(self, config: dict[str, Any]) -> None:
        text = "\n".join(f"    {k} = {json.dumps(v)}" for k, v in sorted(flatten(config).items()))
        self.writer.add_text("config", text, 0)

    def metrics(self, step: int, values: dict[str, float]) -> None:
        for key, value in values.items():
            self.writer.add_scalar(key, value, step)

    def finish(self, status: str) -> None:
        self.writer.add_text("status", status, 0)
        self.writer.close()


SINKS = {"wandb": WandbSink, "mlflow": MlflowSink, "tensorboard": TensorboardSink}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m keiko_tracking", description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=sorted(SINKS), required=True)
    parser.add_argument("--project", default="keiko", help="W&B project / MLflow experiment")
    parser.add_argument("--run-name", required=True)
    parser.add_argument("--kind", default="train", help="train, sft or eval")
    parser.add_argument("--dir", default=".", help="where W&B and TensorBoard write their files")
    args = parser.parse_args(argv)
    os.makedirs(args.dir, exist_ok=True)
    sink = SINKS[args.backend](args)
    status = "completed"
    finished = False
    failures = 0
    for number, line in enumerate(sys.stdin, start=1):
        line = line.strip()
        if not line:
            continue
        try:
            message = json.loads(line)
            kind = message["kind"]
            if kind == "config":
                sink.config(message["config"])
            elif kind == "metrics":
                values = finite(message["values"])
                if values:
                    sink.metrics(int(message["step"]), values)
            elif kind == "finish":
                status = str(message.get("status", "completed"))
                finished = True
                break
            else:
                raise ValueError(f"unknown kind {kind!r}")
        except (ValueError, KeyError, TypeError) as error:
            print(f"keiko_tracking: line {number} skipped: {error}", file=sys.stderr)
        except Exception as error:  # the tracker refused it (e.g. a name MLflow does not allow): go on, report at exit
            failures += 1
            print(f"keiko_tracking: {args.backend} rejected line {number}: {error}", file=sys.stderr)
    # keiko gone without a finish line (it crashed): the run did not complete.
    sink.finish(status if finished else "failed")
    print(json.dumps({"finished": True, "backend": args.backend, "status": status if finished else "failed"}), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
