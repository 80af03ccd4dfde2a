"""The engine object directly: sampling exactness, training steps, checkpoints, LoRA, failure paths."""

from __future__ import annotations

import math

import pytest
import torch

from keiko_engine.engine import Engine, EngineOptions
from keiko_engine.errors import RequestError
from keiko_engine.generation import GenRow
from keiko_engine.losses import LossSpec
from tests.device import DEVICE

LOGPROB_TOL = 1e-4  # float32: KV-cache decode vs one full forward pass (observed ~5e-7 on CPU)


def forward_logprobs(model, ids: list[int]) -> list[float]:
    with torch.no_grad():
        lp = torch.log_softmax(model(torch.tensor([ids], device=model.device)).logits.float(), -1)[0]
    return [float(lp[i - 1, ids[i]]) for i in range(1, len(ids))]


def prompts(engine):
    return [engine.tokenizer.encode(s, add_special_tokens=False) for s in ["hello world", "the quick brown fox jumps over", "1 +"]]


def test_sampled_logprobs_equal_forward_pass_logprobs(engine):
    rows = [GenRow(p, max_tokens=24, temperature=1.0, generator=torch.Generator().manual_seed(i)) for i, p in enumerate(prompts(engine) * 2)]
    engine.generate(rows)
    for r in rows:
        assert len(r.token_ids) == len(r.logprobs) > 0
        ref = forward_logprobs(engine.model, r.prompt_ids + r.token_ids)[len(r.prompt_ids) - 1 :]
        assert max(abs(a - b) for a, b in zip(ref, r.logprobs)) < LOGPROB_TOL


def test_greedy_is_deterministic_and_independent_of_batch(engine):
    ps = prompts(engine)
    a = [GenRow(p, max_tokens=16, temperature=0.0) for p in ps]
    b = [GenRow(ps[1], max_tokens=16, temperature=0.0)]
    engine.generate(a)
    engine.generate(b)
    c = [GenRow(p, max_tokens=16, temperature=0.0) for p in ps]
    engine.generate(c)
    assert [r.token_ids for r in a] == [r.token_ids for r in c]
    assert a[1].token_ids == b[0].token_ids


def test_same_seed_same_sample(engine):
    p = prompts(engine)[0]
    runs = []
    for _ in range(2):
        rows = [GenRow(p, max_tokens=12, temperature=1.0, generator=torch.Generator().manual_seed(7))]
        engine.generate(rows)
        runs.append(rows[0].token_ids)
    assert runs[0] == runs[1]


def test_top_p_restricts_to_the_nucleus(engine):
    p = prompts(engine)[0]
    greedy = [GenRow(p, max_tokens=8, temperature=0.0)]
    nucleus = [GenRow(p, max_tokens=8, temperature=1.0, top_p=1e-6, generator=torch.Generator().manual_seed(3))]
    engine.generate(greedy)
    engine.generate(nucleus)
    assert greedy[0].token_ids == nucleus[0].token_ids  # a tiny nucleus keeps only the argmax


def sft_seq(engine, text="the quick brown fox jumps over the lazy dog"):
    ids = engine.tokenizer.encode(text, add_special_tokens=False)
    return {"input_ids": ids, "loss_mask": [0] + [1] * (len(ids) - 1), "advantages": 0.0}


def test_sft_steps_reduce_loss_on_a_memorisable_sequence(engine):
    seq = sft_seq(engine)
    losses = []
    for _ in range(25):
        out = engine.forward_backward([seq], LossSpec(type="sft"))
        losses.append(out["loss"])
        step = engine.optim_step(lr=1e-2)
    assert step["step"] == 25 and not step["skipped"]
    assert losses[-1] < 0.5 * losses[0]
    # and greedy sampling now reproduces the memorised continuation
    ids = seq["input_ids"]
    rows = [GenRow(ids[:4], max_tokens=len(ids) - 4, temperature=0.0)]
    engine.generate(rows)
    assert rows[0].token_ids == ids[4:]


def test_grpo_step_reports_metrics(engine):
    seq = sft_seq(engine)
    lp = [0.0] + forward_logprobs(engine.model, seq["input_ids"])
    out = engine.forward_backward(
        [dict(seq, advantages=1.0, sampler_logprobs=lp), dict(seq, advantages=-0.5, sampler_logprobs=lp)],
        LossSpec(type="grpo", kl_beta=0.1),
    )
    assert out["tokens"] == 2 * (len(seq["input_ids"]) - 1)
    assert out["clip_fraction"] == 0.0 and out["kl"] == pytest.approx(0.0, abs=1e-6)
    assert out["entropy"] > 0 and out["tokens_per_s"] > 0 and not out["nonfinite"]
    # ratio 1 => loss = -mean advantage
    assert out["loss"] == pytest.approx(-0.25, abs=1e-4)


def test_policy_version_decides_which_ratio_is_clipped(engine):
    """A sequence sampled by the engine's current weights (policy_version == step) is on-policy: the
    ratio is 1 and never clips. One sampled by an older policy (or of unknown version) is stale: its
    ratio is taken against the sampler's logprobs, here far from the policy, so it clips."""
    seq = sft_seq(engine)
    far = [0.0] + [x - 1.0 for x in forward_logprobs(engine.model, seq["input_ids"])]  # pi / pi_sampler = e
    spec = LossSpec(type="dapo", eps_high=0.28, is_correction="truncated", is_cap=2.0)
    on = engine.forward_backward([dict(seq, advantages=1.0, sampler_logprobs=far, policy_version=engine.step)], spec)
    stale = engine.forward_backward([dict(seq, advantages=1.0, sampler_logprobs=far, policy_version=engine.step - 1)], spec)
    unknown = engine.forward_backward([dict(seq, advantages=1.0, sampler_logprobs=far)], spec)
    assert on["clip_fraction"] == 0.0 and on["loss"] == pytest.approx(-2.0, abs=1e-4)  # ratio 1, IS weight min(e, 2)
    assert stale["clip_fraction"] == 1.0 and stale["loss"] == pytest.approx(-1.28, abs=1e-4)  # clipped at 1 + eps_high, weight 1
    assert unknown["clip_fraction"] == 1.0 and unknown["loss"] == pytest.approx(-1.28, abs=1e-4)


def params_snapshot(engine):
    return {k: v.detach().clone() for k, v in engine.model.state_dict().items()}


def test_nonfinite_loss_accumulates_nothing_and_step_applies_only_good_grads(engine):
    seq = sft_seq(engine)
    engine.forward_backward([seq], LossSpec(type="sft"))
    good = [p.grad.clone() for p in engine.model.parameters()]
    bad = dict(seq, advantages=1.0, sampler_logprobs=[-1e30] * len(seq["input_ids"]))  # ratio overflows to inf
    out = engine.forward_backward([bad], LossSpec(type="grpo", eps_high=1e9))
    assert out["nonfinite"] is True and out["loss"] is None
    assert all(torch.equal(g, p.grad) for g, p in zip(good, engine.model.parameters()))


def test_optim_step_with_nonfinite_grads_is_skipped(engine):
    engine.forward_backward([sft_seq(engine)], LossSpec(type="sft"))
    before = params_snapshot(engine)
    next(engine.model.parameters()).grad[0, 0] = float("nan")
    res = engine.optim_step(lr=1e-2)
    assert res["skipped"] is True and res["step"] == 0
    after = params_snapshot(engine)
    assert all(torch.equal(before[k], after[k]) for k in before)
    with pytest.raises(RequestError) as e:  # grads were cleared
        engine.optim_step(lr=1e-2)
    assert e.value.code == "no_gradients"


def test_bad_sequences_are_rejected_before_any_work(engine):
    seq = sft_seq(engine)
    cases = [
        [],
        [dict(seq, input_ids=seq["input_ids"][:-1])],  # mask length mismatch
        [dict(seq, input_ids=[engine.vocab_size] + seq["input_ids"][1:])],  # out of vocab
        [{"input_ids": [1] * 200, "loss_mask": [0] + [1] * 199}],  # longer than max_context (128)
        [dict(seq, loss_mask=[1] * len(seq["input_ids"]))],  # first token cannot be trained
        [dict(seq, advantages=[1.0, 2.0])],
    ]
    for c in cases:
        with pytest.raises(RequestError):
            engine.forward_backward(c, LossSpec(type="sft"))
    assert all(p.grad is None for p in engine.model.parameters())


def test_save_load_round_trips_bit_exactly(engine, tmp_path):
    seq = sft_seq(engine)
    for _ in range(2):
        engine.forward_backward([seq], LossSpec(type="sft"))
        engine.optim_step(lr=1e-3, weight_decay=0.01)
    saved = params_snapshot(engine)
    opt_state = {k: v.clone() for k, v in engine.optimizer.state_dict()["state"][0].items()}
    engine.save(str(tmp_path / "ckpt"))
    engine.forward_backward([seq], LossSpec(type="sft"))
    engine.optim_step(lr=1e-2)
    assert engine.step == 3
    res = engine.load(str(tmp_path / "ckpt"))
    assert res["step"] == 2 and engine.step == 2
    now = params_snapshot(engine)
    assert all(torch.equal(saved[k], now[k]) for k in saved)
    restored = engine.optimizer.state_dict()["state"][0]
    assert all(torch.equal(opt_state[k], restored[k]) for k in opt_state)
    # AdamW's step counters stay on the CPU after a load, wherever the weights are (on CUDA they went
    # to the GPU once); the moment buffers follow their parameters.
    assert restored["step"].device.type == "cpu" and restored["exp_avg"].device.type == engine.device.type
    # a fresh engine started on the checkpoint resumes at the same step with the same weights
    e2 = Engine(EngineOptions(model=str(tmp_path / "ckpt"), device=DEVICE, threads=1, dtype="float32"))
    assert e2.step == 2 and all(torch.equal(saved[k], v) for k, v in params_snapshot(e2).items())


def test_failed_load_leaves_weights_untouched(engine, tmp_path):
    before = params_snapshot(engine)
    for bad in [tmp_path / "missing", tmp_path]:
        with pytest.raises(RequestError) as e:
            engine.load(str(bad))
        assert e.value.code == "checkpoint_error"
    assert all(torch.equal(before[k], v) for k, v in params_snapshot(engine).items())


def test_keiko_checkpoint_loads_in_plain_transformers_with_identical_logits(engine, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    engine.forward_backward([sft_seq(engine)], LossSpec(type="sft"))
    engine.optim_step(lr=1e-2)
    engine.save(str(tmp_path / "ckpt"))
    plain = AutoModelForCausalLM.from_pretrained(tmp_path / "ckpt").to(engine.device).eval()
    tok = AutoTokenizer.from_pretrained(tmp_path / "ckpt")
    ids = torch.tensor([sft_seq(engine)["input_ids"]], device=engine.device)
    with torch.no_grad():
        assert torch.equal(plain(ids).logits, engine.model(ids).logits)
    msgs = [{"role": "user", "content": "hi"}]
    assert tok.apply_chat_template(msgs, tokenize=False) == engine.tokenizer.apply_chat_template(msgs, tokenize=False)


def test_lora_trains_adapters_only_and_merges(tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    eng = Engine(EngineOptions(model=tiny_model_dir, device=DEVICE, threads=1, dtype="float32", lora_rank=4))
    info = eng.info()
    assert info["lora"]["rank"] == 4 and 0 < info["trainable_parameters"] < info["parameters"]
    base_before = {k: v.clone() for k, v in eng.model.state_dict().items() if "lora_" not in k}
    seq = sft_seq(eng)
    losses = []
    for _ in range(20):
        losses.append(eng.forward_backward([seq], LossSpec(type="sft"))["loss"])
        eng.optim_step(lr=2e-2)
    # a random-init model's logits are bounded by its tiny tied embeddings, which LoRA does not train,
    # so the drop is smaller than with full fine-tuning; it is still far beyond noise
    assert losses[-1] < losses[0] - 0.3
    base_after = {k: v for k, v in eng.model.state_dict().items() if "lora_" not in k}
    assert all(torch.equal(base_before[k], base_after[k]) for k in base_before)
    # KL against the base (adapters disabled) is available without a separate reference copy
    kl = eng.forward_backward([dict(seq, advantages=1.0)], LossSpec(type="grpo", kl_beta=0.1))["kl"]
    assert kl > 0
    eng.optim_step(lr=0.0)
    ids = torch.tensor([seq["input_ids"]], device=eng.device)
    with torch.no_grad():
        lora_logits = eng.model(ids).logits
    eng.save(str(tmp_path / "merged"), merged_lora=True)
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "merged").to(eng.device).eval()
    with torch.no_grad():
        assert torch.allclose(merged(ids).logits, lora_logits, atol=1e-5)
    eng.save(str(tmp_path / "adapter"))
    assert (tmp_path / "adapter" / "adapter_model.safetensors").exists()
    eng2 = Engine(EngineOptions(model=tiny_model_dir, device=DEVICE, threads=1, dtype="float32", lora_rank=4))
    eng2.load(str(tmp_path / "adapter"))
    with torch.no_grad():
        assert torch.allclose(eng2.model(ids).logits, lora_logits, atol=1e-6)
    # an adapter checkpoint can also be served directly (base weights found through adapter_config.json)
    eng3 = Engine(EngineOptions(model=str(tmp_path / "adapter"), device=DEVICE, threads=1, dtype="float32"))
    assert eng3.lora["rank"] == 4 and eng3.step == eng.step
    with torch.no_grad():
        assert torch.allclose(eng3.model(ids).logits, lora_logits, atol=1e-6)
    assert eng3.optimizer is not None  # optimizer state resumed with the adapter


def test_kl_reference_is_a_frozen_copy_of_the_initial_weights(engine):
    seq = sft_seq(engine)
    first = engine.forward_backward([dict(seq, advantages=1.0)], LossSpec(type="grpo", kl_beta=0.1))
    assert first["kl"] == pytest.approx(0.0, abs=1e-7)
    engine.optim_step(lr=1e-2)
    second = engine.forward_backward([dict(seq, advantages=1.0)], LossSpec(type="grpo", kl_beta=0.1))
    assert second["kl"] > 1e-6 and math.isfinite(second["loss"])


@pytest.mark.parametrize("arch", ["qwen2", "llama"])
def test_fast_decoder_matches_transformers_forward(tmp_path, arch):
    """The lean decode path (fused projections, static KV cache) against transformers' own path,
    on a GQA model (kv_heads < heads) with prompts of different lengths."""
    from keiko_engine.create_model import CreateConfig, create_model
    from keiko_engine.fast_decoder import FastDecoder
    from keiko_engine.generation import generate

    from .conftest import CORPUS

    d = tmp_path / arch
    create_model(CreateConfig(out=str(d), texts=CORPUS, architecture=arch, vocab_size=300, hidden=32, heads=4, kv_heads=2, max_context=64))
    eng = Engine(EngineOptions(model=str(d), device=DEVICE, threads=1, dtype="float32"))
    assert FastDecoder.supports(eng.model)
    ps = prompts(eng)
    runs = {}
    for fast in (True, False):
        rows = [GenRow(p, max_tokens=10, temperature=1.0, generator=torch.Generator().manual_seed(i)) for i, p in enumerate(ps)]
        generate(eng.model, rows, pad_id=eng.pad_id, eos_ids=set(), device=eng.device, shared_generator=torch.Generator(), fast=fast)
        runs[fast] = rows
    # and with a KV cache that has to grow several times while decoding
    import keiko_engine.fast_decoder as fd

    old_step, fd.CACHE_STEP = fd.CACHE_STEP, 3
    try:
        rows = [GenRow(p, max_tokens=10, temperature=1.0, generator=torch.Generator().manual_seed(i)) for i, p in enumerate(ps)]
        generate(eng.model, rows, pad_id=eng.pad_id, eos_ids=set(), device=eng.device, shared_generator=torch.Generator(), fast=True)
    finally:
        fd.CACHE_STEP = old_step
    assert [r.token_ids for r in rows] == [r.token_ids for r in runs[True]]
    for a, b in zip(runs[True], runs[False]):
        assert a.token_ids == b.token_ids
        assert max(abs(x - y) for x, y in zip(a.logprobs, b.logprobs)) < LOGPROB_TOL
        ref = forward_logprobs(eng.model, a.prompt_ids + a.token_ids)[len(a.prompt_ids) - 1 :]
        assert max(abs(x - y) for x, y in zip(ref, a.logprobs)) < LOGPROB_TOL


def test_bf16_autocast_path_samples_and_trains(tiny_model_dir):
    """The mixed-precision path used on CUDA (fp32 weights, bf16 autocast, bf16 KV cache), run on the CPU."""
    eng = Engine(EngineOptions(model=tiny_model_dir, device=DEVICE, threads=1, dtype="bfloat16"))
    assert eng.info()["dtype"] == "float32+autocast(bfloat16)"
    seq = sft_seq(eng)
    for _ in range(2):
        out = eng.forward_backward([seq], LossSpec(type="sft"))
        eng.optim_step(lr=1e-2)
    assert not out["nonfinite"] and eng.step == 2
    rows = [GenRow(p, max_tokens=10, temperature=1.0, generator=torch.Generator().manual_seed(i)) for i, p in enumerate(prompts(eng))]
    eng.generate(rows)
    for r in rows:
        ids = torch.tensor([r.prompt_ids + r.token_ids], device=eng.device)
        lp, _ = eng.token_logprobs(eng.model, ids, torch.ones_like(ids))
        ref = lp[0, len(r.prompt_ids) :].tolist()
        assert max(abs(a - b) for a, b in zip(ref, r.logprobs)) < 0.05  # bf16 rounding, not a different function


def test_rows_sharing_a_prompt_sample_as_if_prefilled_alone(engine):
    """A request's n choices (or a GRPO group) share one prefill: each seeded row still gets exactly
    the tokens and logprobs it gets when sampled on its own."""
    ps = prompts(engine)
    rows = [GenRow(p, max_tokens=10, temperature=1.0, generator=torch.Generator().manual_seed(10 * i + j)) for i, p in enumerate(ps) for j in range(3)]
    engine.generate(rows)
    for k, r in enumerate(rows):
        alone = [GenRow(r.prompt_ids, max_tokens=10, temperature=1.0, generator=torch.Generator().manual_seed(10 * (k // 3) + k % 3))]
        engine.generate(alone)
        assert alone[0].token_ids == r.token_ids
        assert max(abs(a - b) for a, b in zip(alone[0].logprobs, r.logprobs)) < LOGPROB_TOL
        ref = forward_logprobs(engine.model, r.prompt_ids + r.token_ids)[len(r.prompt_ids) - 1 :]
        assert max(abs(a - b) for a, b in zip(ref, r.logprobs)) < LOGPROB_TOL


def grouped_batch(engine):
    """GRPO-like sequences: groups sharing a prompt (prompts of different lengths), completions of
    different lengths, and a multi-turn sequence whose mask has a masked-out gap."""
    seqs = []
    for g, p in enumerate(prompts(engine)):
        for j in range(3):
            done = engine.tokenizer.encode(["over the lazy dog", "world", "= 3; 2 + 2"][j], add_special_tokens=False)[: 2 + g + j]
            ids = p + done
            seqs.append({"input_ids": ids, "loss_mask": [0] * len(p) + [1] * len(done), "advantages": 0.3 * (j - 1) + 0.1 * g,
                         "sampler_logprobs": [0.0] * len(p) + [-1.0 - 0.1 * t for t in range(len(done))]})
    multi = seqs[0]["input_ids"] + engine.tokenizer.encode(" tool says 4 ok", add_special_tokens=False)
    n0 = len(seqs[0]["input_ids"])
    mask = seqs[0]["loss_mask"] + [0] * 3 + [1] * (len(multi) - n0 - 3)
    seqs.append({"input_ids": multi, "loss_mask": mask, "advantages": 0.7, "sampler_logprobs": [-0.5] * len(multi)})
    return seqs


@pytest.mark.parametrize("loss", ["grpo", "dapo", "gspo"])
def test_shared_prompt_training_equals_one_full_forward_per_sequence(engine, loss):
    """forward_backward runs each distinct prompt once and the completions on its KV cache; the loss,
    metrics and gradients are those of plain full-sequence forward passes."""
    seqs = grouped_batch(engine)
    spec = LossSpec(type=loss, kl_beta=0.05)
    shared = engine.forward_backward(seqs, spec)
    g_shared = [p.grad.clone() for p in engine.model.parameters()]
    engine.optim_step(lr=0.0)
    # one sequence per micro-batch: nothing shared, every sequence is one plain forward pass
    plain = engine.forward_backward(seqs, spec, micro_batch_size=1)
    g_plain = [p.grad.clone() for p in engine.model.parameters()]
    for key in ("loss", "kl", "entropy", "clip_fraction", "tokens"):
        assert shared[key] == pytest.approx(plain[key], rel=1e-5, abs=1e-6), key
    for a, b in zip(g_shared, g_plain):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6)
    assert max(float(g.abs().max()) for g in g_plain) > 0


def test_shared_prompt_logprobs_match_the_full_forward_pass(engine):
    seqs = grouped_batch(engine)
    t = max(len(s["input_ids"]) for s in seqs)
    ids = torch.full((len(seqs), t), engine.pad_id, dtype=torch.long)
    attn = torch.zeros((len(seqs), t), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s["input_ids"])] = torch.tensor(s["input_ids"])
        attn[i, : len(s["input_ids"])] = 1
    ids, attn = ids.to(engine.device), attn.to(engine.device)
    with torch.no_grad():
        full, full_ent = engine.token_logprobs(engine.model, ids, attn, with_entropy=True)
        lp, ent = engine.shared_prompt_logprobs(engine.model, seqs, with_entropy=True)
    for i, s in enumerate(seqs):
        first = s["loss_mask"].index(1)
        n = len(s["input_ids"])
        assert torch.allclose(lp[i, first:n], full[i, first:n], atol=1e-5)
        assert torch.allclose(ent[i, first:n], full_ent[i, first:n], atol=1e-5)
        assert bool((lp[i, :first] == 0).all()) and bool((lp[i, n:] == 0).all())


def test_shared_prompt_training_under_lora_equals_full_forward(tiny_model_dir):
    eng = Engine(EngineOptions(model=tiny_model_dir, device=DEVICE, threads=1, dtype="float32", lora_rank=4))
    seqs = grouped_batch(eng)
    eng.forward_backward(seqs, LossSpec(type="sft"))
    eng.optim_step(lr=5e-2)  # non-zero adapters
    spec = LossSpec(type="grpo", kl_beta=0.1)  # KL against the base model (adapters disabled)
    shared = eng.forward_backward(seqs, spec)
    g_shared = [p.grad.clone() for p in eng.model.parameters() if p.grad is not None]
    eng.optim_step(lr=0.0)
    plain = eng.forward_backward(seqs, spec, micro_batch_size=1)
    g_plain = [p.grad.clone() for p in eng.model.parameters() if p.grad is not None]
    assert shared["loss"] == pytest.approx(plain["loss"], rel=1e-5) and shared["kl"] == pytest.approx(plain["kl"], rel=1e-4)
    assert len(g_shared) == len(g_plain) > 0
    for a, b in zip(g_shared, g_plain):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-7)


def test_seeded_sampling_is_gumbel_max_with_one_uniform_draw_per_step(engine):
    """Reference: a seeded row's token t is argmax(logp_t + g_t), g_t = -log(-log U_t), U_t the row
    generator's t-th draw of V uniforms. The engine draws several steps' noise in one call; the
    tokens must be the step-by-step ones."""
    p = prompts(engine)[1]
    rows = [GenRow(p, max_tokens=12, temperature=1.0, generator=torch.Generator().manual_seed(21))]
    engine.generate(rows)
    g = torch.Generator().manual_seed(21)
    ids = list(p)
    with torch.no_grad():
        for tok in rows[0].token_ids:
            logp = torch.log_softmax(engine.model(torch.tensor([ids], device=engine.device)).logits[0, -1].float(), -1)
            u = torch.rand((logp.shape[0],), generator=g).to(logp.device)
            assert int((logp - torch.log(-torch.log(u))).argmax()) == tok
            ids.append(tok)


def test_shared_prompt_training_under_bf16_autocast(tiny_model_dir):
    """The CUDA precision path (fp32 weights, bf16 autocast), on the CPU: the shared-prompt pass is
    the same function up to bf16 rounding."""
    eng = Engine(EngineOptions(model=tiny_model_dir, device=DEVICE, threads=1, dtype="bfloat16"))
    seqs = grouped_batch(eng)
    shared = eng.forward_backward(seqs, LossSpec(type="grpo"))
    g_shared = torch.cat([p.grad.flatten() for p in eng.model.parameters()])
    eng.optim_step(lr=0.0)
    plain = eng.forward_backward(seqs, LossSpec(type="grpo"), micro_batch_size=1)
    g_plain = torch.cat([p.grad.flatten() for p in eng.model.parameters()])
    assert not shared["nonfinite"] and shared["loss"] == pytest.approx(plain["loss"], rel=0.05, abs=1e-3)
    assert float((g_shared - g_plain).norm()) < 0.05 * float(g_plain.norm())


def test_activation_checkpointing_gives_the_same_loss_and_gradients(tiny_model_dir):
    """Checkpointed layers (recomputed in the backward, one plain pass) against the default path."""
    engines = [Engine(EngineOptions(model=tiny_model_dir, device=DEVICE, threads=1, dtype="float32", activation_checkpointing=ac)) for ac in (False, True)]
    enc = lambda t: engines[0].tokenizer.encode(t, add_special_tokens=False)  # noqa: E731
    p = enc("1 + 2 =")
    seqs = [{"input_ids": p + enc(c), "loss_mask": [0] * len(p) + [1] * len(enc(c)), "advantages": a} for c, a in ((" 3", 1.0), (" 4 5", -1.0), (" dog", 0.5))]
    outs = [e.forward_backward(seqs, LossSpec(type="grpo"), 1.0, 2) for e in engines]
    assert abs(outs[0]["loss"] - outs[1]["loss"]) <= 1e-6 * max(1.0, abs(outs[0]["loss"]))
    grads = [{n: q.grad for n, q in e.model.named_parameters() if q.grad is not None} for e in engines]
    assert set(grads[0]) == set(grads[1]) and grads[0]
    assert max(float((grads[0][n] - grads[1][n]).abs().max()) for n in grads[0]) <= 1e-6
