"""The engine: one causal LM, its tokenizer, an optimizer and a step counter.

Every method here runs on the server's single torch worker thread, so sampling and training never
overlap and a sample taken after `optim_step` always sees the new weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from .checkpoint import read_state
from .errors import RequestError
from .checkpoint_io import CheckpointMixin
from .generation import GenRow, generate
from .training import TrainingMixin

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class EngineOptions:
    model: str  # local Hugging Face model directory
    device: str = "auto"  # auto | cpu | cuda
    dtype: str = "auto"  # auto | float32 | bfloat16 (auto: float32 on CPU; float32 weights + bf16 autocast on CUDA)
    threads: int | None = None  # torch intra-op threads on CPU (default: measured best, see bench/engine)
    lora_rank: int = 0  # 0 = full fine-tuning; > 0 = train LoRA adapters of this rank
    lora_alpha: float | None = None  # default 2 * rank
    reference: str = "auto"  # auto (frozen copy of the loaded weights, made when kl_beta is first used at step 0) | none | DIR
    served_name: str | None = None
    seed: int = 0  # seed of the shared sampling generator (requests without a seed)
    micro_batch_size: int = 32  # sequences per forward/backward chunk (the default everywhere: `serve` and requests that omit it)
    activation_checkpointing: bool = False  # recompute each decoder layer in the backward (see `decoder_layers`)
    sharded_optimizer: bool = False  # several ranks: each writes its own optimizer shards (torch.distributed.checkpoint) instead of gathering them


DEFAULT_THREADS = 1  # measured on the 2-core dev machine: see bench/engine/RESULTS.md


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda requested but CUDA is not available")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"unknown device '{name}'; available: auto, cpu, cuda")
    return torch.device(name)


def decoder_layers(model) -> torch.nn.ModuleList:
    """The decoder layers of a Hugging Face causal LM (Qwen2, Llama, ...), under a LoRA wrapper or not:
    the unit of FSDP2 sharding and of activation checkpointing."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return base.model.layers


class Engine(TrainingMixin, CheckpointMixin):
    """One model + tokenizer + optimizer state; see TrainingMixin and CheckpointMixin for the training and checkpoint calls."""

    def __init__(self, opts: EngineOptions):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.opts = opts
        self.device = pick_device(opts.device)
        if self.device.type == "cpu":
            torch.set_num_threads(opts.threads or DEFAULT_THREADS)
        self.threads = torch.get_num_threads()
        path = Path(opts.model)
        adapter_dir = None
        if (path / "adapter_config.json").exists() and not (path / "config.json").exists():
            # a LoRA checkpoint saved by keiko: base weights live in base_model_name_or_path
            adapter_dir = path
            base = json.loads((path / "adapter_config.json").read_text()).get("base_model_name_or_path")
            if not base or not (Path(base) / "config.json").exists():
                raise ValueError(f"LoRA checkpoint {path}: base model '{base}' not found")
            base_path = Path(base)
        elif (path / "config.json").exists():
            base_path = path
        else:
            raise ValueError(f"not a Hugging Face model directory (no config.json): {path}")
        self.model_dir = base_path.absolute()
        self.name = opts.served_name or path.absolute().name
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        if opts.dtype == "bfloat16" or (opts.dtype == "auto" and self.device.type == "cuda"):
            self.autocast_dtype = torch.bfloat16
        else:
            self.autocast_dtype = None
        model = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32)
        model.to(self.device)
        model.eval()  # no dropout anywhere: sampling and training see the same function
        self.lora = None
        if adapter_dir is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=True)
            model.eval()
            pc = model.peft_config["default"]
            self.lora = {"rank": int(pc.r), "alpha": float(pc.lora_alpha), "target_modules": sorted(pc.target_modules)}
        elif opts.lora_rank > 0:
            from peft import LoraConfig, get_peft_model

            names = {n.split(".")[-1] for n, _ in model.named_modules()}
            targets = [t for t in LORA_TARGETS if t in names]
            alpha = opts.lora_alpha or 2 * opts.lora_rank
            cfg = LoraConfig(r=opts.lora_rank, lora_alpha=alpha, target_modules=targets, lora_dropout=0.0, bias="none")
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(opts.seed)  # the adapters' random init: the same on every rank and every run
                model = get_peft_model(model, cfg)
            model.eval()
            self.lora = {"rank": opts.lora_rank, "alpha": alpha, "target_modules": targets}
        if opts.activation_checkpointing:
            from torch.distributed._composable import checkpoint

            for layer in decoder_layers(model):
                checkpoint(layer)  # in place: parameter names (and so checkpoints) do not change
        self.model = model
        self.step = 0
        self.optimizer: torch.optim.Optimizer | None = None
        self.has_grads = False
        self.ref_model = None
        self.shared_generator = torch.Generator().manual_seed(opts.seed)
        state = read_state(path)
        if state is not None:
            self.step = int(state.get("step", 0))
            self._load_optimizer(path)
        if opts.reference not in ("auto", "none"):
            self.ref_model = AutoModelForCausalLM.from_pretrained(opts.reference, dtype=torch.float32).to(self.device).eval()
            self.ref_model.requires_grad_(False)
        cfg = self._base_config()
        self.vocab_size = int(cfg.vocab_size)
        self.max_context = int(getattr(cfg, "max_position_embeddings", 0) or self.tokenizer.model_max_length)
        self.pad_id = self._pad_id()
        self.eos_ids = self._eos_ids()

    # ----- metadata -------------------------------------------------------------------------------

    def _base_config(self):
        return self.model.get_base_model().config if self.lora else self.model.config

    def _pad_id(self) -> int:
        t = self.tokenizer
        for v in (t.pad_token_id, t.eos_token_id, 0):
            if v is not None:
                return int(v)
        return 0

    def _eos_ids(self) -> set[int]:
        ids: set[int] = set()
        gen = getattr(self.model, "generation_config", None)
        eos = getattr(gen, "eos_token_id", None) if gen is not None else None
        if isinstance(eos, int):
            ids.add(eos)
        elif isinstance(eos, (list, tuple)):
            ids.update(int(e) for e in eos)
        if self.tokenizer.eos_token_id is not None:
            ids.add(int(self.tokenizer.eos_token_id))
        for special in ("<|im_end|>", "<|eot_id|>", "<|endoftext|>"):
            tid = self.tokenizer.convert_tokens_to_ids(special)
            if isinstance(tid, int) and tid != self.tokenizer.unk_token_id and special in self.tokenizer.get_vocab():
                ids.add(tid)
        return ids

    def info(self) -> dict:
        cfg = self._base_config()
        params = sum(p.numel() for p in self.model.parameters())
        trainable = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
        dtype = "float32" if self.autocast_dtype is None else "float32+autocast(bfloat16)"
        return {
            "model": self.name,
            "path": str(self.model_dir),
            "architecture": (cfg.architectures or [type(self.model).__name__])[0],
            "parameters": params,
            "trainable_parameters": trainable,
            "dtype": dtype,
            "device": str(self.device),
            "threads": self.threads,
            "step": self.step,
            "vocab_size": self.vocab_size,
            "max_context": self.max_context,
            "hidden_size": getattr(cfg, "hidden_size", None),
            "layers": getattr(cfg, "num_hidden_layers", None),
            "lora": self.lora,
            "chat_template": bool(self.tokenizer.chat_template),
            "eos_token_ids": sorted(self.eos_ids),
            "ranks": 1,  # processes training the model (torchrun ranks); see distributed.py
        }

    # ----- sampling -------------------------------------------------------------------------------

    def check_ids(self, ids: list[int], what: str) -> None:
        try:
            if all(type(t) is int for t in ids) and (not ids or (min(ids) >= 0 and max(ids) < self.vocab_size)):
                return  # the common case, checked in bulk; the loop below finds the culprit otherwise
        except TypeError:
            pass
        for i, t in enumerate(ids):
            if not isinstance(t, int) or isinstance(t, bool) or t < 0 or t >= self.vocab_size:
                raise RequestError(f"{what}[{i}]: token id {t!r} is out of vocabulary [0, {self.vocab_size})")

    def generate(self, rows: list[GenRow]) -> None:
        for r in rows:
            r.policy_version = self.step
        decode = lambda ids: self.tokenizer.decode(ids, skip_special_tokens=False)  # noqa: E731
        generate(
            self.model,
            rows,
            pad_id=self.pad_id,
            eos_ids=self.eos_ids,
            device=self.device,
            shared_generator=self.shared_generator,
            decode=decode,
            autocast_dtype=self.autocast_dtype,
        )
