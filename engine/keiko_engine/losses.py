"""Policy-gradient losses on token logprobs. Pure functions of tensors, so they can be checked by hand.

Shapes: every per-token tensor is [B, T] and aligned with `input_ids`: `logp[b, t]` is the log-prob of
`input_ids[b, t]` given `input_ids[b, :t]`; `mask[b, t] = 1` marks trained tokens. A loss returned
here is this micro-batch's *contribution* to the batch loss: its denominators (`Norm`) are those of the
whole batch, so summing contributions over micro-batches gives the batch loss (and its gradient).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

LOSS_TYPES = ("sft", "grpo", "dr_grpo", "dapo", "bnpo", "gspo")


@dataclass
class LossSpec:
    type: str = "grpo"  # one of LOSS_TYPES
    eps_low: float = 0.2  # ratio clipped below at 1 - eps_low
    eps_high: float = 0.2  # ratio clipped above at 1 + eps_high (DAPO uses a larger value, e.g. 0.28)
    kl_beta: float = 0.0  # weight of the k3 KL estimator to the reference policy
    is_correction: str = "none"  # none | truncated: weight tokens by min(pi_old / pi_sampler, is_cap)
    is_cap: float = 2.0
    max_tokens: int | None = None  # dr_grpo's constant denominator per sequence (None: longest sequence in the batch)
    mismatch_threshold: float = 0.01  # |trainer - sampler| logprob (nats) above which a token counts as mismatched


@dataclass
class Norm:
    """Whole-batch denominators."""

    sequences: int  # number of sequences in the batch
    tokens: int  # masked tokens in the batch
    max_tokens: int  # dr_grpo: constant tokens per sequence


@dataclass
class LossOut:
    loss: torch.Tensor  # scalar contribution (differentiable)
    kl_sum: float  # sum of k3 over masked tokens (0 without a reference)
    clipped: float  # clipped tokens (sequences for gspo)
    clip_den: float  # tokens (sequences for gspo) the clip fraction is over
    # sampler-trainer mismatch over trained tokens with a sampler logprob: |logp - sampler_logp|
    mismatch_sum: float = 0.0
    mismatch_max: float = 0.0
    mismatch_above: float = 0.0  # tokens above spec.mismatch_threshold
    mismatch_den: float = 0.0  # tokens measured


def k3(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """k3 estimator of KL(pi || ref) per token: exp(ref - logp) - (ref - logp) - 1 (always ≥ 0)."""
    d = ref_logp - logp
    return torch.exp(d) - d - 1


def policy_loss(
    logp: torch.Tensor,  # [B, T] current policy, with grad
    mask: torch.Tensor,  # [B, T] float 0/1
    advantages: torch.Tensor,  # [B, T] (per-sequence advantages broadcast by the caller)
    spec: LossSpec,
    norm: Norm,
    sampler_logp: torch.Tensor | None = None,  # [B, T] logprobs from the sampler
    ref_logp: torch.Tensor | None = None,  # [B, T] reference policy
    on_policy: torch.Tensor | None = None,  # [B] bool: sampled by the weights being trained (None: all False)
) -> LossOut:
    """The clipped policy-gradient loss, as TRL's GRPO with its truncated importance sampling (TIS).

    Three log-probs per token: `logp` (pi_theta, the weights being trained, with grad), `old`
    (pi_old, the trainer's policy that sampled the token) and `sampler_logp` (what the sampler
    reported). `old` is `logp.detach()` for an on-policy sequence (it was sampled by these very
    weights: the ratio is 1 and never clips, as in TRL with one update per batch), and the
    sampler's log-prob for a stale one (async staleness, or a sequence whose policy version is
    unknown): then the ratio is pi_theta / pi_sampler and PPO clipping is active.

        ratio_t = exp(logp_t - old_t)                                   clipped to [1 - eps_low, 1 + eps_high]
        w_t     = min(exp(old_t - sampler_t), is_cap)  (is_correction = truncated; else 1), no grad
        pg_t    = -min(ratio_t * A_t, clip(ratio_t) * A_t) * w_t + kl_beta * k3_t

    So the clipped ratio covers policy staleness and the truncated weight covers sampler/trainer
    mismatch; for a stale sequence `old = sampler` and w = 1. Normalisers: grpo averages each
    sequence's tokens then the sequences; dr_grpo divides the token sum by sequences * max_tokens
    (a constant, TRL's max completion length); dapo/bnpo divide by the batch's trained tokens;
    gspo uses the sequence-level geometric-mean ratio.
    """
    mask = mask.to(logp.dtype)
    ntok = mask.sum(dim=1)  # [B]
    if spec.type == "sft":
        loss = -(logp * mask).sum() / max(norm.tokens, 1)
        kl_sum = 0.0
        if ref_logp is not None:
            kl_sum = float((k3(logp.detach(), ref_logp) * mask).sum())
        return LossOut(loss, kl_sum, 0.0, float(mask.sum()))

    current = logp.detach()
    old = current
    if sampler_logp is not None:
        stale = torch.ones_like(mask, dtype=torch.bool) if on_policy is None else ~on_policy.to(mask.device)[:, None].expand_as(mask)
        old = torch.where(stale & (mask > 0), sampler_logp, current)  # unmasked positions: ratio 1 (and no NaN from junk)
    is_w = torch.ones_like(logp)
    if spec.is_correction == "truncated":
        if sampler_logp is None:
            raise ValueError("is_correction 'truncated' needs sampler_logprobs")
        s = torch.where(mask > 0, sampler_logp, old)
        is_w = torch.exp(old - s).clamp(max=spec.is_cap)

    kl_tok = k3(logp, ref_logp) if ref_logp is not None else torch.zeros_like(logp)
    kl_sum = float((kl_tok.detach() * mask).sum())
    lo, hi = 1.0 - spec.eps_low, 1.0 + spec.eps_high

    if spec.type == "gspo":
        # Sequence-level ratio: geometric mean of token ratios; gradient flows through every token.
        seq_log_ratio = ((logp - old) * mask).sum(dim=1) / ntok.clamp(min=1)  # [B]
        s = torch.exp(seq_log_ratio)
        a = (advantages * mask).sum(dim=1) / ntok.clamp(min=1)  # [B] per-sequence advantage
        w = (torch.log(is_w) * mask).sum(dim=1) / ntok.clamp(min=1)
        w = torch.exp(w)  # [B] geometric-mean IS weight of the sequence
        per_seq = -torch.minimum(s * a, s.clamp(lo, hi) * a) * w
        kl_seq = (kl_tok * mask).sum(dim=1) / ntok.clamp(min=1)
        per_seq = per_seq + spec.kl_beta * kl_seq
        has = (ntok > 0).to(logp.dtype)
        loss = (per_seq * has).sum() / max(norm.sequences, 1)
        sd = s.detach()
        clipped = (((sd < lo) & (a < 0)) | ((sd > hi) & (a > 0))) & (ntok > 0)
        return LossOut(loss, kl_sum, float(clipped.sum()), float(has.sum()))

    ratio = torch.exp(logp - old)
    pg = -torch.minimum(ratio * advantages, ratio.clamp(lo, hi) * advantages)
    per_tok = pg * is_w + spec.kl_beta * kl_tok  # [B, T]
    rd = ratio.detach()
    clipped = (((rd < lo) & (advantages < 0)) | ((rd > hi) & (advantages > 0))).to(logp.dtype) * mask

    if spec.type == "grpo":
        per_seq = (per_tok * mask).sum(dim=1) / ntok.clamp(min=1)  # mean over each sequence's tokens
        loss = per_seq.sum() / max(norm.sequences, 1)
    elif spec.type == "dr_grpo":
        loss = (per_tok * mask).sum() / max(norm.sequences * norm.max_tokens, 1)
    elif spec.type in ("dapo", "bnpo"):
        loss = (per_tok * mask).sum() / max(norm.tokens, 1)
    else:
        raise ValueError(f"unknown loss type '{spec.type}'; available: {', '.join(LOSS_TYPES)}")
    return LossOut(loss, kl_sum, float(clipped.sum()), float(mask.sum()))
