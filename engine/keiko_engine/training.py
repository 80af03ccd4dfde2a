"""Training half of the engine: token logprobs, the reference policy, forward_backward, optim_step.

Mixed into `Engine`; the attributes it uses (model, device, opts, step, optimizer, has_grads,
ref_model, lora, pad_id, vocab_size, max_context, autocast_dtype) are set by `Engine.__init__`.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time

import torch

from .errors import RequestError
from .losses import LOSS_TYPES, LossOut, LossSpec, Norm, policy_loss


def _prompt_len(s: dict) -> int:
    """Tokens before the first trained one (the prompt a GRPO group's sequences share), in [1, len - 1]."""
    mask = s["loss_mask"]
    first = next((i for i, m in enumerate(mask) if m), len(mask) - 1)
    return max(1, min(first, len(mask) - 1))


def _padded(rows: list[list], width: int, fill, dtype: torch.dtype) -> torch.Tensor:
    """[len(rows), width]: each row right-padded with `fill` (one tensor construction for the batch)."""
    return torch.tensor([list(r) + [fill] * (width - len(r)) for r in rows], dtype=dtype)


def _per_token(advantage, n: int) -> list[float]:
    return advantage if isinstance(advantage, list) else [float(advantage)] * n


def _group_key(s: dict) -> tuple:
    """The group a sequence belongs to: its `group_id` when the caller sent one (the rollout group,
    named where it was scheduled), else its prompt tokens (the fallback: equal prompts = one group)."""
    gid = s.get("group_id")
    return ("id", gid) if gid is not None else ("prompt", tuple(s["input_ids"][: _prompt_len(s)]))


def _by_group(seqs: list[dict]) -> list[dict]:
    """`seqs` reordered so that the sequences of one group are adjacent (groups in first-appearance
    order, sequences in request order inside a group), so micro-batches hold whole groups. The group
    is `_group_key`. The batch loss is a sum over micro-batches: order is free. Sharing a prompt's
    KV cache is decided apart from this, by prompt equality inside a micro-batch."""
    first: dict[tuple, int] = {}
    keys = [first.setdefault(_group_key(s), len(first)) for s in seqs]
    return [seqs[i] for i in sorted(range(len(seqs)), key=lambda i: keys[i])]


def _global_norm(grads: list[torch.Tensor]) -> float:
    """The L2 norm of all gradients together (0 when there are none)."""
    if not grads:
        return 0.0
    return float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads])))


def _full_attention_only(config) -> bool:
    """Whether every layer attends to the whole context (no sliding window), so a prompt's KV cache
    can be reused as is."""
    if getattr(config, "sliding_window", None) and getattr(config, "use_sliding_window", True):
        return False
    return all(t == "full_attention" for t in (getattr(config, "layer_types", None) or ["full_attention"]))


class TrainingMixin:
    def _amp(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    def token_logprobs(self, model, ids: torch.Tensor, attn: torch.Tensor, with_entropy: bool = False):
        """[B, T] logprob of ids[:, t] given ids[:, :t] (column 0 is 0), and optionally entropy [B, T]."""
        with self._amp():
            logits = model(input_ids=ids, attention_mask=attn, use_cache=False).logits  # [B, T, V]
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

    def shared_prompt_logprobs(self, model, chunk: list[dict], with_entropy: bool = False):
        """`token_logprobs` for sequences of which several share a prompt (GRPO groups): each distinct
        prompt is run once, its KV cache is copied to the sequences that share it, and only the rest
        of each sequence (from its first trained token on) runs on top of it. Gradients flow through
        the shared cache, so this is the same function as the full forward pass at a fraction of the
        cost. Prompts are right-padded; the padding columns are masked out of every later query.
        Returns [B, T] aligned with `input_ids` (zeros at prompt positions)."""
        b = len(chunk)
        plens = [_prompt_len(s) for s in chunk]
        unique: dict[tuple[int, ...], int] = {}
        source = [unique.setdefault(tuple(s["input_ids"][:p]), len(unique)) for s, p in zip(chunk, plens)]
        prompts = list(unique)
        width = max(len(p) for p in prompts)
        pids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        pattn = torch.zeros((len(prompts), width), dtype=torch.long)
        for u, p in enumerate(prompts):
            pids[u, : len(p)] = torch.tensor(p)
            pattn[u, : len(p)] = 1
        rest = [s["input_ids"][p:] for s, p in zip(chunk, plens)]
        span = max(len(r) for r in rest)
        sids = torch.full((b, span), self.pad_id, dtype=torch.long)
        sattn = torch.zeros((b, span), dtype=torch.long)
        for i, r in enumerate(rest):
            sids[i, : len(r)] = torch.tensor(r)
            sattn[i, : len(r)] = 1
        last = sorted({len(p) - 1 for p in prompts})  # the prompt logits that predict each first trained token
        col = {c: k for k, c in enumerate(last)}
        dev = self.device
        expand = torch.tensor(source, dtype=torch.long, device=dev)
        pids, pattn, sids, sattn = (x.to(dev) for x in (pids, pattn, sids, sattn))
        plen_t = torch.tensor(plens, dtype=torch.long, device=dev)
        lens = torch.tensor([len(r) for r in rest], dtype=torch.long, device=dev)
        with self._amp():
            out = model(input_ids=pids, attention_mask=pattn, position_ids=torch.arange(width, device=dev)[None].expand(len(prompts), width),
                        use_cache=True, logits_to_keep=torch.tensor(last, dtype=torch.long, device=dev))
            pick = torch.tensor([col[len(p) - 1] for p in prompts], dtype=torch.long, device=dev)
            first = out.logits[torch.arange(len(prompts), device=dev), pick]  # [U, V]
            cache = out.past_key_values
            cache.batch_select_indices(expand)
            attn = torch.cat([pattn.index_select(0, expand), sattn], dim=1)
            # padding after a short rest repeats its last position: never past the sequence's own length
            positions = plen_t[:, None] + torch.minimum(torch.arange(span, device=dev)[None], lens[:, None] - 1)
            logits = model(input_ids=sids, attention_mask=attn, position_ids=positions, past_key_values=cache, use_cache=False).logits
        logits = torch.cat([first.index_select(0, expand)[:, None], logits[:, :-1]], dim=1).float()  # [B, S, V]
        logp_all = torch.log_softmax(logits, dim=-1)
        lp_rest = logp_all.gather(-1, sids[:, :, None]).squeeze(-1)  # [B, S]
        t = max(len(s["input_ids"]) for s in chunk)
        cols = torch.arange(t, device=dev)[None] - plen_t[:, None]  # [B, T]: column in the rest, < 0 in the prompt
        valid = (cols >= 0) & (cols < lens[:, None])
        idx = cols.clamp(0, span - 1)
        lp = torch.where(valid, lp_rest.gather(1, idx), torch.zeros((), device=dev))
        ent = None
        if with_entropy:
            with torch.no_grad():
                e = -(logp_all.exp() * logp_all).sum(-1)
                ent = torch.where(valid, e.gather(1, idx), torch.zeros((), device=dev))
        return lp, ent

    def _chunk_logprobs(self, model, chunk: list[dict], ids: torch.Tensor, attn: torch.Tensor, with_entropy: bool = False):
        """Token logprobs of a micro-batch: through the shared-prompt path when some sequences share a
        prompt and the model allows it, else one plain forward pass."""
        cfg = (model.get_base_model() if hasattr(model, "get_base_model") else model).config
        shared = len({tuple(s["input_ids"][: _prompt_len(s)]) for s in chunk}) < len(chunk)
        # the shared-prompt path reuses a KV cache across two model calls, which a recomputed
        # (checkpointed) layer would extend twice: with activation checkpointing, one plain pass
        if shared and _full_attention_only(cfg) and not self.opts.activation_checkpointing:
            return self.shared_prompt_logprobs(model, chunk, with_entropy)
        return self.token_logprobs(model, ids, attn, with_entropy)

    def _check_reference(self) -> None:
        """The errors of a KL request the engine has no reference for (before any work)."""
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

    def _ensure_reference(self):
        self._check_reference()
        if self.ref_model is not None or self.lora:
            return
        self.ref_model = copy.deepcopy(self.model).eval()
        self.ref_model.requires_grad_(False)

    def _ref_logprobs(self, chunk, ids, attn):
        with torch.no_grad():
            if self.lora:
                with self.model.disable_adapter():
                    lp, _ = self._chunk_logprobs(self.model, chunk, ids, attn)
            else:
                lp, _ = self._chunk_logprobs(self.ref_model, chunk, ids, attn)
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

    def check_request(self, seqs: list[dict], spec: LossSpec) -> bool:
        """Refuses a bad forward_backward request before any work; returns whether the loss needs the
        engine's reference model (a KL term without `ref_logprobs` on every sequence)."""
        if spec.type not in LOSS_TYPES:
            raise RequestError(f"unknown loss type '{spec.type}'; available: {', '.join(LOSS_TYPES)}")
        if spec.is_correction not in ("none", "truncated"):
            raise RequestError(f"unknown is_correction '{spec.is_correction}'; available: none, truncated")
        self.validate_sequences(seqs)
        if spec.is_correction == "truncated" and any(s.get("sampler_logprobs") is None for s in seqs):
            raise RequestError("is_correction 'truncated' needs sampler_logprobs on every sequence")
        return spec.kl_beta > 0 and any(s.get("ref_logprobs") is None for s in seqs)

    @staticmethod
    def batch_norm(seqs: list[dict], spec: LossSpec) -> Norm:
        """The whole request's loss denominators (the same however it is cut into micro-batches or ranks)."""
        total_tokens = sum(int(sum(s["loss_mask"])) for s in seqs)
        max_len = max(len(s["input_ids"]) for s in seqs)
        return Norm(sequences=len(seqs), tokens=total_tokens, max_tokens=spec.max_tokens or max_len)

    def chunk_loss(self, chunk: list[dict], spec: LossSpec, norm: Norm, logprobs) -> tuple[LossOut, float]:
        """One micro-batch's loss contribution: its sequences right-padded to [B, T], the policy's
        token logprobs from `logprobs(chunk, ids, attn)` (with entropy), the reference's when the loss
        has a KL term and the request did not send them, and `policy_loss`. A sequence is on-policy
        when its `policy_version` is the engine's step. Returns the loss and the entropy sum over
        trained tokens."""
        t = max(len(s["input_ids"]) for s in chunk)
        lens = torch.tensor([len(s["input_ids"]) for s in chunk])
        ids = _padded([s["input_ids"] for s in chunk], t, self.pad_id, torch.long)  # [B, T]
        attn = (torch.arange(t)[None] < lens[:, None]).long()
        mask = _padded([s["loss_mask"] for s in chunk], t, 0, torch.float32)
        adv = _padded([_per_token(s.get("advantages", 0.0), len(s["input_ids"])) for s in chunk], t, 0.0, torch.float32)
        slp = _padded([s["sampler_logprobs"] for s in chunk], t, 0.0, torch.float32) if all(s.get("sampler_logprobs") is not None for s in chunk) else None
        rlp = _padded([s["ref_logprobs"] for s in chunk], t, 0.0, torch.float32) if all(s.get("ref_logprobs") is not None for s in chunk) else None
        ids, attn, mask, adv = (x.to(self.device) for x in (ids, attn, mask, adv))
        slp = slp.to(self.device) if slp is not None else None
        lp, ent = logprobs(chunk, ids, attn)
        if spec.kl_beta > 0 and rlp is None:
            rlp = self._ref_logprobs(chunk, ids, attn)
        elif rlp is not None:
            rlp = rlp.to(self.device)
        on_policy = torch.tensor([s.get("policy_version") == self.step for s in chunk], device=self.device)
        out = policy_loss(lp, mask, adv, spec, norm, sampler_logp=slp, ref_logp=rlp, on_policy=on_policy)
        if slp is not None:
            # how far the sampler's logprobs are from these weights' (policy drift included for stale sequences)
            d = (lp.detach() - slp).abs() * mask
            out.mismatch_sum, out.mismatch_max = float(d.sum()), float(d.max()) if d.numel() else 0.0
            out.mismatch_above, out.mismatch_den = float(((d > spec.mismatch_threshold) & (mask > 0)).sum()), float(mask.sum())
        return out, float((ent * mask).sum())

    def settle(self, params: list, saved: list, ok: bool, norm: Norm, sums: tuple[float, float, float, float, float]) -> dict:
        """Ends a forward_backward that ran with fresh gradients: adds the earlier (`saved`) ones back
        when it succeeded, or restores them alone when it did not (nothing of a failed call
        accumulates), and turns the sums of (loss, kl, clipped, clip_den, entropy) into the metrics."""
        for p, g in zip(params, saved):
            if ok:
                if g is not None:
                    p.grad = g if p.grad is None else p.grad.add_(g)
            else:
                p.grad = g
        if ok:
            self.has_grads = self.has_grads or norm.tokens > 0
        loss_sum, kl_sum, clipped, clip_den, ent_sum = sums
        return {
            "loss": loss_sum if ok else None,
            "kl": kl_sum / max(norm.tokens, 1),
            "clip_fraction": clipped / max(clip_den, 1),
            "entropy": ent_sum / max(norm.tokens, 1),
            "tokens": norm.tokens,
            "nonfinite": not ok,
        }

    def forward_backward(self, seqs: list[dict], spec: LossSpec, scale: float = 1.0, micro_batch_size: int | None = None) -> dict:
        if self.check_request(seqs, spec):
            self._ensure_reference()
        t0 = time.perf_counter()
        norm = self.batch_norm(seqs, spec)
        params = [p for p in self.model.parameters() if p.requires_grad]
        saved = [p.grad for p in params]
        for p in params:
            p.grad = None
        loss_sum, kl_sum, clipped, clip_den, ent_sum = 0.0, 0.0, 0.0, 0.0, 0.0
        mm_sum, mm_max, mm_above, mm_den = 0.0, 0.0, 0.0, 0.0
        mbs = micro_batch_size or self.opts.micro_batch_size
        ok = True
        try:
            ordered = _by_group(seqs)
            for start in range(0, len(ordered), mbs):
                chunk = ordered[start : start + mbs]
                out, ent = self.chunk_loss(chunk, spec, norm, lambda c, ids, attn: self._chunk_logprobs(self.model, c, ids, attn, with_entropy=True))
                if not torch.isfinite(out.loss):
                    ok = False
                    break
                (out.loss * scale).backward()
                loss_sum += float(out.loss.detach())
                kl_sum += out.kl_sum
                clipped += out.clipped
                clip_den += out.clip_den
                ent_sum += ent
                mm_sum, mm_max = mm_sum + out.mismatch_sum, max(mm_max, out.mismatch_max)
                mm_above, mm_den = mm_above + out.mismatch_above, mm_den + out.mismatch_den
            if ok:
                ok = all(p.grad is None or bool(torch.isfinite(p.grad).all()) for p in params)
        except BaseException:
            self.settle(params, saved, False, norm, (0.0,) * 5)
            raise
        out = self.settle(params, saved, ok, norm, (loss_sum, kl_sum, clipped, clip_den, ent_sum))
        seconds = time.perf_counter() - t0
        ntoks = sum(len(s["input_ids"]) for s in seqs)
        if mm_den > 0:
            out["logprob_diff_mean"], out["logprob_diff_max"], out["logprob_diff_above"] = mm_sum / mm_den, mm_max, mm_above / mm_den
        return {**out, "sequences": len(seqs), "seconds": seconds, "tokens_per_s": ntoks / seconds if seconds > 0 else 0.0}

    def optim_step(self, lr: float, weight_decay: float = 0.0, betas=(0.9, 0.999), eps: float = 1e-8, grad_clip: float | None = 1.0) -> dict:
        if not self.has_grads:
            raise RequestError("optim_step without gradients: call /train/forward_backward first", code="no_gradients", status=409)
        return self.clip_and_step(lr, weight_decay, betas, eps, grad_clip, _global_norm)

    def clip_and_step(self, lr: float, weight_decay: float, betas, eps: float, grad_clip: float | None, global_norm) -> dict:
        """One AdamW step on the accumulated gradients: their global norm (`global_norm(grads)`, the
        one place a multi-rank engine differs), clipped to `grad_clip` when it is exceeded; nothing is
        applied and `step` does not advance when the norm is not finite. Gradients are cleared."""
        params = [p for p in self.model.parameters() if p.requires_grad]
        if self.optimizer is None:
            self.optimizer = torch.optim.AdamW(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        for g in self.optimizer.param_groups:
            g.update(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        grads = [p.grad for p in params if p.grad is not None]
        grad_norm = global_norm(grads)
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

