"""Checkpoint half of the engine: atomic Hugging Face save (full, LoRA adapter, merged) and load."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import torch

from .checkpoint import TRAINER_STATE_DIR, atomic_dir, check_save_target, read_sharded_optimizer, read_state, sharded_optimizer_dir, write_state
from .errors import RequestError


class CheckpointMixin:
    def save(self, path: str, merged_lora: bool = False, optimizer: bool = True) -> dict:
        from .create_model import save_tokenizer

        t0 = time.perf_counter()
        target = Path(path)
        check_save_target(target)
        with atomic_dir(target) as tmp:
            if self.lora and merged_lora:
                merged = copy.deepcopy(self.model).merge_and_unload()
                merged.save_pretrained(tmp)
            elif self.lora:
                self.model.save_pretrained(tmp)  # adapter_config.json + adapter_model.safetensors
                cfg_path = tmp / "adapter_config.json"
                acfg = json.loads(cfg_path.read_text())
                acfg["base_model_name_or_path"] = str(self.model_dir)
                cfg_path.write_text(json.dumps(acfg, indent=2))
            else:
                self.model.save_pretrained(tmp)
            gen = getattr(self.model, "generation_config", None)
            if gen is not None and not (tmp / "generation_config.json").exists():
                gen.save_pretrained(tmp)
            save_tokenizer(self.tokenizer, tmp)
            write_state(
                tmp,
                {
                    "step": self.step,
                    "config": {k: v for k, v in vars(self.opts).items()},
                    "lora": self.lora,
                    "merged_lora": bool(self.lora and merged_lora),
                    "base_model": str(self.model_dir),
                },
            )
            if optimizer and self.optimizer is not None and not (self.lora and merged_lora):
                torch.save(self.optimizer.state_dict(), tmp / TRAINER_STATE_DIR / "optimizer.pt")
        return {"path": str(target.absolute()), "step": self.step, "seconds": time.perf_counter() - t0}

    def export_weights(self, path: str) -> dict:
        """A sync checkpoint for an inference server (vLLM's `reload_weights`): `model.safetensors`
        with every weight of the full model -- LoRA merged in, and `lm_head.weight` written out even
        when tied to the embeddings (vLLM does not re-tie on reload) -- plus `config.json` and
        `keiko_sync.json` (`{step}`), written atomically: a reader sees the old folder or the new one."""
        t0 = time.perf_counter()
        if self.lora:
            model = copy.deepcopy(self.model).merge_and_unload()
        else:
            model = self.model
        tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
        return write_sync_checkpoint(Path(path), tensors, model.config, self.step, t0)

    def _read_optimizer(self, path: Path) -> torch.optim.Optimizer | None:
        """The checkpoint's AdamW state, built and checked against this model's trainable parameters
        without touching the live optimizer (None when the checkpoint has none)."""
        named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        params = [p for _, p in named]
        osd = read_optimizer_state(path, [tuple(p.shape) for p in params], [n for n, _ in named])
        if osd is None:
            return None
        opt = torch.optim.AdamW(params, lr=0.0)
        # Loaded on the CPU: load_state_dict moves the moment buffers to their parameters' device and
        # keeps AdamW's `step` counters on the CPU, where its non-capturable update reads them (on the
        # GPU every step would read them back with a device sync).
        try:
            opt.load_state_dict(osd)
        except Exception as e:  # noqa: BLE001 - any mismatch is the checkpoint's problem
            raise RequestError(f"{path / TRAINER_STATE_DIR / 'optimizer.pt'}: does not fit this model's optimizer: {e}", code="checkpoint_error") from e
        return opt

    def _load_optimizer(self, path: Path) -> None:
        """At start-up: the model directory's optimizer state, if it has one."""
        self.optimizer = self._read_optimizer(path)

    def load(self, path: str) -> dict:
        """Reads and checks the whole checkpoint (weights, step, optimizer state) first; only then are
        the weights, step and optimizer swapped in, so a bad checkpoint leaves all three unchanged."""
        p = Path(path)
        state, tensors = read_checkpoint(p, adapter=bool(self.lora))
        step = read_step(state, p)
        optimizer = self._read_optimizer(p)
        if self.lora and (p / "adapter_model.safetensors").exists():
            from peft.utils import set_peft_model_state_dict

            before = {k: v.detach().clone() for k, v in self.model.state_dict().items() if "lora_" in k}
            res = set_peft_model_state_dict(self.model, tensors)
            if getattr(res, "unexpected_keys", None):
                self.model.load_state_dict(before, strict=False)
                raise RequestError(f"adapter does not match this model: unexpected keys {res.unexpected_keys[:5]}", code="checkpoint_error")
        else:
            target = self.model.get_base_model() if self.lora else self.model
            own = target.state_dict()
            missing = [k for k in own if k not in tensors and not _tied_ok(target, k)]
            bad = [k for k, v in tensors.items() if k in own and own[k].shape != v.shape]
            unknown = [k for k in tensors if k not in own]
            if missing or bad or unknown:
                raise RequestError(
                    f"checkpoint does not match this model: missing {missing[:3]}, shape mismatch {bad[:3]}, unknown {unknown[:3]}",
                    code="checkpoint_error",
                )
            with torch.no_grad():
                for k, v in tensors.items():
                    own[k].copy_(v.to(own[k].device, own[k].dtype))
        self.step = step
        self.optimizer = optimizer
        for prm in self.model.parameters():
            prm.grad = None
        self.has_grads = False
        return {"path": str(p.absolute()), "step": self.step}


def read_step(state: dict | None, p: Path) -> int:
    """The optimizer step a checkpoint's `trainer_state/state.json` records (0 without one)."""
    if state is None:
        return 0
    step = state.get("step", 0) if isinstance(state, dict) else None
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise RequestError(f"{p / TRAINER_STATE_DIR / 'state.json'}: step must be a non-negative integer, got {step!r}", code="checkpoint_error")
    return step


def read_optimizer_state(p: Path, shapes: list[tuple[int, ...]], names: list[str] | None = None) -> dict | None:
    """A checkpoint's optimizer state in the single-process format (AdamW's state dict keyed by
    parameter index), checked against the trainable parameters' `shapes`; None when absent. Read from
    `optimizer.pt`, or from the shards several ranks wrote (`--sharded-optimizer`), which are keyed by
    parameter name and mapped to indices through `names` (the trainable parameters in order)."""
    opt_path = p / TRAINER_STATE_DIR / "optimizer.pt"
    shards = sharded_optimizer_dir(p) if names is not None else None
    if not opt_path.exists() and shards is None:
        return None
    try:
        osd = by_index(read_sharded_optimizer(shards), names) if shards is not None else torch.load(opt_path, map_location="cpu", weights_only=True)
    except RequestError:
        raise
    except Exception as e:  # noqa: BLE001 - truncated, garbage, not a tensor file
        raise RequestError(f"cannot read {shards or opt_path}: {e}", code="checkpoint_error") from e

    def bad(why: str) -> RequestError:
        return RequestError(f"{opt_path}: {why}", code="checkpoint_error")

    if not isinstance(osd, dict) or not isinstance(osd.get("state"), dict) or not isinstance(osd.get("param_groups"), list):
        raise bad("not an optimizer state dict (needs 'state' and 'param_groups')")
    indices = [i for g in osd["param_groups"] if isinstance(g, dict) for i in g.get("params", [])]
    if len(indices) != len(shapes) or sorted(indices) != list(range(len(shapes))):
        raise bad(f"optimizer state for {len(indices)} parameters, this model trains {len(shapes)}")
    for i, entry in osd["state"].items():
        if not isinstance(i, int) or not 0 <= i < len(shapes) or not isinstance(entry, dict):
            raise bad(f"state entry {i!r} does not name a parameter")
        for name in ("exp_avg", "exp_avg_sq"):
            t = entry.get(name)
            if t is not None and (not isinstance(t, torch.Tensor) or tuple(t.shape) != shapes[i]):
                raise bad(f"parameter {i} {name}: shape {tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__} != {shapes[i]}")
            if isinstance(t, torch.Tensor) and not bool(torch.isfinite(t).all()):
                raise bad(f"parameter {i} {name}: non-finite values")
    return osd


def write_sync_checkpoint(target: Path, tensors: dict[str, torch.Tensor], config, step: int, t0: float) -> dict:
    """Writes `tensors` (a full state dict on the CPU) as a sync checkpoint at `target` (see
    `export_weights`); the response of `POST /train/export_weights`."""
    from safetensors.torch import save_file

    tensors = dict(tensors)
    embed = next((k for k in tensors if k.endswith("embed_tokens.weight")), None)
    if "lm_head.weight" not in tensors and embed is not None:
        tensors["lm_head.weight"] = tensors[embed]
    # safetensors refuses tensors that share memory: every entry gets its own storage
    seen: set[int] = set()
    for k, v in tensors.items():
        if v.untyped_storage().data_ptr() in seen:
            tensors[k] = v.clone()
        seen.add(tensors[k].untyped_storage().data_ptr())
    with atomic_dir(target) as tmp:
        save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        config.save_pretrained(tmp)
        (tmp / "keiko_sync.json").write_text(json.dumps({"step": step}))
    nbytes = sum(v.numel() * v.element_size() for v in tensors.values())
    return {"path": str(target.absolute()), "step": step, "bytes": nbytes, "seconds": time.perf_counter() - t0}


def read_checkpoint(p: Path, adapter: bool = False) -> tuple[dict, dict[str, torch.Tensor]]:
    """A checkpoint's trainer state and weights (the LoRA adapter's alone when `adapter` and the folder
    holds one); anything missing or unreadable is the caller's `checkpoint_error`."""
    from safetensors.torch import load_file

    try:
        state = read_state(p)
    except (ValueError, OSError) as e:
        raise RequestError(str(e), code="checkpoint_error") from e
    files = [p / "adapter_model.safetensors"] if adapter and (p / "adapter_model.safetensors").exists() else sorted(p.glob("*.safetensors"))
    if not files:
        raise RequestError(f"no *.safetensors weights in {p}", code="checkpoint_error")
    try:
        tensors: dict[str, torch.Tensor] = {}
        for f in files:
            tensors.update(load_file(str(f)))
    except Exception as e:  # noqa: BLE001 - any unreadable file is the caller's checkpoint problem
        raise RequestError(f"cannot read checkpoint {p}: {e}", code="checkpoint_error") from e
    return state, tensors


def _tied_ok(model, key: str) -> bool:
    """lm_head.weight may be absent from a checkpoint when embeddings are tied."""
    return key.endswith("lm_head.weight") and bool(getattr(model.config, "tie_word_embeddings", False))


def by_index(named_osd: dict, names: list[str]) -> dict:
    """An optimizer state dict keyed by parameter name (torch.distributed's format) in torch's own
    format, keyed by the parameter's index in `names` (the optimizer's parameter order)."""
    index = {n: i for i, n in enumerate(names)}
    unknown = [k for k in named_osd["state"] if k not in index]
    if unknown:
        raise RequestError(f"optimizer state for parameters this model does not train: {unknown[:3]}", code="checkpoint_error")
    return {
        "state": {index[k]: v for k, v in named_osd["state"].items()},
        "param_groups": [{**g, "params": [index[n] for n in g["params"]]} for g in named_osd["param_groups"]],
    }
