"""/train/save and /train/load touch only what the engine owns, and a bad checkpoint changes nothing."""

from __future__ import annotations

import json
import os

import pytest
import torch
from fastapi.testclient import TestClient

from keiko_engine.server import create_app


@pytest.fixture()
def root(tmp_path):
    r = tmp_path / "run"
    r.mkdir()
    return r


@pytest.fixture()
def client(engine, root):
    with TestClient(create_app(engine, checkpoint_roots=[str(root)])) as c:
        yield c


def _weights(engine):
    return {k: v.clone() for k, v in engine.model.state_dict().items()}


def _train_step(client, engine):
    ids = engine.tokenizer.encode("hello world", add_special_tokens=False)
    seq = {"input_ids": ids, "loss_mask": [0] + [1] * (len(ids) - 1)}
    assert client.post("/train/forward_backward", json={"sequences": [seq], "loss": {"type": "sft"}, "optim_step": {"lr": 1e-2}}).status_code == 200


def _saved(client, engine, root, name="ck"):
    _train_step(client, engine)
    r = client.post("/train/save", json={"path": str(root / name)})
    assert r.status_code == 200, r.text
    return root / name


def test_save_never_replaces_a_folder_or_file_it_did_not_write(client, tmp_path, root):
    mine = root / "notes"
    mine.mkdir()
    (mine / "keep.txt").write_text("precious")
    a_file = root / "file.txt"
    a_file.write_text("precious")
    for target in (mine, a_file):
        r = client.post("/train/save", json={"path": str(target)})
        assert r.status_code == 400 and r.json()["error"]["code"] == "checkpoint_error", r.text
    assert (mine / "keep.txt").read_text() == "precious" and a_file.read_text() == "precious"
    # its own checkpoint (and an empty folder) it may replace
    (root / "empty").mkdir()
    assert client.post("/train/save", json={"path": str(root / "empty")}).status_code == 200
    assert client.post("/train/save", json={"path": str(root / "empty")}).status_code == 200


def test_save_and_load_are_confined_to_the_checkpoint_roots(client, engine, tmp_path, root):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("precious")
    escape = root / "link"
    os.symlink(outside, escape)
    for body in ({"path": str(outside)}, {"path": str(outside / "new")}, {"path": str(escape)}, {"path": str(root / ".." / "outside")}):
        r = client.post("/train/save", json=body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "checkpoint_error", (body, r.text)
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
    assert client.post("/train/load", json={"path": str(outside)}).status_code == 403
    # the model folder the engine was started on is readable
    assert client.post("/train/load", json={"path": str(engine.model_dir)}).status_code == 200


def _corrupt_optimizer_garbage(ck):
    (ck / "trainer_state" / "optimizer.pt").write_bytes(b"garbage")


def _corrupt_optimizer_truncated(ck):
    p = ck / "trainer_state" / "optimizer.pt"
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _corrupt_optimizer_mismatched(ck):
    p = ck / "trainer_state" / "optimizer.pt"
    osd = torch.load(p, weights_only=True)
    first = next(iter(osd["state"]))
    osd["state"][first]["exp_avg"] = torch.zeros(3, 3)
    torch.save(osd, p)


def _corrupt_optimizer_fewer_params(ck):
    p = ck / "trainer_state" / "optimizer.pt"
    osd = torch.load(p, weights_only=True)
    osd["param_groups"][0]["params"] = osd["param_groups"][0]["params"][:-1]
    torch.save(osd, p)


def _corrupt_state_json(ck):
    (ck / "trainer_state" / "state.json").write_text("{not json")


def _corrupt_state_step(ck):
    p = ck / "trainer_state" / "state.json"
    state = json.loads(p.read_text())
    state["step"] = "seven"
    p.write_text(json.dumps(state))


@pytest.mark.parametrize("corrupt", [
    _corrupt_optimizer_garbage, _corrupt_optimizer_truncated, _corrupt_optimizer_mismatched,
    _corrupt_optimizer_fewer_params, _corrupt_state_json, _corrupt_state_step,
])
def test_a_half_broken_checkpoint_is_refused_with_weights_step_and_optimizer_unchanged(client, engine, root, corrupt):
    ck = _saved(client, engine, root)
    _train_step(client, engine)  # move on, so a load would visibly change things
    before, step = _weights(engine), engine.step
    opt_before = {k: v.clone() for k, v in engine.optimizer.state_dict()["state"][0].items()}
    corrupt(ck)
    r = client.post("/train/load", json={"path": str(ck)})
    assert r.status_code == 400 and r.json()["error"]["code"] == "checkpoint_error", r.text
    assert engine.step == step
    assert all(torch.equal(before[k], v) for k, v in _weights(engine).items())
    opt_now = engine.optimizer.state_dict()["state"][0]
    assert all(torch.equal(opt_before[k], opt_now[k]) for k in opt_before)
    # and the engine still trains
    _train_step(client, engine)


def test_a_full_disk_is_reported_as_507_with_a_message(client, engine, root, monkeypatch):
    import errno as _errno

    def full(*_a, **_k):
        raise OSError(_errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(engine, "save", full)
    r = client.post("/train/save", json={"path": str(root / "ck")})
    assert r.status_code == 507 and r.json()["error"]["code"] == "insufficient_storage", r.text
    assert "disk full" in r.json()["error"]["message"]
