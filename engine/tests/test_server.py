"""The HTTP service in-process (FastAPI app over httpx): OpenAI shapes, batching, training, bad input."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import torch
from fastapi.testclient import TestClient

from keiko_engine.chat import parse_tool_calls
from keiko_engine.server import create_app
from tests.device import DEVICE


@pytest.fixture()
def app(engine, tmp_path):
    return create_app(engine, checkpoint_roots=[str(tmp_path)])


@pytest.fixture()
def client(app):
    with TestClient(app) as c:
        yield c


def weights(app):
    return {k: v.clone() for k, v in app.state.engine.model.state_dict().items()}


def test_health_info_models(client):
    assert client.get("/health").json()["status"] == "ok"
    info = client.get("/info").json()
    for key in ("model", "architecture", "parameters", "dtype", "device", "threads", "step", "vocab_size", "max_context", "lora"):
        assert key in info
    assert info["architecture"] == "Qwen2ForCausalLM" and info["step"] == 0 and info["lora"] is None
    assert client.get("/v1/models").json()["data"][0]["id"] == info["model"]


def test_completions_return_ids_and_logprobs(client, app):
    r = client.post("/v1/completions", json={"prompt": "hello world", "max_tokens": 6, "n": 2, "seed": 1, "return_token_ids": True})
    assert r.status_code == 200
    body = r.json()
    assert body["policy_version"] == 0 and len(body["choices"]) == 2
    tok = app.state.engine.tokenizer
    for ch in body["choices"]:
        assert ch["prompt_token_ids"] == tok.encode("hello world", add_special_tokens=False)
        assert len(ch["token_ids"]) == len(ch["logprobs"]["token_logprobs"]) <= 6
        assert all(lp <= 0 for lp in ch["logprobs"]["token_logprobs"])
        assert ch["finish_reason"] in ("stop", "length")
    # token-id prompts work and give the same greedy result as text prompts
    ids = body["choices"][0]["prompt_token_ids"]
    a = client.post("/v1/completions", json={"prompt": ids, "max_tokens": 5, "temperature": 0, "return_token_ids": True}).json()
    b = client.post("/v1/completions", json={"prompt": "hello world", "max_tokens": 5, "temperature": 0, "return_token_ids": True}).json()
    assert a["choices"][0]["token_ids"] == b["choices"][0]["token_ids"]
    assert body["usage"]["prompt_tokens"] == len(ids)


def test_chat_renders_template_and_returns_ids(client, app):
    msgs = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "1 + 2 ="}]
    r = client.post("/v1/chat/completions", json={"messages": msgs, "max_tokens": 8, "logprobs": True, "return_token_ids": True, "seed": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    tok = app.state.engine.tokenizer
    expect = tok.encode(tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False), add_special_tokens=False)
    assert body["prompt_token_ids"] == expect
    ch = body["choices"][0]
    assert len(ch["logprobs"]["content"]) == len(ch["token_ids"])
    assert isinstance(ch["logprobs"]["content"][0]["logprob"], float)


def test_chat_template_renders_tools_and_tool_turns(app):
    tok = app.state.engine.tokenizer
    tools = [{"type": "function", "function": {"name": "add", "description": "add", "parameters": {"type": "object"}}}]
    msgs = [
        {"role": "user", "content": "add 1 and 2"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "3"},
    ]
    text = tok.apply_chat_template(msgs, tools=tools, add_generation_prompt=True, tokenize=False)
    assert '<tool_call>{"name": "add", "arguments": {"a": 1, "b": 2}}</tool_call>' in text
    assert "<|im_start|>tool\n3<|im_end|>" in text and '"name": "add"' in text.split("</tools>")[0]
    assert text.endswith("<|im_start|>assistant\n")


def test_tool_calls_are_parsed_back():
    content, calls = parse_tool_calls('let me add <tool_call>{"name": "add", "arguments": {"a": 1}}</tool_call>')
    assert content == "let me add " and calls[0]["function"] == {"name": "add", "arguments": '{"a": 1}'}
    content, calls = parse_tool_calls('<tool_call>{"name": "x", "arguments": {}}</tool_call>')
    assert content is None and len(calls) == 1
    content, calls = parse_tool_calls("<tool_call>not json</tool_call>")
    assert calls == [] and content == "<tool_call>not json</tool_call>"


def test_sampled_tool_call_becomes_tool_calls(app, client):
    # Teach the model one tool call by SFT, then sample it greedily through the chat endpoint.
    eng = app.state.engine
    tok = eng.tokenizer
    msgs = [{"role": "user", "content": "add"}]
    prompt = tok.encode(tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False), add_special_tokens=False)
    target = tok.encode('<tool_call>{"name": "add", "arguments": {"a": 1}}</tool_call><|im_end|>', add_special_tokens=False)
    seq = {"input_ids": prompt + target, "loss_mask": [0] * len(prompt) + [1] * len(target)}
    for _ in range(60):
        assert client.post("/train/forward_backward", json={"sequences": [seq], "loss": {"type": "sft"}}).status_code == 200
        client.post("/train/optim_step", json={"lr": 1e-2})
    # (no `tools` in the request: the 128-token test context has no room for the tool list)
    body = client.post("/v1/chat/completions", json={"messages": msgs, "temperature": 0, "max_tokens": 40, "return_token_ids": True}).json()
    ch = body["choices"][0]
    assert ch["token_ids"] == target, tok.decode(ch["token_ids"])
    assert ch["finish_reason"] == "tool_calls"
    assert ch["message"]["tool_calls"][0]["function"] == {"name": "add", "arguments": '{"a": 1}'}
    assert body["policy_version"] == 60


def test_stop_strings_cut_the_text(client):
    full = client.post("/v1/completions", json={"prompt": "the", "max_tokens": 12, "temperature": 0}).json()["choices"][0]["text"]
    assert len(full) > 3
    stop = full[2:4]
    cut = client.post("/v1/completions", json={"prompt": "the", "max_tokens": 12, "temperature": 0, "stop": [stop]}).json()["choices"][0]
    assert cut["finish_reason"] == "stop" and stop not in cut["text"] and full.startswith(cut["text"])


def test_training_round_trip_and_new_weights_are_served(client, app, tmp_path):
    eng = app.state.engine
    ids = eng.tokenizer.encode("hello world, this is keiko", add_special_tokens=False)
    before = client.post("/v1/completions", json={"prompt": ids[:3], "max_tokens": 4, "temperature": 0, "return_token_ids": True}).json()
    seq = {"input_ids": ids, "loss_mask": [0] + [1] * (len(ids) - 1), "advantages": 1.0}
    fb = client.post("/train/forward_backward", json={"sequences": [seq, dict(seq, advantages=-1.0)], "loss": {"type": "dapo", "eps_high": 0.28}}).json()
    for key in ("loss", "kl", "clip_fraction", "entropy", "tokens", "seconds", "tokens_per_s", "nonfinite"):
        assert key in fb
    fb = client.post("/train/forward_backward", json={"sequences": [seq], "loss": {"type": "sft"}})
    assert fb.status_code == 200
    st = client.post("/train/optim_step", json={"lr": 5e-2, "grad_clip": 1.0}).json()
    assert st["step"] == 1 and st["skipped"] is False and st["grad_norm"] > 0
    after = client.post("/v1/completions", json={"prompt": ids[:3], "max_tokens": 4, "temperature": 0, "return_token_ids": True}).json()
    assert after["policy_version"] == 1
    lp_before = before["choices"][0]["logprobs"]["token_logprobs"]
    lp_after = after["choices"][0]["logprobs"]["token_logprobs"]
    assert lp_before != lp_after
    r = client.post("/train/save", json={"path": str(tmp_path / "ck")})
    assert r.status_code == 200 and (tmp_path / "ck" / "model.safetensors").exists()
    assert (tmp_path / "ck" / "trainer_state" / "optimizer.pt").exists()
    assert client.post("/train/load", json={"path": str(tmp_path / "ck")}).json()["step"] == 1


def test_export_weights_writes_a_full_sync_checkpoint_with_an_explicit_lm_head(client, app, tmp_path):
    from safetensors.torch import load_file

    eng = app.state.engine
    assert eng.model.config.tie_word_embeddings  # keiko's models tie lm_head to the embeddings
    ids = eng.tokenizer.encode("hello world", add_special_tokens=False)
    seq = {"input_ids": ids, "loss_mask": [0] + [1] * (len(ids) - 1), "advantages": 1.0}
    client.post("/train/forward_backward", json={"sequences": [seq], "loss": {"type": "sft"}, "optim_step": {"lr": 1e-2}})
    target = tmp_path / "sync"
    (target).mkdir()
    (target / "stale.txt").write_text("from the last sync")
    r = client.post("/train/export_weights", json={"path": str(target)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["step"] == 1 and body["path"] == str(target) and body["bytes"] > 0
    tensors = load_file(str(target / "model.safetensors"))
    own = eng.model.state_dict()
    assert "lm_head.weight" in tensors
    assert torch.equal(tensors["lm_head.weight"], own["model.embed_tokens.weight"].cpu())
    assert set(own) <= set(tensors) and all(torch.equal(tensors[k], own[k].cpu()) for k in own)
    assert (target / "config.json").exists() and not (target / "stale.txt").exists()  # replaced whole
    assert '"step": 1' in (target / "keiko_sync.json").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".sync.tmp")]


def test_export_weights_under_lora_merges_the_adapter(tiny_model_dir, tmp_path):
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    from keiko_engine.engine import Engine, EngineOptions
    from keiko_engine.losses import LossSpec

    eng = Engine(EngineOptions(model=tiny_model_dir, device=DEVICE, threads=1, dtype="float32", lora_rank=4))
    ids = eng.tokenizer.encode("hello world", add_special_tokens=False)
    eng.forward_backward([{"input_ids": ids, "loss_mask": [0] + [1] * (len(ids) - 1), "advantages": 1.0}], LossSpec(type="sft"))
    eng.optim_step(5e-2)
    out = eng.export_weights(str(tmp_path / "sync"))
    assert out["step"] == 1
    tensors = load_file(str(tmp_path / "sync" / "model.safetensors"))
    assert not any("lora_" in k for k in tensors) and "lm_head.weight" in tensors
    plain = AutoModelForCausalLM.from_pretrained(tiny_model_dir, torch_dtype=torch.float32)
    plain.load_state_dict(tensors, strict=False)
    x = torch.tensor([ids])
    with torch.no_grad():
        assert torch.allclose(plain(x).logits, eng.model(x.to(eng.model.device)).logits.cpu(), atol=1e-5)


def test_forward_backward_reports_the_sampler_trainer_logprob_mismatch(client, app):
    prompt = app.state.engine.tokenizer.encode("hello world", add_special_tokens=False)
    out = client.post("/v1/completions", json={"prompt": prompt, "max_tokens": 4, "temperature": 0, "return_token_ids": True}).json()["choices"][0]
    done, lps = out["token_ids"], out["logprobs"]["token_logprobs"]
    sampler = [0.0] * len(prompt) + [lp for lp in lps]
    sampler[-1] += 0.5  # one token off by 0.5 nats
    seq = {"input_ids": prompt + done, "loss_mask": [0] * len(prompt) + [1] * len(done), "advantages": 1.0, "sampler_logprobs": sampler, "policy_version": 0}
    r = client.post("/train/forward_backward", json={"sequences": [seq], "loss": {"type": "grpo", "is_correction": "truncated", "mismatch_threshold": 0.1}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert abs(body["logprob_diff_max"] - 0.5) < 1e-4
    assert abs(body["logprob_diff_mean"] - 0.5 / len(done)) < 1e-4
    assert body["logprob_diff_above"] == 1 / len(done)
    plain = client.post("/train/forward_backward", json={"sequences": [dict(seq, sampler_logprobs=None)], "loss": {"type": "grpo"}}).json()
    assert "logprob_diff_mean" not in plain  # nothing to compare without sampler logprobs


def test_nonfinite_step_is_reported_as_json_and_applies_nothing(client, app):
    before = weights(app)
    ids = app.state.engine.tokenizer.encode("hello world", add_special_tokens=False)
    seq = {"input_ids": ids, "loss_mask": [0] + [1] * (len(ids) - 1), "advantages": 1.0, "sampler_logprobs": [-1e30] * len(ids)}
    r = client.post("/train/forward_backward", json={"sequences": [seq], "loss": {"type": "grpo", "eps_high": 1e9}})
    assert r.status_code == 200, r.text
    assert r.json()["nonfinite"] is True and r.json()["loss"] is None
    assert client.post("/train/optim_step", json={"lr": 1e-2}).status_code == 409  # nothing was accumulated
    after = weights(app)
    assert all(torch.equal(before[k], after[k]) for k in before)


BAD_REQUESTS = [
    ("/v1/completions", {"prompt": "hi", "max_tokens": -1}),
    ("/v1/completions", {"prompt": [1, 10**9]}),
    ("/v1/completions", {"prompt": "hi", "max_tokens": 10**6}),
    ("/v1/completions", {"prompt": ["a", "b"]}),
    ("/v1/completions", {"prompt": "hi", "temperature": "hot"}),
    ("/v1/completions", {"prompt": [1.5, 2]}),
    ("/v1/completions", {"prompt": []}),
    ("/v1/chat/completions", {"messages": []}),
    ("/v1/chat/completions", {"messages": [{"role": "wizard", "content": "x"}]}),
    ("/train/forward_backward", {"sequences": []}),
    ("/train/forward_backward", {"sequences": [{"input_ids": [1, 2, 3], "loss_mask": [0, 1]}]}),
    ("/train/forward_backward", {"sequences": [{"input_ids": [1, 99999], "loss_mask": [0, 1]}]}),
    ("/train/forward_backward", {"sequences": [{"input_ids": [1] * 500, "loss_mask": [0] * 500}]}),
    ("/train/forward_backward", {"sequences": [{"input_ids": [1, 2], "loss_mask": [0, 1]}], "loss": {"type": "ppo"}}),
    ("/train/forward_backward", {"sequences": [{"input_ids": [1, 2], "loss_mask": [0, 2]}]}),
    ("/train/forward_backward", {"sequences": [{"input_ids": [1, 2], "loss_mask": [0, 1]}], "loss": {"type": "grpo", "is_correction": "truncated"}}),
    ("/train/optim_step", {"lr": 1e-3}),  # no gradients accumulated
    ("/train/forward_backward", {"sequences": [{"input_ids": [1, 2], "loss_mask": [0, 0]}], "optim_step": {"lr": 1e-3}}),  # nothing to step on
    ("/train/forward_backward", {"sequences": [{"input_ids": [1, 2], "loss_mask": [0, 1]}], "optim_step": {"lr": -1}}),
    ("/train/optim_step", {"lr": -1}),
    ("/train/load", {"path": "/nonexistent/ckpt"}),
]


def test_bad_requests_get_4xx_json_and_change_nothing(client, app):
    before = weights(app)
    for path, body in BAD_REQUESTS:
        r = client.post(path, json=body)
        assert 400 <= r.status_code < 500, (path, body, r.status_code, r.text)
        err = r.json()["error"]
        assert err["code"] and err["message"], (path, body)
    r = client.post("/v1/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500
    assert client.get("/health").json()["status"] == "ok"
    assert client.post("/v1/completions", json={"prompt": "hi", "max_tokens": 2}).status_code == 200
    after = weights(app)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in app.state.engine.model.parameters())
    assert client.get("/info").json()["step"] == 0


def test_concurrent_requests_are_batched_together(app):
    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://engine") as c:
            worker = app.state.worker
            # Occupy the worker so the next requests queue up behind it.
            blocker = asyncio.create_task(c.post("/v1/completions", json={"prompt": "the quick", "max_tokens": 40, "temperature": 0}))
            await asyncio.sleep(0.05)
            start = worker.batches
            reqs = [c.post("/v1/completions", json={"prompt": f"hello {i}", "max_tokens": 8, "seed": i}) for i in range(6)]
            res = await asyncio.gather(*reqs)
            await blocker
            assert all(r.status_code == 200 for r in res)
            return worker.batches - start

    passes = asyncio.run(main())
    assert passes <= 3  # six concurrent requests shared (at most) a couple of generation passes


def test_chat_batch_samples_every_request_in_one_pass_with_exact_ids(client, app):
    """n choices of several prompts in one HTTP call and one generation pass; each choice is what the
    single-request endpoint returns for the same seed, and its logprobs are the model's."""
    from .test_engine import LOGPROB_TOL, forward_logprobs

    def req(text, seed):
        return {"messages": [{"role": "user", "content": text}], "n": 3, "max_tokens": 8, "seed": seed, "logprobs": True, "return_token_ids": True}

    reqs = [req("1 + 2 =", 5), req("hello world", 6)]
    worker = app.state.worker
    before = worker.batches
    r = client.post("/v1/chat/completions/batch", json={"requests": reqs})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert worker.batches - before == 1 and worker.last_batch_rows == 6
    for rq, body in zip(reqs, data):
        single = client.post("/v1/chat/completions", json=rq).json()
        assert body["prompt_token_ids"] == single["prompt_token_ids"] and len(body["choices"]) == 3
        ids = [c["token_ids"] for c in body["choices"]]
        assert ids == [c["token_ids"] for c in single["choices"]]
        assert len({tuple(x) for x in ids}) > 1  # n distinct samples, not one copied
        for c in body["choices"]:
            lps = [t["logprob"] for t in c["logprobs"]["content"]]
            assert len(lps) == len(c["token_ids"])
            ref = forward_logprobs(app.state.engine.model, body["prompt_token_ids"] + c["token_ids"])[len(body["prompt_token_ids"]) - 1 :]
            assert max(abs(a - b) for a, b in zip(ref, lps)) < LOGPROB_TOL
            tok = app.state.engine.tokenizer
            assert [t["token"] for t in c["logprobs"]["content"]] == [tok.decode([t], skip_special_tokens=False) for t in c["token_ids"]]


def test_chat_batch_reports_a_bad_item_alone(client):
    good = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, "seed": 1}
    r = client.post("/v1/chat/completions/batch", json={"requests": [good, {"messages": [{"role": "robot", "content": "x"}]}, {"messages": []}]})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data[0]["object"] == "chat.completion" and len(data[0]["choices"]) == 1
    assert data[1]["error"]["code"] == "invalid_request" and "requests[1]" in data[1]["error"]["message"] and data[1]["status"] == 400
    assert "requests[2]" in data[2]["error"]["message"]
    assert client.post("/v1/chat/completions/batch", json={"requests": []}).status_code == 400


def test_chat_tokenize_gives_the_prompt_ids_of_chat_without_sampling(client, app):
    convs = [
        {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "1 + 2 ="}]},
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "again"}], "max_tokens": 3},
    ]
    worker = app.state.worker
    before = worker.batches
    r = client.post("/v1/chat/tokenize", json={"requests": convs})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert worker.batches == before  # no generation pass
    for conv, item in zip(convs, data):
        chat = client.post("/v1/chat/completions", json={**conv, "max_tokens": 1, "return_token_ids": True}).json()
        assert item["prompt_token_ids"] == chat["prompt_token_ids"]
    bad = client.post("/v1/chat/tokenize", json={"requests": [convs[0], {"messages": [{"role": "robot", "content": "x"}]}]})
    assert bad.status_code == 400 and "requests[1]" in bad.json()["error"]["message"]
    assert client.post("/v1/chat/tokenize", json={"requests": []}).status_code == 400


def test_forward_backward_with_optim_step_equals_the_two_calls(app, tiny_model_dir):
    """`optim_step` inside forward_backward: one round trip, the same update bit for bit; not applied
    when the loss is non-finite."""
    from keiko_engine.engine import Engine, EngineOptions

    other = create_app(Engine(EngineOptions(model=tiny_model_dir, device=DEVICE, threads=1, dtype="float32")))
    ids = app.state.engine.tokenizer.encode("hello world, this is keiko", add_special_tokens=False)
    seqs = [{"input_ids": ids, "loss_mask": [0] * 3 + [1] * (len(ids) - 3), "advantages": a} for a in (1.0, -0.5)]
    optim = {"lr": 5e-2, "grad_clip": 1.0}
    with TestClient(app) as fused, TestClient(other) as split:
        for _ in range(2):
            one = fused.post("/train/forward_backward", json={"sequences": seqs, "loss": {"type": "grpo"}, "optim_step": optim}).json()
            two = split.post("/train/forward_backward", json={"sequences": seqs, "loss": {"type": "grpo"}}).json()
            st = split.post("/train/optim_step", json=optim).json()
            assert one["optim_step"] == st and one["loss"] == two["loss"]
        assert st["step"] == 2
        a, b = weights(app), weights(other)
        assert all(torch.equal(a[k], b[k]) for k in a)
        bad = dict(seqs[0], sampler_logprobs=[-1e30] * len(ids))
        r = fused.post("/train/forward_backward", json={"sequences": [bad], "loss": {"type": "grpo", "eps_high": 1e9}, "optim_step": optim}).json()
        assert r["nonfinite"] is True and r["optim_step"] is None
        assert fused.get("/info").json()["step"] == 2 and all(torch.equal(a[k], v) for k, v in weights(app).items())


def test_chat_batch_larger_than_a_pass_is_split_into_passes(engine):
    small = create_app(engine, max_batch_rows=4)
    reqs = [{"messages": [{"role": "user", "content": t}], "n": 3, "max_tokens": 6, "seed": 9, "return_token_ids": True} for t in ("1 + 2 =", "hello")]
    with TestClient(small) as c:
        before = small.state.worker.batches
        data = c.post("/v1/chat/completions/batch", json={"requests": reqs}).json()["data"]
        assert small.state.worker.batches - before == 2 and small.state.worker.last_batch_rows == 2  # 6 rows: 4 + 2
        for rq, body in zip(reqs, data):
            single = c.post("/v1/chat/completions", json=rq).json()
            assert [ch["token_ids"] for ch in body["choices"]] == [ch["token_ids"] for ch in single["choices"]]
