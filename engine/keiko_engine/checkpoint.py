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


def check_save_target(target: Path) -> None:
    """`save` replaces a path only if it is a checkpoint the engine wrote (or an empty directory):
    never a file, never a folder of someone else's files."""
    from .errors import RequestError

    target = Path(target)
    if not target.exists() and not target.is_symlink():
        return
    if not target.is_dir() or target.is_symlink():
        raise RequestError(f"refusing to save to {target}: it exists and is not a directory", code="checkpoint_error")
    if any(target.iterdir()) and not (target / TRAINER_STATE_DIR / "state.json").is_file():
        raise RequestError(f"refusing to replace {target}: it is not empty and not a checkpoint this engine wrote (no {TRAINER_STATE_DIR}/state.json)",
                           code="checkpoint_error")


class PathPolicy:
    """Where `save` and `load` may touch the disk: under the checkpoint roots (given with
    `--checkpoint-root`; default: the engine's working directory), and for `load` also the model
    and reference directories the engine was started with. Symlinks are resolved first."""

    def __init__(self, roots: list[str] | None, readable: list[str] | None = None):
        self.roots = [os.path.realpath(r) for r in (roots or [os.getcwd()])]
        self.readable = [os.path.realpath(r) for r in (readable or [])]

    @staticmethod
    def _inside(path: str, root: str) -> bool:
        return path == root or path.startswith(root.rstrip(os.sep) + os.sep)

    def _check(self, path: str, allowed: list[str], what: str) -> Path:
        from .errors import RequestError

        if not isinstance(path, str) or not path or "\x00" in path:
            raise RequestError(f"{what}: path must be a non-empty string", code="checkpoint_error")
        real = os.path.realpath(os.path.expanduser(path))
        if not any(self._inside(real, root) for root in allowed):
            raise RequestError(f"{what}: {path} is outside the engine's checkpoint roots ({', '.join(allowed)}); "
                               "start the engine with --checkpoint-root DIR to allow another folder", code="checkpoint_error", status=403)
        return Path(real)

    def for_save(self, path: str) -> Path:
        return self._check(path, self.roots, "save")

    def for_load(self, path: str) -> Path:
        return self._check(path, self.roots + self.readable, "load")
