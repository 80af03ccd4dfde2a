"""The engine: one causal LM, its tokenizer, an optimizer and a step counter.

Every method here runs on the server's single torch worker thread, so sampling and training never
overlap and a sample taken after `optim_step` always sees the new weights.
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from .checkpoint import TRAINER_STATE_DIR, atomic_dir, read_state, write_state
from .errors import RequestError
from .generation import GenRow, generate
from .losses import LOSS_TYPES, LossSpec, Norm, policy_loss

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
    micro_batch_size: int = 8  # sequences per forward/backward chunk


DEFAULT_THREADS = 1  # measured on the 2-core dev machine: see bench/engine/RESULTS.md


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda requested but CUDA is not available")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"unknown device '{name}'; available: auto, cpu, cuda")
    return torch.device(name)


class Engine:
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
            model = get_peft_model(model, cfg)
            model.eval()
            self.lora = {"rank": opts.lora_rank, "alpha": alpha, "target_modules": targets}
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
        }

    # ----- sampling -------------------------------------------------------------------------------

    def check_ids(self, ids: list[int], what: str) -> None:
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

    # ----- training -------------------------------------------------------------------------------

    def _amp(self):
        import contextlib

        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    def token_logprobs(self, model, ids: torch.Tensor, attn: torch.Tensor, with_entropy: bool = False):
        """[B, T] logprob of ids[:, t] given ids[:, :t] (column 0 is 0), and optionally entropy [B, T]."""
        with self._amp():
            logits = model(input_ids=ids, attention_mask=attn).logits  # [B, T, V]
        logits = logits[:, :-1].float()
        logp_all = torch.log_softmax(logits, dim=-1)
        lp = logp_all.gather(-1, ids[:, 1:, None]).squeeze(-1)  # [B, T-1]
        lp = torch.cat([torch.zeros_like(lp[:, :1]), lp], dim=1)
        ent = None
        if with_entropy:
            with torch.no_grad():
                e = -(logp_all.exp() * logp_all).sum(-1)
                ent = torch.cat([torch.zeros_like(e[:, :1]), e], dim=1)
        return lp, ent

    def _ensure_reference(self):
        if self.ref_model is not None or self.lora:
            return
        if self.opts.reference == "none":
            raise RequestError("kl_beta > 0 needs a reference policy: start the engine with --reference auto|DIR, or send ref_logprobs", code="no_reference")
        if self.step != 0:
            raise RequestError(
                "kl_beta > 0 without ref_logprobs: the reference (a copy of the initial weights) is made at step 0 only; "
                "start the engine with --reference DIR or send ref_logprobs",
                code="no_reference",
            )
        self.ref_model = copy.deepcopy(self.model).eval()
        self.ref_model.requires_grad_(False)

    def _ref_logprobs(self, ids, attn):
        with torch.no_grad():
            if self.lora:
                with self.model.disable_adapter():
                    lp, _ = self.token_logprobs(self.model, ids, attn)
            else:
                lp, _ = self.token_logprobs(self.ref_model, ids, attn)
        return lp

    def validate_sequences(self, seqs: list[dict]) -> None:
        if not seqs:
            raise RequestError("sequences: empty batch")
        for k, s in enumerate(seqs):
            ids = s["input_ids"]
            n = len(ids)
            if n < 2:
                raise RequestError(f"sequences[{k}].input_ids: need at least 2 tokens")
            if n > self.max_context:
                raise RequestError(f"sequences[{k}]: length {n} exceeds max_context {self.max_context}", code="context_length_exceeded")
            self.check_ids(ids, f"sequences[{k}].input_ids")
            if len(s["loss_mask"]) != n:
                raise RequestError(f"sequences[{k}].loss_mask: length {len(s['loss_mask'])} != input_ids length {n}")
            if s["loss_mask"][0] != 0:
                raise RequestError(f"sequences[{k}].loss_mask[0] must be 0 (the first token has no prefix to predict it from)")
            adv = s.get("advantages", 0.0)
            if isinstance(adv, list) and len(adv) != n:
                raise RequestError(f"sequences[{k}].advantages: length {len(adv)} != input_ids length {n}")
            for key in ("sampler_logprobs", "ref_logprobs"):
                v = s.get(key)
                if v is not None and len(v) != n:
                    raise RequestError(f"sequences[{k}].{key}: length {len(v)} != input_ids length {n}")
            vals = adv if isinstance(adv, list) else [adv]
            if any(not math.isfinite(x) for x in vals):
                raise RequestError(f"sequences[{k}].advantages: must be finite")

    def forward_backward(self, seqs: list[dict], spec: LossSpec, scale: float = 1.0, micro_batch_size: int | None = None) -> dict:
        if spec.type not in LOSS_TYPES:
            raise RequestError(f"unknown loss type '{spec.type}'; available: {', '.join(LOSS_TYPES)}")
        if spec.is_correction not in ("none", "truncated"):
            raise RequestError(f"unknown is_correction '{spec.is_correction}'; available: none, truncated")
        self.validate_sequences(seqs)
        if spec.is_correction == "truncated" and any(s.get("sampler_logprobs") is None for s in seqs):
            raise RequestError("is_correction 'truncated' needs sampler_logprobs on every sequence")
        need_ref = spec.kl_beta > 0 and any(s.get("ref_logprobs") is None for s in seqs)
        if need_ref:
            self._ensure_reference()
        t0 = time.perf_counter()
        total_tokens = sum(int(sum(s["loss_mask"])) for s in seqs)
        max_len = max(len(s["input_ids"]) for s in seqs)
        norm = Norm(sequences=len(seqs), tokens=total_tokens, max_tokens=spec.max_tokens or max_len)
        params = [p for p in self.model.parameters() if p.requires_grad]
        saved = [p.grad for p in params]
        for p in params:
            p.grad = None
        loss_sum, kl_sum, clipped, clip_den, ent_sum = 0.0, 0.0, 0.0, 0.0, 0.0
        mbs = micro_batch_size or self.opts.micro_batch_size
        ok = True
        try:
            for start in range(0, len(seqs), mbs):
                chunk = seqs[start : start + mbs]
                t = max(len(s["input_ids"]) for s in chunk)
                b = len(chunk)
                ids = torch.full((b, t), self.pad_id, dtype=torch.long)
                attn = torch.zeros((b, t), dtype=torch.long)
                mask = torch.zeros((b, t))
                adv = torch.zeros((b, t))
                slp = torch.zeros((b, t)) if all(s.get("sampler_logprobs") is not None for s in chunk) else None
                rlp = torch.zeros((b, t)) if all(s.get("ref_logprobs") is not None for s in chunk) else None
                for i, s in enumerate(chunk):
                    n = len(s["input_ids"])
                    ids[i, :n] = torch.tensor(s["input_ids"])
                    attn[i, :n] = 1
                    mask[i, :n] = torch.tensor(s["loss_mask"], dtype=torch.float32)
                    a = s.get("advantages", 0.0)
                    adv[i, :n] = torch.tensor(a, dtype=torch.float32) if isinstance(a, list) else float(a)
                    if slp is not None:
                        slp[i, :n] = torch.tensor(s["sampler_logprobs"], dtype=torch.float32)
                    if rlp is not None:
                        rlp[i, :n] = torch.tensor(s["ref_logprobs"], dtype=torch.float32)
                ids, attn, mask, adv = (x.to(self.device) for x in (ids, attn, mask, adv))
                slp = slp.to(self.device) if slp is not None else None
                lp, ent = self.token_logprobs(self.model, ids, attn, with_entropy=True)
                if spec.kl_beta > 0 and rlp is None:
                    rlp = self._ref_logprobs(ids, attn)
                elif rlp is not None:
                    rlp = rlp.to(self.device)
                out = policy_loss(lp, mask, adv, spec, norm, sampler_logp=slp, ref_logp=rlp)
                if not torch.isfinite(out.loss):
                    ok = False
                    break
                (out.loss * scale).backward()
                loss_sum += float(out.loss.detach())
                kl_sum += out.kl_sum
                clipped += out.clipped
                clip_den += out.clip_den
                ent_sum += float((ent * mask).sum())
            if ok:
                ok = all(p.grad is None or bool(torch.isfinite(p.grad).all()) for p in params)
        except BaseException:
            for p, g in zip(params, saved):
                p.grad = g
            raise
        if ok:
            for p, g in zip(params, saved):
                if g is not None:
                    p.grad = g if p.grad is None else p.grad.add_(g)
            self.has_grads = self.has_grads or total_tokens > 0
        else:
            for p, g in zip(params, saved):
                p.grad = g
        seconds = time.perf_counter() - t0
        ntoks = sum(len(s["input_ids"]) for s in seqs)
        return {
            "loss": loss_sum if ok else None,
            "kl": kl_sum / max(total_tokens, 1),
            "clip_fraction": clipped / max(clip_den, 1),
            "entropy": ent_sum / max(total_tokens, 1),
            "tokens": total_tokens,
            "sequences": len(seqs),
            "seconds": seconds,
            "tokens_per_s": ntoks / seconds if seconds > 0 else 0.0,
            "nonfinite": not ok,
        }

    def optim_step(self, lr: float, weight_decay: float = 0.0, betas=(0.9, 0.999), eps: float = 1e-8, grad_clip: float | None = 1.0) -> dict:
        params = [p for p in self.model.parameters() if p.requires_grad]
        if not self.has_grads:
            raise RequestError("optim_step without gradients: call /train/forward_backward first", code="no_gradients", status=409)
        if self.optimizer is None:
            self.optimizer = torch.optim.AdamW(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        for g in self.optimizer.param_groups:
            g.update(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        grads = [p.grad for p in params if p.grad is not None]
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads])) if grads else torch.tensor(0.0)
        grad_norm = float(norm)
        skipped = not math.isfinite(grad_norm)
        if not skipped:
            if grad_clip is not None and grad_clip > 0 and grad_norm > grad_clip:
                for g in grads:
                    g.mul_(grad_clip / (grad_norm + 1e-6))
            self.optimizer.step()
            self.step += 1
        self.optimizer.zero_grad(set_to_none=True)
        self.has_grads = False
        return {"step": self.step, "grad_norm": grad_norm if not skipped else None, "skipped": skipped}

    # ----- checkpoints ----------------------------------------------------------------------------

    def save(self, path: str, merged_lora: bool = False, optimizer: bool = True) -> dict:
        from .create_model import save_tokenizer

        t0 = time.perf_counter()
        target = Path(path)
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

    def _load_optimizer(self, path: Path) -> None:
        opt_path = path / TRAINER_STATE_DIR / "optimizer.pt"
        if not opt_path.exists():
            self.optimizer = None
            return
        params = [p for p in self.model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=0.0)
        opt.load_state_dict(torch.load(opt_path, map_location=self.device, weights_only=True))
        self.optimizer = opt

    def load(self, path: str) -> dict:
        from safetensors.torch import load_file

        p = Path(path)
        try:
            state = read_state(p)
        except (ValueError, OSError) as e:
            raise RequestError(str(e), code="checkpoint_error") from e
        if self.lora and (p / "adapter_model.safetensors").exists():
            files = [p / "adapter_model.safetensors"]
        else:
            files = sorted(p.glob("*.safetensors"))
        if not files:
            raise RequestError(f"no *.safetensors weights in {p}", code="checkpoint_error")
        try:
            tensors: dict[str, torch.Tensor] = {}
            for f in files:
                tensors.update(load_file(str(f)))
        except Exception as e:  # noqa: BLE001 - any unreadable file is the caller's checkpoint problem
            raise RequestError(f"cannot read checkpoint {p}: {e}", code="checkpoint_error") from e
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
        self.step = int(state.get("step", 0)) if state else 0
        self._load_optimizer(p)
        for prm in self.model.parameters():
            prm.grad = None
        self.has_grads = False
        return {"path": str(p.absolute()), "step": self.step}


def _tied_ok(model, key: str) -> bool:
    """lm_head.weight may be absent from a checkpoint when embeddings are tied."""
    return key.endswith("lm_head.weight") and bool(getattr(model.config, "tie_word_embeddings", False))
