"""Atomic checkpoint directories and keiko's trainer_state files."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Iterator

TRAINER_STATE_DIR = "trainer_state"
SHARDED_OPTIMIZER_DIR = "optimizer"  # in TRAINER_STATE_DIR: the optimizer state as torch.distributed.checkpoint shards (one file per rank)
STATE_SCHEMA_VERSION = 1


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yields a temp dir beside `target`; on success renames it into place (replacing an old dir
    only once the new one is complete). On error the temp dir is removed and `target` is untouched."""
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
        for f in tmp.rglob("*"):
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        if target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(target, old)
            os.rename(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_state(directory: Path, state: dict) -> None:
    d = Path(directory) / TRAINER_STATE_DIR
    d.mkdir(exist_ok=True)
    (d / "state.json").write_text(json.dumps({"schema_version": STATE_SCHEMA_VERSION, **state}, indent=2))


def read_state(directory: Path) -> dict | None:
    p = Path(directory) / TRAINER_STATE_DIR / "state.json"
    if not p.exists():
        return None
    state = json.loads(p.read_text())
    if state.get("schema_version") != STATE_SCHEMA_VERSION:
        raise ValueError(f"unsupported trainer_state schema_version {state.get('schema_version')!r} in {p}")
    return state


def sharded_optimizer_dir(directory: Path) -> Path | None:
    """The checkpoint's sharded optimizer state (written by a multi-rank engine with --sharded-optimizer), if any."""
    d = Path(directory) / TRAINER_STATE_DIR / SHARDED_OPTIMIZER_DIR
    return d if (d / ".metadata").exists() else None


def read_sharded_optimizer(d: Path) -> dict:
    """A sharded optimizer state read whole into this process: {"state": {name: {...}}, "param_groups": [{"params": [name, ...]}]}."""
    import tempfile

    import torch
    from torch.distributed.checkpoint.format_utils import dcp_to_torch_save

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "optimizer.pt"
        dcp_to_torch_save(str(d), str(out))
        return torch.load(out, map_location="cpu", weights_only=False)["optimizer"]
