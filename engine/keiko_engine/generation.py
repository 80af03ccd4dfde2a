"""Batched autoregressive sampling with a KV cache.

All rows (prompts × n choices, from one or several requests) run together: distinct prompts are
left-padded and prefilled in one forward pass (rows sharing a prompt share its prefill), then decoded
one token per step; rows that finish are dropped from the
batch and its cache. The logprob reported for a sampled token is the model's log-softmax at
temperature 1 (what the trainer recomputes), whatever temperature/top-p was used to draw it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import torch


@dataclass
class GenRow:
    """One sequence to sample. Outputs are filled in by `generate`."""

    prompt_ids: list[int]
    max_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    stop: list[str] = field(default_factory=list)
    generator: torch.Generator | None = None  # per-row seed; None = the engine's shared generator
    # outputs
    token_ids: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    finish_reason: str = "length"
    stop_text_end: int | None = None  # index in the decoded text where a stop string begins
    policy_version: int = 0  # optimizer step of the weights that sampled this row
    cancelled: bool = False  # set from another thread when the client went away: dropped at the next token

    @property
    def seeded(self) -> bool:
        return self.temperature > 0 and self.generator is not None


NOISE_BLOCK_FLOATS = 1 << 22  # seeded rows' noise for a whole generation is drawn up front when it fits (16 MiB)


class _SeededNoise:
    """The uniform noise of every seeded row for every step, drawn up front: [B, steps, V], one call
    per row. A CPU generator yields the same numbers whether asked for steps×V values at once or V
    per step, so the tokens are those of step-by-step drawing, without a call per row per token."""

    def __init__(self, rows: list[GenRow], v: int):
        self.block = torch.full((len(rows), max(r.max_tokens for r in rows), v), 0.5)
        for i, r in enumerate(rows):
            if r.seeded:
                self.block[i, : r.max_tokens] = torch.rand((r.max_tokens, v), generator=r.generator)

    @staticmethod
    def fits(rows: list[GenRow], v: int) -> bool:
        """Worth it and small enough: some row is seeded, none uses top-p (which draws otherwise)."""
        need = len(rows) * max(r.max_tokens for r in rows) * v
        return any(r.seeded for r in rows) and all(r.top_p >= 1.0 for r in rows) and need <= NOISE_BLOCK_FLOATS

    def keep(self, rows: torch.Tensor) -> None:
        self.block = self.block.index_select(0, rows)

    def at(self, step: int) -> torch.Tensor:
        return self.block[:, step]  # [B, V]


def _filter_top_p(probs: torch.Tensor, top_p: torch.Tensor) -> torch.Tensor:
    """Zeroes the tail of each row outside its nucleus. probs: [B, V], top_p: [B]."""
    sorted_p, idx = probs.sort(dim=-1, descending=True)
    cum = sorted_p.cumsum(dim=-1)
    drop = (cum - sorted_p) > top_p[:, None]  # keep tokens until the mass before them exceeds top_p
    sorted_p = sorted_p.masked_fill(drop, 0.0)
    out = torch.zeros_like(probs).scatter_(-1, idx, sorted_p)
    return out / out.sum(dim=-1, keepdim=True)


class _Draw:
    """Per-batch sampling state (temperatures, generators), rebuilt only when rows leave the batch.

    Without top-p, sampling is the Gumbel-max trick: argmax(logp / T + g), g = -log(-log U), which
    draws exactly from softmax(logits / T) in a few batched ops. Noise comes from the CPU generator of
    the row (seeded requests) or the shared one, so a seeded request gets the same tokens whatever
    else shares its batch."""

    def __init__(self, rows: list[GenRow], device: torch.device):
        self.rows = rows
        self.all_greedy = all(r.temperature <= 0 for r in rows)
        self.top_p = any(r.top_p < 1.0 for r in rows)
        self.inv_t = torch.tensor([1.0 / max(r.temperature, 1e-6) for r in rows], device=device)[:, None]
        self.greedy = torch.tensor([r.temperature <= 0 for r in rows], device=device)
        self.any_greedy = bool(self.greedy.any())
        self.unit_t = all(r.temperature == 1.0 for r in rows)
        self.shared_idx = [i for i, r in enumerate(rows) if r.temperature > 0 and r.generator is None]
        self.seeded = [(i, r.generator) for i, r in enumerate(rows) if r.seeded]

    def __call__(self, logits: torch.Tensor, logp: torch.Tensor, shared: torch.Generator, seeded_u: torch.Tensor | None = None) -> torch.Tensor:
        """logits/logp: [B, V] float32; `seeded_u`: this step's noise of the seeded rows when drawn up
        front (_SeededNoise), else they draw now. Returns [B] int64 token ids."""
        if self.all_greedy:
            return logits.argmax(dim=-1)
        if self.top_p:
            return _sample_top_p(logits, self.rows, shared, logits.argmax(dim=-1))
        b, v = logits.shape
        if len(self.shared_idx) == b:
            u = torch.rand((b, v), generator=shared)
        else:
            u = seeded_u.clone() if seeded_u is not None else torch.full((b, v), 0.5)
            if self.shared_idx:
                u[self.shared_idx] = torch.rand((len(self.shared_idx), v), generator=shared)
            if seeded_u is None:
                for i, g in self.seeded:
                    u[i] = torch.rand((v,), generator=g)
        gumbel = u.log_().neg_().log_().neg_().to(logits.device)  # -log(-log U)
        scaled = logp if self.unit_t else logp * self.inv_t
        drawn = (scaled + gumbel).argmax(dim=-1)
        if self.any_greedy:
            return torch.where(self.greedy, logits.argmax(dim=-1), drawn)
        return drawn


def _sample_top_p(logits: torch.Tensor, rows: list[GenRow], shared: torch.Generator, out: torch.Tensor) -> torch.Tensor:
    b = logits.shape[0]
    temps = torch.tensor([r.temperature for r in rows], dtype=torch.float32, device=logits.device)
    greedy = temps <= 0
    probs = torch.softmax(logits / temps.clamp(min=1e-6)[:, None], dim=-1)
    top_p = torch.tensor([r.top_p for r in rows], dtype=torch.float32, device=logits.device)
    probs_cpu = _filter_top_p(probs, top_p).float().cpu()  # sampling on CPU keeps generators device-independent
    shared_rows = [i for i in range(b) if not greedy[i] and rows[i].generator is None]
    if shared_rows:
        draws = torch.multinomial(probs_cpu[shared_rows], 1, generator=shared).squeeze(1)
        out[shared_rows] = draws.to(out.device)
    for i in range(b):
        if not greedy[i] and rows[i].generator is not None:
            out[i] = int(torch.multinomial(probs_cpu[i], 1, generator=rows[i].generator))
    return out


class _HFStepper:
    """Steps through transformers' own forward with a DynamicCache (any causal LM)."""

    def __init__(self, model, device):
        from transformers import DynamicCache

        self.model = model
        self.cache = DynamicCache(config=model.config)

    def prefill(self, ids, attn, pos):
        out = self.model(input_ids=ids, attention_mask=attn, position_ids=pos, past_key_values=self.cache, use_cache=True, logits_to_keep=1)
        return out.logits[:, -1, :]

    def step(self, nxt, attn, pos):
        out = self.model(input_ids=nxt[:, None], attention_mask=attn, position_ids=pos, past_key_values=self.cache, use_cache=True)
        return out.logits[:, -1, :]

    def select(self, rows):
        self.cache.batch_select_indices(rows)


class _FastStepper:
    """The lean Llama-family path (fast_decoder.FastDecoder)."""

    def __init__(self, model, device, batch, max_len, dtype, initial_len):
        from .fast_decoder import FastDecoder

        self.dec = FastDecoder(model, batch, max_len, device, dtype, initial_len)

    def prefill(self, ids, attn, pos):
        return self.dec.forward(ids, pos, attn.bool())

    def step(self, nxt, attn, pos):
        return self.dec.forward(nxt[:, None], pos, attn.bool())

    def select(self, rows):
        self.dec.select(rows)


@torch.inference_mode()
def generate(
    model,
    rows: list[GenRow],
    *,
    pad_id: int,
    eos_ids: set[int],
    device: torch.device,
    shared_generator: torch.Generator,
    decode=None,
    autocast_dtype: torch.dtype | None = None,
    fast: bool = True,
) -> None:
    """Samples every row in place. `decode(ids) -> str` is needed only when rows have stop strings.
    `fast` uses the lean Llama-family decoder when the model supports it (else transformers' forward)."""
    from .fast_decoder import FastDecoder

    if not rows:
        return
    # Rows with the same prompt (the n choices of a request, GRPO's group) are prefilled once; their
    # cache rows and first logits are then copied to every row that shares the prompt.
    unique: dict[tuple[int, ...], int] = {}
    source = [unique.setdefault(tuple(r.prompt_ids), len(unique)) for r in rows]
    prompts = list(unique)
    lens = [len(p) for p in prompts]
    width = max(lens)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    attn = torch.zeros((len(prompts), width), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, width - lens[i] :] = torch.tensor(p, dtype=torch.long)
        attn[i, width - lens[i] :] = 1
    ids, attn = ids.to(device), attn.to(device)
    pos = (attn.cumsum(-1) - 1).clamp(min=0)

    max_new = max(r.max_tokens for r in rows)
    if fast and FastDecoder.supports(model):
        stepper = _FastStepper(model, device, len(prompts), width + max_new, autocast_dtype or torch.float32, width)
    else:
        stepper = _HFStepper(model, device)
    amp = (
        torch.autocast(device_type=device.type, dtype=autocast_dtype)
        if autocast_dtype is not None
        else contextlib.nullcontext()
    )
    with amp:
        logits = stepper.prefill(ids, attn, pos).float()
    if len(prompts) < len(rows):
        expand = torch.tensor(source, dtype=torch.long, device=device)
        stepper.select(expand)
        logits, attn, pos = logits.index_select(0, expand), attn.index_select(0, expand), pos.index_select(0, expand)
    # Preallocated mask: [B, width + max_new]; the decode step t sees columns [:width + t + 1].
    full_attn = torch.cat([attn, torch.ones((len(rows), max_new), dtype=torch.long, device=device)], dim=1)
    active = list(range(len(rows)))  # indices into `rows` of the rows still in the batch
    last_pos = pos[:, -1:]
    step = 0
    draw = _Draw(rows, device)
    noise = _SeededNoise(rows, logits.shape[-1]) if _SeededNoise.fits(rows, logits.shape[-1]) else None
    while True:
        logp = torch.log_softmax(logits, dim=-1)
        nxt = draw(logits, logp, shared_generator, noise.at(step) if noise is not None else None)
        chosen_lp = logp.gather(-1, nxt[:, None]).squeeze(1)
        both = torch.stack([nxt.to(chosen_lp.dtype), chosen_lp]).tolist()  # one device->host copy
        nxt_list, chosen_lp = [int(x) for x in both[0]], both[1]
        keep: list[int] = []
        for j, i in enumerate(active):
            r = rows[i]
            if r.cancelled:
                r.finish_reason = "cancelled"
                continue
            tok = nxt_list[j]
            r.token_ids.append(tok)
            r.logprobs.append(chosen_lp[j])
            if tok in eos_ids:
                r.finish_reason = "stop"
                continue
            if r.stop and decode is not None:
                text = decode(r.token_ids)
                hits = [text.find(s) for s in r.stop if s and s in text]
                if hits:
                    r.finish_reason = "stop"
                    r.stop_text_end = min(hits)
                    continue
            if len(r.token_ids) >= r.max_tokens:
                r.finish_reason = "length"
                continue
            keep.append(j)
        if not keep:
            break
        if len(keep) < len(active):
            sel = torch.tensor(keep, dtype=torch.long, device=device)
            stepper.select(sel)
            full_attn = full_attn.index_select(0, sel)
            last_pos = last_pos.index_select(0, sel)
            nxt = nxt.index_select(0, sel)
            active = [active[j] for j in keep]
            draw = _Draw([rows[i] for i in active], device)
            if noise is not None:
                noise.keep(torch.tensor(keep, dtype=torch.long))
        step += 1
        last_pos = last_pos + 1
        with amp:
            logits = stepper.step(nxt, full_attn[:, : width + step], last_pos).float()
