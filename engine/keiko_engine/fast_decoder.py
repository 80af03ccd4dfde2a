"""A lean decode path for Llama-family models (Llama, Qwen2, Mistral without sliding windows).

transformers' generic forward rebuilds masks, caches and kwargs on every step; for small models that
Python overhead is most of the decode time. This path calls the model's own modules (embeddings,
norms, projections, MLPs — so peft LoRA wrappers keep working) but does attention itself against a
preallocated KV cache. It computes the same function as the model's forward; the engine's tests compare
its logprobs with a plain forward pass.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SUPPORTED = ("llama", "qwen2", "mistral", "qwen3")
CACHE_STEP = 256  # KV-cache growth granularity (tokens)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class FastDecoder:
    """Prefill + one-token steps over a static KV cache of shape [B, KVH, S, D] per layer."""

    @staticmethod
    def supports(model) -> bool:
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        cfg = base.config
        if cfg.model_type not in SUPPORTED:
            return False
        if getattr(cfg, "use_sliding_window", False) and getattr(cfg, "sliding_window", None):
            return False
        inner = getattr(base, "model", None)
        layers = getattr(inner, "layers", None)
        if layers is None or not hasattr(inner, "rotary_emb") or not hasattr(base, "lm_head"):
            return False
        attn = layers[0].self_attn
        return all(hasattr(attn, n) for n in ("q_proj", "k_proj", "v_proj", "o_proj"))

    def __init__(self, model, batch: int, max_len: int, device: torch.device, dtype: torch.dtype, initial_len: int = 0):
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        self.base = base
        # Fused q/k/v and gate/up weights (fewer, larger matmuls), unless peft wraps the projections.
        self.fused = None if hasattr(model, "get_base_model") else _fused_weights(base)
        self.plain = _plain_layers(base, self.fused) if self.fused is not None else None
        self.inner = base.model
        cfg = base.config
        self.layers = list(self.inner.layers)
        self.heads = cfg.num_attention_heads
        self.kv_heads = cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        self.scaling = self.head_dim**-0.5
        # The cache starts with room for the prompt + CACHE_STEP tokens and doubles when full, so a
        # large max_tokens (chat defaults to the rest of the context) does not preallocate it all.
        self.max_len = max_len
        shape = (batch, self.kv_heads, min(max_len, initial_len + CACHE_STEP), self.head_dim)
        self.k = [torch.zeros(shape, device=device, dtype=dtype) for _ in self.layers]
        self.v = [torch.zeros(shape, device=device, dtype=dtype) for _ in self.layers]
        self.len = 0  # filled columns of the cache
        self.final_norm = (self.inner.norm.weight, _eps(self.inner.norm))
        self.lm_head_weight = base.lm_head.weight
        # cos/sin for every position once, unless the RoPE variant depends on the sequence length
        rope = self.inner.rotary_emb
        self.rope_table = None
        if "dynamic" not in str(getattr(rope, "rope_type", "default")):
            probe = torch.zeros((1, 1, cfg.hidden_size), device=device, dtype=torch.float32)  # RoPE in fp32, as transformers does
            cos, sin = rope(probe, torch.arange(max_len, device=device)[None])
            half = cos.shape[-1] // 2
            sign = torch.cat([-torch.ones(half, device=device), torch.ones(half, device=device)]).to(sin.dtype)
            # [S, 2, D]: cos, and sin with rotate_half's sign folded in (rotate_half(x) = roll(x) * sign)
            self.rope_table = torch.stack([cos[0], sin[0] * sign], dim=1)

    def _grow(self, need: int) -> None:
        cap = min(self.max_len, max(need, 2 * self.k[0].shape[2]))
        extra = cap - self.k[0].shape[2]

        def grow(c: torch.Tensor) -> torch.Tensor:
            pad = torch.zeros((c.shape[0], c.shape[1], extra, c.shape[3]), device=c.device, dtype=c.dtype)
            return torch.cat([c, pad], dim=2)

        self.k = [grow(c) for c in self.k]
        self.v = [grow(c) for c in self.v]

    def select(self, rows: torch.Tensor) -> None:
        """Keeps only these batch rows in the cache."""
        self.k = [k.index_select(0, rows) for k in self.k]
        self.v = [v.index_select(0, rows) for v in self.v]

    def _attend(self, layer, h: torch.Tensor, cos, sin, mask: torch.Tensor, li: int) -> torch.Tensor:
        attn = layer.self_attn
        b, t, _ = h.shape
        if self.fused is not None and not hasattr(attn, "q_norm"):
            # one matmul for q, k, v and one rotary pass over q and k together
            w, bias = self.fused["qkv"][li]
            nh = self.heads + self.kv_heads
            qkv = F.linear(h, w, bias).view(b, t, nh + self.kv_heads, self.head_dim)
            qk = qkv[:, :, :nh]
            qk = qk * cos[:, :, None] + _rotate_half(qk) * sin[:, :, None]
            q = qk[:, :, : self.heads].transpose(1, 2)  # [B, H, T, D]
            k = qk[:, :, self.heads :].transpose(1, 2)  # [B, KVH, T, D]
            v = qkv[:, :, nh:].transpose(1, 2)
            return self._attn_core(attn, q, k, v, mask, li, b, t)
        if self.fused is not None:
            w, bias = self.fused["qkv"][li]
            nq, nk = self.heads * self.head_dim, self.kv_heads * self.head_dim
            q, k, v = F.linear(h, w, bias).split((nq, nk, nk), dim=-1)
            q = q.view(b, t, -1, self.head_dim).transpose(1, 2)
            k = k.view(b, t, -1, self.head_dim).transpose(1, 2)
            v = v.view(b, t, -1, self.head_dim).transpose(1, 2)
        else:
            q = attn.q_proj(h).view(b, t, -1, self.head_dim).transpose(1, 2)  # [B, H, T, D]
            k = attn.k_proj(h).view(b, t, -1, self.head_dim).transpose(1, 2)  # [B, KVH, T, D]
            v = attn.v_proj(h).view(b, t, -1, self.head_dim).transpose(1, 2)
        if hasattr(attn, "q_norm"):  # qwen3
            q, k = attn.q_norm(q), attn.k_norm(k)
        c, s = cos[:, None], sin[:, None]
        q = q * c + _rotate_half(q) * s
        k = k * c + _rotate_half(k) * s
        return self._attn_core(attn, q, k, v, mask, li, b, t)

    def _attn_core(self, attn, q, k, v, mask, li: int, b: int, t: int) -> torch.Tensor:
        end = self.len + t
        self.k[li][:, :, self.len : end] = k
        self.v[li][:, :, self.len : end] = v
        keys, vals = self.k[li][:, :, :end], self.v[li][:, :, :end]
        if self.kv_heads != self.heads:
            rep = self.heads // self.kv_heads
            keys = keys.repeat_interleave(rep, dim=1)
            vals = vals.repeat_interleave(rep, dim=1)
        o = F.scaled_dot_product_attention(q, keys.to(q.dtype), vals.to(q.dtype), attn_mask=mask, scale=self.scaling)
        o = o.transpose(1, 2).reshape(b, t, -1)
        if self.fused is not None:
            return F.linear(o, attn.o_proj.weight, attn.o_proj.bias)
        return attn.o_proj(o)

    def forward(self, ids: torch.Tensor, positions: torch.Tensor, key_valid: torch.Tensor) -> torch.Tensor:
        """ids, positions: [B, T]; key_valid: [B, len + T] bool (padding = False). Returns last logits [B, V]."""
        b, t = ids.shape
        if self.len + t > self.k[0].shape[2]:
            self._grow(self.len + t)
        h = self.inner.embed_tokens(ids)
        signed = False
        if self.rope_table is not None:
            cs = self.rope_table[positions]  # [B, T, 2, D]
            cos, sin = cs[:, :, 0], cs[:, :, 1]
            signed = True
        else:
            cos, sin = self.inner.rotary_emb(h, positions)
        end = self.len + t
        mask = key_valid[:, None, None, :end]  # [B, 1, 1, S]
        if t > 1:
            causal = torch.ones((t, end), dtype=torch.bool, device=ids.device).tril(diagonal=self.len)
            mask = mask & causal[None, None]
            # padding queries would see no key at all (NaN): let each see itself; their output is unused
            eye = torch.zeros((t, end), dtype=torch.bool, device=ids.device)
            eye[:, self.len :] = torch.eye(t, dtype=torch.bool, device=ids.device)
            mask = mask | eye[None, None]
        if self.plain is not None and signed:
            return self._forward_plain(h, cos, sin, mask, b, t)
        if signed:
            sin = sin * torch.cat([-torch.ones_like(sin[..., : sin.shape[-1] // 2]), torch.ones_like(sin[..., sin.shape[-1] // 2 :])], dim=-1)
        for li, layer in enumerate(self.layers):
            h = h + self._attend(layer, self._norm(layer.input_layernorm, h), cos, sin, mask, li)
            h = h + self._mlp(layer, li, self._norm(layer.post_attention_layernorm, h))
        self.len = end
        h = self._norm(self.inner.norm, h[:, -1:, :])
        return self.base.lm_head(h)[:, -1, :]

    def _forward_plain(self, h, cos, sin, mask, b: int, t: int) -> torch.Tensor:
        """The whole stack on plain tensors (no module calls): the common case of an unwrapped model."""
        H, KVH, D = self.heads, self.kv_heads, self.head_dim
        nh = H + KVH
        end = self.len + t
        rep = H // KVH
        rms = F.rms_norm
        d = h.shape[-1]
        cos, sin = cos[:, :, None], sin[:, :, None]
        half = D // 2
        for li, (ln1, e1, wqkv, bqkv, wo, bo, ln2, e2, wgu, wd, bd) in enumerate(self.plain):
            x = rms(h, (d,), ln1, e1)
            qkv = F.linear(x, wqkv, bqkv).view(b, t, nh + KVH, D)
            qk = qkv[:, :, :nh]
            qk = qk * cos + qk.roll(half, dims=-1) * sin  # sin carries rotate_half's sign
            kc, vc = self.k[li], self.v[li]
            kc[:, :, self.len : end] = qk[:, :, H:].transpose(1, 2)
            vc[:, :, self.len : end] = qkv[:, :, nh:].transpose(1, 2)
            keys, vals = kc[:, :, :end], vc[:, :, :end]
            if rep != 1:
                keys, vals = keys.repeat_interleave(rep, dim=1), vals.repeat_interleave(rep, dim=1)
            q = qk[:, :, :H].transpose(1, 2).to(kc.dtype)  # no-op in fp32; bf16 cache under CUDA autocast
            o = F.scaled_dot_product_attention(q, keys, vals, attn_mask=mask, scale=self.scaling)
            h = h + F.linear(o.transpose(1, 2).reshape(b, t, -1), wo, bo)
            x = rms(h, (d,), ln2, e2)
            g, u = F.linear(x, wgu).chunk(2, dim=-1)
            h = h + F.linear(F.silu(g) * u, wd, bd)
        self.len = end
        h = rms(h[:, -1:, :], (d,), self.final_norm[0], self.final_norm[1])
        return F.linear(h, self.lm_head_weight)[:, -1, :]

    def _norm(self, norm, h: torch.Tensor) -> torch.Tensor:
        if self.fused is None:
            return norm(h)
        eps = getattr(norm, "variance_epsilon", None) or getattr(norm, "eps", 1e-6)
        return F.rms_norm(h.float(), (h.shape[-1],), norm.weight.float(), eps).to(h.dtype)

    def _mlp(self, layer, li: int, h: torch.Tensor) -> torch.Tensor:
        if self.fused is None or self.fused["gate_up"][li] is None:
            return layer.mlp(h)
        gu = F.linear(h, self.fused["gate_up"][li])
        g, u = gu.chunk(2, dim=-1)
        down = layer.mlp.down_proj
        return F.linear(F.silu(g) * u, down.weight, down.bias)


def _eps(norm) -> float:
    return float(getattr(norm, "variance_epsilon", None) or getattr(norm, "eps", None) or 1e-6)


def _plain_layers(base, fused: dict) -> list | None:
    """Per-layer weight tuples for `FastDecoder._forward_plain`, or None when the model does not fit
    (float32/bf16 weights only, no q/k norms, gated SiLU MLP, untied or tied LM head without bias)."""
    if any(g is None for g in fused["gate_up"]) or getattr(base.lm_head, "bias", None) is not None:
        return None
    out = []
    for li, layer in enumerate(base.model.layers):
        a, mlp = layer.self_attn, layer.mlp
        if hasattr(a, "q_norm"):
            return None
        wqkv, bqkv = fused["qkv"][li]
        out.append((
            layer.input_layernorm.weight, _eps(layer.input_layernorm), wqkv, bqkv, a.o_proj.weight, a.o_proj.bias,
            layer.post_attention_layernorm.weight, _eps(layer.post_attention_layernorm), fused["gate_up"][li],
            mlp.down_proj.weight, mlp.down_proj.bias,
        ))
    return out


def _fused_weights(base) -> dict | None:
    """Concatenated projection weights, cached on the model and rebuilt when any weight changed
    (tensor `_version` counters move on every in-place update, e.g. an optimizer step or a load)."""
    params = list(base.parameters())
    key = (tuple(p._version for p in params), tuple(p.data_ptr() for p in params))
    cached = getattr(base, "_keiko_fused", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    qkv, gate_up = [], []
    with torch.no_grad():
        for layer in base.model.layers:
            a = layer.self_attn
            w = torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight], dim=0)
            biases = [a.q_proj.bias, a.k_proj.bias, a.v_proj.bias]
            bias = torch.cat(biases) if all(b is not None for b in biases) else None
            if bias is None and any(b is not None for b in biases):
                return None
            qkv.append((w, bias))
            mlp = layer.mlp
            silu = getattr(base.config, "hidden_act", "silu") == "silu"
            if silu and all(hasattr(mlp, n) for n in ("gate_proj", "up_proj", "down_proj")):
                gate_up.append(torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight], dim=0))
            else:
                gate_up.append(None)
    fused = {"qkv": qkv, "gate_up": gate_up}
    object.__setattr__(base, "_keiko_fused", (key, fused))
    return fused
