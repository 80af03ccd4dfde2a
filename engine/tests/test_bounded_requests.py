"""Hostile or careless requests cost bounded time and memory and get 4xx in one error shape."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import pytest
import torch
from fastapi.testclient import TestClient

from keiko_engine.server import create_app


@pytest.fixture()
def app(engine, tmp_path):
    return create_app(engine, checkpoint_roots=[str(tmp_path)], max_body_bytes=64 * 1024)


@pytest.fixture()
def client(app):
    with TestClient(app) as c:
        yield c


def _weights(engine):
    return {k: v.clone() for k, v in engine.model.state_dict().items()}


def _grads(client, engine):
    ids = engine.tokenizer.encode("hello world", add_special_tokens=False)
    seq = {"input_ids": ids, "loss_mask": [0] + [1] * (len(ids) - 1)}
    assert client.post("/train/forward_backward", json={"sequences": [seq], "loss": {"type": "sft"}}).status_code == 200


def test_oversized_bodies_get_413_whether_declared_or_chunked(client):
    big = json.dumps({"prompt": "x" * 100_000}).encode()
    r = client.post("/v1/completions", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"

    def chunks():
        for _ in range(40):
            yield b" " * 4096
        yield b'{"prompt": "hi"}'

    r = client.post("/v1/completions", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert client.post("/v1/completions", json={"prompt": "hi", "max_tokens": 2}).status_code == 200


def test_a_prompt_too_long_to_fit_is_refused_before_tokenising(client, engine, monkeypatch):
    calls = []
    real = engine.tokenizer.encode
    monkeypatch.setattr(engine.tokenizer, "encode", lambda *a, **k: calls.append(1) or real(*a, **k))
    r = client.post("/v1/completions", json={"prompt": "a" * 60_000})
    assert r.status_code == 400 and r.json()["error"]["code"] == "context_length_exceeded"
    r = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "a" * 60_000}]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "context_length_exceeded"
    assert calls == []


@pytest.mark.parametrize("body", [
    {"prompt": "cut mid-emoji \ud83d"},
    {"prompt": "hi", "stop": ["\udc00"]},
])
def test_lone_surrogates_get_400(client, body):
    raw = json.dumps(body)  # json.dumps writes "\\ud83d" escapes, as JSON.stringify does
    r = client.post("/v1/completions", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_request", r.text


def test_lone_surrogates_in_chat_get_400_also_inside_a_batch(client):
    raw = json.dumps({"messages": [{"role": "user", "content": "a\ud83d"}]})
    r = client.post("/v1/chat/completions", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_request", r.text
    raw = json.dumps({"requests": [{"messages": [{"role": "user", "content": "a\ud83d"}], "max_tokens": 2},
                                   {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}]})
    r = client.post("/v1/chat/completions/batch", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 200
    data = r.json()["data"]
    assert data[0]["error"]["code"] == "invalid_request" and "choices" in data[1]


@pytest.mark.parametrize("opt", [
    {"lr": "Infinity"}, {"lr": "NaN"}, {"lr": 1e30}, {"lr": 1e-3, "weight_decay": 1e30},
    {"lr": 1e-3, "betas": [1, 1]}, {"lr": 1e-3, "betas": [-5, 7]}, {"lr": 1e-3, "eps": 0},
    {"lr": 1e-3, "grad_clip": "Infinity"},
])
def test_optimizer_settings_that_would_destroy_the_model_get_400(client, engine, opt):
    _grads(client, engine)
    before = _weights(engine)
    raw = json.dumps(opt).replace('"Infinity"', "Infinity").replace('"NaN"', "NaN")
    r = client.post("/train/optim_step", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_request", r.text
    assert all(torch.equal(before[k], v) for k, v in _weights(engine).items())
    assert client.get("/info").json()["step"] == 0


def test_every_error_has_one_shape_and_no_docs_by_default(client, engine):
    for method, path, kw in [
        ("get", "/nope", {}),
        ("get", "//", {}),
        ("get", "/train/optim_step", {}),  # 405
        ("post", "/v1/completions", {"content": b"{not json", "headers": {"content-type": "application/json"}}),
        ("get", "/docs", {}),
        ("get", "/openapi.json", {}),
    ]:
        r = getattr(client, method)(path, **kw)
        assert 400 <= r.status_code < 500, (path, r.status_code)
        err = r.json()["error"]
        assert err["code"] and err["message"], (path, r.text)
    with TestClient(create_app(engine, docs=True)) as c:
        assert c.get("/openapi.json").status_code == 200


def test_health_reports_a_busy_and_a_stuck_worker(engine):
    app = create_app(engine, stuck_after_s=0.3)
    gate = threading.Event()
    with TestClient(app) as c:
        assert c.get("/health").json()["status"] == "ok"
        worker = app.state.worker

        async def block():
            await worker.call(gate.wait)

        t = threading.Thread(target=lambda: asyncio.run(block()))
        t.start()
        try:
            deadline = time.time() + 5
            while worker.state()["busy_s"] == 0 and time.time() < deadline:
                time.sleep(0.01)
            assert c.get("/health").json()["status"] == "busy"
            time.sleep(0.4)
            r = c.get("/health")
            assert r.status_code == 503 and r.json()["status"] == "stuck"
        finally:
            gate.set()
            t.join()
        assert c.get("/health").json()["status"] == "ok"


def test_a_client_that_disconnects_cancels_its_generation(engine):
    """A dropped request stops holding the worker: the next request is answered long before the abandoned one would have finished."""
    import uvicorn

    app = create_app(engine)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error")
    server = uvicorn.Server(config)
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    try:
        deadline = time.time() + 30
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        # a big batch: 64 requests × 128 samples, up to the whole context each (minutes of work: a
        # single request of 128 rows can finish within the client's timeout on a quiet machine)
        one = {"messages": [{"role": "user", "content": "hi"}], "n": 128, "max_tokens": engine.max_context // 2, "temperature": 1.0}
        heavy = {"requests": [one] * 64}
        with pytest.raises(httpx.TimeoutException):
            httpx.post(f"{url}/v1/chat/completions/batch", json=heavy, timeout=1.0)  # the client gives up and disconnects
        t0 = time.time()
        deadline = time.time() + 60
        while time.time() < deadline and app.state.worker.state()["busy_s"] > 0:
            time.sleep(0.05)
        assert app.state.worker.state()["busy_s"] == 0, "the abandoned generation still runs"
        r = httpx.get(f"{url}/info", timeout=30)
        assert r.status_code == 200
        released_after = time.time() - t0
        # the full batch takes far longer than this (measured: tens of seconds on a 2-core CPU)
        assert released_after < 10
    finally:
        server.should_exit = True
        th.join(timeout=10)
