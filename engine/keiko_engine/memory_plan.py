"""Per-GPU memory of full fine-tuning under FSDP2, computed from a model's config and the sharding.

`python -m keiko_engine plan --model DIR|PRESET --ranks N [--tokens T]` prints the table; the plan in
bench/distributed/MEMORY.md is this module's output for Qwen2.5 0.5B, 7B and 32B.

What each rank holds, for P parameters on W ranks (the engine keeps float32 master weights; on a GPU
FSDP2 casts each layer to bf16 when it gathers it):
- sharded, for the whole run: weights 4P/W, gradients 4P/W, AdamW's two moments 8P/W bytes;
- gathered, while a layer runs: that layer's weights in bf16 (FSDP2 prefetches the next one, so two
  layers), and the root module (embeddings, and the head when it is not tied) in bf16;
- activations of one micro-batch of T tokens: per decoder layer, the tensors autograd keeps for the
  backward (bf16, plus float32 copies inside the RMSNorms); with activation checkpointing only each
  layer's input is kept and one layer is recomputed at a time;
- the logits of the micro-batch: bf16 logits, their float32 copy and the float32 log-softmax that the
  backward needs (10 bytes per token per vocabulary entry) — at a 152k vocabulary this, not the
  model, is often the largest single item; shrink the micro-batch (`--micro-batch-size`) to cut it.

Estimates, not measurements: allocator fragmentation, CUDA context (~0.5–1 GiB) and NCCL buffers come
on top, hence the 10% headroom used to decide which rank counts fit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

GIB = 1024**3

# Published Qwen2.5 configurations (the shape fields of their config.json).
PRESETS: dict[str, dict] = {
    "qwen2.5-0.5b": dict(hidden_size=896, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                         intermediate_size=4864, vocab_size=151936, tie_word_embeddings=True),
    "qwen2.5-7b": dict(hidden_size=3584, num_hidden_layers=28, num_attention_heads=28, num_key_value_heads=4,
                       intermediate_size=18944, vocab_size=152064, tie_word_embeddings=False),
    "qwen2.5-32b": dict(hidden_size=5120, num_hidden_layers=64, num_attention_heads=40, num_key_value_heads=8,
                        intermediate_size=27648, vocab_size=152064, tie_word_embeddings=False),
}


@dataclass(frozen=True)
class Shape:
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    vocab: int
    tied: bool
    head_dim: int

    @staticmethod
    def of(cfg: dict) -> "Shape":
        heads = int(cfg["num_attention_heads"])
        hidden = int(cfg["hidden_size"])
        return Shape(hidden=hidden, layers=int(cfg["num_hidden_layers"]), heads=heads,
                     kv_heads=int(cfg.get("num_key_value_heads") or heads), intermediate=int(cfg["intermediate_size"]),
                     vocab=int(cfg["vocab_size"]), tied=bool(cfg.get("tie_word_embeddings", False)),
                     head_dim=int(cfg.get("head_dim") or hidden // heads))

    def layer_params(self) -> int:
        """One Qwen2/Llama decoder layer: q/k/v (with biases, as Qwen2), o, the SwiGLU MLP, two RMSNorms."""
        h, kv = self.hidden, self.kv_heads * self.head_dim
        q = self.heads * self.head_dim
        attn = h * q + q + 2 * (h * kv + kv) + q * h
        mlp = 3 * h * self.intermediate
        return attn + mlp + 2 * h

    def root_params(self) -> int:
        """Embeddings, the final norm and (untied) the head: what `fully_shard(model)` holds."""
        return self.vocab * self.hidden * (1 if self.tied else 2) + self.hidden

    def params(self) -> int:
        return self.layers * self.layer_params() + self.root_params()


def plan(cfg: dict, ranks: int, tokens: int = 8192, checkpointing: bool = False) -> dict:
    """Bytes per rank for full fine-tuning with AdamW under FSDP2 on `ranks` ranks, micro-batch of `tokens` tokens."""
    s = Shape.of(cfg)
    p = s.params()
    kv = s.kv_heads * s.head_dim
    # per token per layer, bf16 tensors saved for the backward: the norm inputs, q/k/v inputs and outputs,
    # the attention output and o_proj input, the MLP input, gate/up/activation and down's input; plus the
    # float32 copies the two RMSNorms keep
    layer_act = tokens * (2 * (6 * s.hidden + 2 * kv + 4 * s.intermediate) + 2 * 4 * s.hidden)
    if checkpointing:
        acts = s.layers * tokens * s.hidden * 2 + layer_act
    else:
        acts = s.layers * layer_act
    out = {
        "parameters": p,
        "ranks": ranks,
        "tokens": tokens,
        "checkpointing": checkpointing,
        "weights_fp32": 4 * p / ranks,
        "grads_fp32": 4 * p / ranks,
        "adam_moments": 8 * p / ranks,
        "gathered_bf16": 2 * (2 * s.layer_params() + s.root_params()),
        "activations": acts,
        "logits": 10 * tokens * s.vocab,
    }
    out["total"] = sum(v for k, v in out.items() if k in ("weights_fp32", "grads_fp32", "adam_moments", "gathered_bf16", "activations", "logits"))
    return out


def comm_bytes_per_step(cfg: dict, ranks: int, micro_batches: int = 1, bf16: bool = True) -> dict:
    """Bytes each rank sends per optimizer step under FSDP2 (one model call per micro-batch): every
    micro-batch all-gathers each decoder layer's weights in the forward and again in the backward
    (they are resharded after the forward), the root module's once (FSDP2 keeps the root gathered
    until its backward), and reduce-scatters every gradient in float32. A ring all-gather or
    reduce-scatter of S bytes sends S (W-1)/W bytes per rank. Measured against this in
    bench/distributed/comm_volume.py."""
    s = Shape.of(cfg)
    p = s.params()
    w = 2 if bf16 else 4
    share = (ranks - 1) / ranks
    gather = micro_batches * (2 * s.layers * s.layer_params() + s.root_params()) * w * share
    reduce = micro_batches * p * 4 * share
    return {"all_gather": gather, "reduce_scatter": reduce, "total": gather + reduce}


def fitting_ranks(cfg: dict, gpu_gib: float, tokens: int, checkpointing: bool, choices=(1, 2, 4, 8, 16, 32, 64)) -> int | None:
    """The smallest rank count whose per-rank total fits `gpu_gib` with 10% headroom."""
    for r in choices:
        if plan(cfg, r, tokens, checkpointing)["total"] <= 0.9 * gpu_gib * GIB:
            return r
    return None


def load_config(model: str) -> tuple[str, dict]:
    if model in PRESETS:
        return model, PRESETS[model]
    path = Path(model) / "config.json"
    if not path.exists():
        raise ValueError(f"'{model}' is neither a preset ({', '.join(PRESETS)}) nor a model directory with a config.json")
    return Path(model).name, json.loads(path.read_text())


def render(name: str, cfg: dict, ranks: list[int], tokens: int, checkpointing: bool) -> str:
    rows = [plan(cfg, r, tokens, checkpointing) for r in ranks]
    lines = [f"{name}: {rows[0]['parameters'] / 1e9:.2f} B parameters, micro-batch {tokens} tokens, "
             f"activation checkpointing {'on' if checkpointing else 'off'} (GiB per rank)",
             "| ranks | weights | grads | AdamW | gathered bf16 | activations | logits | total |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        g = lambda k: f"{r[k] / GIB:.1f}"  # noqa: E731
        lines.append(f"| {r['ranks']} | {g('weights_fp32')} | {g('grads_fp32')} | {g('adam_moments')} | {g('gathered_bf16')} | "
                     f"{g('activations')} | {g('logits')} | **{g('total')}** |")
    return "\n".join(lines)


def main(args) -> int:
    name, cfg = load_config(args.model)
    ranks = [int(r) for r in str(args.ranks).split(",")]
    if any(r < 1 for r in ranks):
        raise ValueError("--ranks must be positive")
    print(render(name, cfg, ranks, args.tokens, args.activation_checkpointing))
    c = comm_bytes_per_step(cfg, max(ranks), micro_batches=1)
    print(f"\ncommunication per rank per micro-batch at {max(ranks)} ranks: all-gather {c['all_gather'] / GIB:.2f} GiB (bf16), "
          f"reduce-scatter {c['reduce_scatter'] / GIB:.2f} GiB (float32)")
    for gpu in (80, 141):
        n = fitting_ranks(cfg, gpu, args.tokens, args.activation_checkpointing)
        print(f"fits {gpu} GiB GPUs from {n} ranks" if n else f"does not fit {gpu} GiB GPUs at up to 64 ranks")
    return 0
