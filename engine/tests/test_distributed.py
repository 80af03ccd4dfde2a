"""The engine on 2 ranks (torchrun, gloo, FSDP2 on the CPU) against the single-process engine.

One 2-rank engine is started for the module (a torchrun subprocess on the tiny model) and shared by
the tests; each test loads the tiny model's weights first. A step on 2 ranks must give the same loss,
metrics, gradient norm and updated weights as one rank on the same batch, checkpoints must move
between rank counts both ways (with the optimizer state), and sampling must be refused.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest
import torch

import keiko_engine
from keiko_engine.distributed import split_by_tokens
from keiko_engine.engine import Engine, EngineOptions
from keiko_engine.losses import LossSpec

REL = 1e-5  # relative tolerance: 2 ranks against 1, float32 on the CPU
ENGINE_DIR = Path(keiko_engine.__file__).resolve().parent.parent  # the keiko_engine these tests import

pytestmark = pytest.mark.skipif(os.environ.get("KEIKO_TEST_DEVICE", "cpu") != "cpu", reason="the 2-rank tests run on the CPU (gloo)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Ranked:
    """A `torchrun --nproc_per_node N -m keiko_engine serve` subprocess and an HTTP client to it."""

    def __init__(self, model: str, log: Path, ranks: int = 2, extra: tuple[str, ...] = ()):
        self.port = _free_port()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ENGINE_DIR), os.environ.get("PYTHONPATH", "")]), "OMP_NUM_THREADS": "1"}
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(ranks), "-m", "keiko_engine", "serve",
               "--model", model, "--port", str(self.port), "--device", "cpu", "--dtype", "float32", "--threads", "1",
               "--checkpoint-root", tempfile.gettempdir(), *extra]  # the tests' checkpoints live in pytest's tmp_path
        self.log = log
        self.proc = subprocess.Popen(cmd, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=120)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"torchrun exited with {self.proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if self.http.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"2-rank engine not healthy after 240 s:\n{log.read_text()[-3000:]}")

    def post(self, path: str, body: dict) -> dict:
        r = self.http.post(path, json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def stop(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture(scope="module")
def ranked(tiny_model_dir, tmp_path_factory):
    # sharded optimizer checkpoints here; the LoRA engine below gathers its optimizer state to rank 0
    r = Ranked(tiny_model_dir, tmp_path_factory.mktemp("ranked") / "engine.log", extra=("--sharded-optimizer",))
    yield r
    r.stop()


def single(model: str) -> Engine:
    return Engine(EngineOptions(model=model, device="cpu", threads=1, dtype="float32"))


def batch(engine: Engine, seed: int = 0) -> list[dict]:
    """Two GRPO groups (shared prompts), one long lone sequence (so the ranks get unequal numbers of
    micro-batches), per-sequence and per-token advantages, stale sequences whose sampler logprobs are
    off the policy (so ratios clip and IS weights act), and one on-policy sequence."""
    g = torch.Generator().manual_seed(seed)
    enc = lambda t: engine.tokenizer.encode(t, add_special_tokens=False)  # noqa: E731
    out = []
    for prompt, completions in (("1 + 2 =", [" 3; 2 + 2 = 4", " 4", " the lazy dog"]), ("hello world,", [" this is keiko", " hello"])):
        p = enc(prompt)
        for k, c in enumerate(completions):
            ids = p + enc(c)
            n = len(ids)
            adv = float(torch.randn(1, generator=g)) if k % 2 == 0 else [float(x) for x in torch.randn(n, generator=g)]
            slp = [0.0] + [float(-2.0 + 0.3 * x) for x in torch.randn(n - 1, generator=g)]
            out.append({"input_ids": ids, "loss_mask": [0] * len(p) + [1] * (n - len(p)), "advantages": adv, "sampler_logprobs": slp})
    long = enc("system user assistant tool messages are rendered with a chat template; the quick brown fox jumps over the lazy dog")
    out.append({"input_ids": long, "loss_mask": [0] * 3 + [1] * (len(long) - 3), "advantages": -0.7,
                "sampler_logprobs": [0.0] * len(long), "policy_version": 0})
    return out


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


def saved_weights(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


def max_rel_weight_diff(path: Path, engine: Engine) -> float:
    """max over tensors of max|a - b| / max|b|: the 2-rank checkpoint against the single engine."""
    theirs = saved_weights(path)
    own = engine.model.state_dict()
    assert set(theirs) == {k for k in own if k != "lm_head.weight"}
    return max(float((theirs[k] - own[k]).abs().max() / own[k].abs().max().clamp(min=1e-12)) for k in theirs)


def test_split_by_tokens_keeps_order_and_balances():
    seqs = [{"input_ids": [1, 2] + [k] * n, "loss_mask": [0, 0] + [1] * n} for k, n in enumerate([5, 5, 5, 5, 20, 1, 1, 1])]
    shares = split_by_tokens(seqs, 2)
    assert [s for share in shares for s in share] == seqs  # contiguous, same prompt ⇒ original order
    tokens = [sum(len(s["input_ids"]) for s in share) for share in shares]
    assert abs(tokens[0] - tokens[1]) <= 22  # within one sequence
    assert sorted(len(s) for s in split_by_tokens(seqs[:1], 3)) == [0, 0, 1]  # more ranks than sequences: empty shares


LOSSES = {
    "grpo": {"type": "grpo", "kl_beta": 0.1},  # the auto reference (a copy made on every rank at step 0)
    "dr_grpo": {"type": "dr_grpo"},  # no max_tokens: the longest sequence of the whole batch, not of a rank's share
    "dapo": {"type": "dapo", "eps_high": 0.28, "is_correction": "truncated", "is_cap": 2.0},
    "gspo": {"type": "gspo", "eps_low": 3e-4, "eps_high": 4e-4},
    "sft": {"type": "sft"},
}


@pytest.mark.parametrize("loss", list(LOSSES))
def test_one_step_on_two_ranks_equals_one_rank(ranked, tiny_model_dir, tmp_path, loss):
    one = single(tiny_model_dir)
    seqs = batch(one)
    # AdamW's first step is lr * g / (|g| + eps): with the default eps = 1e-8 it is lr * sign(g), and
    # a weight whose gradient is ~0 (cancellation noise, ~1e-9) moves by an arbitrary fraction of lr on
    # either side. eps = 1e-4 keeps that noise out, so the weights compare the gradients themselves.
    step = {"lr": 1e-2, "grad_clip": 0.5, "eps": 1e-4}
    assert ranked.post("/train/load", {"path": tiny_model_dir})["step"] == 0
    got = ranked.post("/train/forward_backward", {"sequences": seqs, "loss": LOSSES[loss], "micro_batch_size": 2, "optim_step": step})
    want = one.forward_backward(seqs, LossSpec(**LOSSES[loss]), 1.0, 2)
    want_step = one.optim_step(**step)
    assert got["tokens"] == want["tokens"] and got["sequences"] == want["sequences"] == len(seqs)
    assert not got["nonfinite"] and got["optim_step"]["step"] == want_step["step"] == 1
    for key in ("loss", "kl", "clip_fraction", "entropy"):
        assert rel(got[key], want[key]) <= REL or abs(got[key] - want[key]) < 1e-9, (key, got[key], want[key])
    assert rel(got["optim_step"]["grad_norm"], want_step["grad_norm"]) <= REL
    if loss == "dapo":
        assert want["clip_fraction"] > 0  # the batch exercises clipping
    ranked.post("/train/save", {"path": str(tmp_path / "after"), "optimizer": False})
    diff = max_rel_weight_diff(tmp_path / "after", one)
    print(f"{loss}: loss rel {rel(got['loss'], want['loss']):.1e}, grad norm rel {rel(got['optim_step']['grad_norm'], want_step['grad_norm']):.1e}, weights {diff:.1e}")
    assert diff <= REL


def test_accumulated_calls_and_a_nonfinite_call_match_one_rank(ranked, tiny_model_dir, tmp_path):
    """Two scaled calls accumulate into one step; a call whose loss is infinite on one rank's share
    only is dropped on every rank (nothing accumulated) and the next step is unaffected."""
    one = single(tiny_model_dir)
    seqs = batch(one)
    bad = dict(seqs[0], advantages=-1.0, sampler_logprobs=[0.0] + [-1e4] * (len(seqs[0]["input_ids"]) - 1))  # ratio exp(1e4) = inf
    loss = {"type": "dapo"}
    ranked.post("/train/load", {"path": tiny_model_dir})
    for part in (seqs[:3], seqs[3:]):
        got = ranked.post("/train/forward_backward", {"sequences": part, "loss": loss, "scale": 0.5, "micro_batch_size": 2})
        want = one.forward_backward(part, LossSpec(**loss), 0.5, 2)
        assert rel(got["loss"], want["loss"]) <= REL
    got = ranked.post("/train/forward_backward", {"sequences": [bad] + seqs[1:], "loss": loss, "micro_batch_size": 2})
    want = one.forward_backward([bad] + seqs[1:], LossSpec(**loss), 1.0, 2)
    assert got["nonfinite"] and want["nonfinite"] and got["loss"] is None
    step = {"lr": 1e-2, "eps": 1e-4}
    got, want = ranked.post("/train/optim_step", step), one.optim_step(**step)
    assert rel(got["grad_norm"], want["grad_norm"]) <= REL and got["step"] == want["step"] == 1
    ranked.post("/train/save", {"path": str(tmp_path / "after"), "optimizer": False})
    assert max_rel_weight_diff(tmp_path / "after", one) <= REL


def test_checkpoints_move_between_rank_counts_with_the_optimizer_state(ranked, tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    step = {"lr": 1e-2, "grad_clip": 1.0}
    seqs = batch(single(tiny_model_dir), seed=1)
    ranked.post("/train/load", {"path": tiny_model_dir})
    ranked.post("/train/forward_backward", {"sequences": seqs, "loss": {"type": "sft"}, "optim_step": step})
    saved = ranked.post("/train/save", {"path": str(tmp_path / "two")})
    assert saved["step"] == 1
    shards = tmp_path / "two" / "trainer_state" / "optimizer"
    assert (shards / ".metadata").exists() and not (tmp_path / "two" / "trainer_state" / "optimizer.pt").exists()
    assert len(list(shards.glob("*.distcp"))) == 2  # one file per rank

    # a 2-rank checkpoint: plain transformers loads it, and so does one rank (with its optimizer state)
    plain, info = AutoModelForCausalLM.from_pretrained(tmp_path / "two", output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    one = single(str(tmp_path / "two"))
    assert one.step == 1 and one.optimizer is not None
    ids = torch.tensor([seqs[0]["input_ids"]])
    with torch.no_grad():
        assert torch.equal(plain(ids).logits, one.model(ids).logits)

    # the next step from there is the same on 1 rank (optimizer loaded from 2) and on 2 (in memory)
    grpo = {"type": "grpo"}
    ranked.post("/train/forward_backward", {"sequences": seqs, "loss": grpo, "optim_step": step})
    one.forward_backward(seqs, LossSpec(**grpo))
    one.optim_step(**step)
    ranked.post("/train/save", {"path": str(tmp_path / "two-next"), "optimizer": False})
    assert max_rel_weight_diff(tmp_path / "two-next", one) <= REL

    # a 1-rank checkpoint loads on 2 ranks with its optimizer state: the next step matches again
    one.save(str(tmp_path / "one"))
    assert ranked.post("/train/load", {"path": str(tmp_path / "one")})["step"] == 2
    got = ranked.post("/train/forward_backward", {"sequences": seqs, "loss": grpo, "optim_step": step})
    one.forward_backward(seqs, LossSpec(**grpo))
    want = one.optim_step(**step)
    assert got["optim_step"]["step"] == want["step"] == 3
    ranked.post("/train/save", {"path": str(tmp_path / "one-next"), "optimizer": False})
    assert max_rel_weight_diff(tmp_path / "one-next", one) <= REL
    assert ranked.http.get("/info").json()["step"] == 3


def test_sharded_optimizer_state_round_trips_on_two_ranks(ranked, tiny_model_dir, tmp_path):
    """Save (each rank its shards), take a step, load, take the same step: the same weights."""
    step = {"lr": 1e-2, "grad_clip": 1.0, "eps": 1e-4}
    seqs = batch(single(tiny_model_dir), seed=2)
    ranked.post("/train/load", {"path": tiny_model_dir})
    ranked.post("/train/forward_backward", {"sequences": seqs, "loss": {"type": "sft"}, "optim_step": step})
    ranked.post("/train/save", {"path": str(tmp_path / "s")})
    for out in ("a", "b"):
        got = ranked.post("/train/forward_backward", {"sequences": seqs, "loss": {"type": "grpo"}, "optim_step": step})
        assert got["optim_step"]["step"] == 2
        ranked.post("/train/save", {"path": str(tmp_path / out), "optimizer": False})
        ranked.post("/train/load", {"path": str(tmp_path / "s")})
    a, b = saved_weights(tmp_path / "a"), saved_weights(tmp_path / "b")
    assert max(float((a[k] - b[k]).abs().max()) for k in a) <= 1e-7
    assert any(not torch.equal(a[k], saved_weights(tmp_path / "s")[k]) for k in a)  # the step did move them


def test_bad_requests_are_refused_before_any_rank_runs_them(ranked, tiny_model_dir, tmp_path):
    ranked.post("/train/load", {"path": tiny_model_dir})
    r = ranked.http.post("/train/optim_step", json={"lr": 1e-3})
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_gradients"
    r = ranked.http.post("/train/load", json={"path": str(tmp_path / "missing")})
    assert r.status_code == 400 and r.json()["error"]["code"] == "checkpoint_error"
    r = ranked.http.post("/train/forward_backward", json={"sequences": [{"input_ids": [1, 2, 99999], "loss_mask": [0, 1, 1]}]})
    assert r.status_code == 400 and "out of vocabulary" in r.json()["error"]["message"]
    # and the engine still trains afterwards
    one = single(tiny_model_dir)
    assert not ranked.post("/train/forward_backward", {"sequences": batch(one), "loss": {"type": "sft"}})["nonfinite"]


def test_sampling_is_refused_with_a_clear_error(ranked):
    for path, body in (
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]}),
        ("/v1/completions", {"prompt": "hello"}),
        ("/v1/chat/completions/batch", {"requests": [{"messages": [{"role": "user", "content": "hi"}]}]}),
    ):
        r = ranked.http.post(path, json=body)
        assert r.status_code == 400, path
        err = r.json()["error"]
        assert err["code"] == "sampling_unavailable" and "2 ranks" in err["message"] and "--ranks 1" in err["message"]
    # what needs no model still works: the tokenizer, the model list, the info
    r = ranked.http.post("/v1/chat/tokenize", json={"requests": [{"messages": [{"role": "user", "content": "hi"}]}]})
    assert r.status_code == 200 and r.json()["data"][0]["prompt_token_ids"]
    assert ranked.http.get("/info").json()["ranks"] == 2


@pytest.fixture(scope="module")
def ranked_lora(tiny_model_dir, tmp_path_factory):
    """A 2-rank engine training LoRA adapters (rank 4) with activation checkpointing on."""
    r = Ranked(tiny_model_dir, tmp_path_factory.mktemp("ranked-lora") / "engine.log", extra=("--lora-rank", "4", "--activation-checkpointing"))
    yield r
    r.stop()


def single_lora(model: str) -> Engine:
    return Engine(EngineOptions(model=model, device="cpu", threads=1, dtype="float32", lora_rank=4))


def test_lora_with_activation_checkpointing_on_two_ranks_equals_one_rank(ranked_lora, tiny_model_dir, tmp_path):
    """Two steps of LoRA on 2 ranks (checkpointed layers, one plain pass per chunk) against one rank
    (no checkpointing, the shared-prompt path): the same losses, gradient norms, adapters and merged
    weights; the adapter checkpoint of either loads into the other."""
    from safetensors.torch import load_file

    one = single_lora(tiny_model_dir)
    seqs = batch(one)
    loss = {"type": "dapo", "eps_high": 0.28}
    step = {"lr": 1e-2, "grad_clip": 0.5, "eps": 1e-4}
    assert ranked_lora.http.get("/info").json()["lora"]["rank"] == 4
    for _ in range(2):
        got = ranked_lora.post("/train/forward_backward", {"sequences": seqs, "loss": loss, "micro_batch_size": 2, "optim_step": step})
        want = one.forward_backward(seqs, LossSpec(**loss), 1.0, 2)
        want_step = one.optim_step(**step)
        assert rel(got["loss"], want["loss"]) <= REL and rel(got["optim_step"]["grad_norm"], want_step["grad_norm"]) <= REL
    assert want_step["grad_norm"] > 0 and got["optim_step"]["step"] == 2
    ranked_lora.post("/train/save", {"path": str(tmp_path / "adapter")})
    one.save(str(tmp_path / "one-adapter"))
    theirs, mine = load_file(str(tmp_path / "adapter" / "adapter_model.safetensors")), load_file(str(tmp_path / "one-adapter" / "adapter_model.safetensors"))
    assert set(theirs) == set(mine) and any(float(v.abs().max()) > 0 for k, v in mine.items() if "lora_B" in k)
    assert max(float((theirs[k] - mine[k]).abs().max() / mine[k].abs().max().clamp(min=1e-12)) for k in mine) <= REL
    ranked_lora.post("/train/save", {"path": str(tmp_path / "merged"), "merged_lora": True})
    one.save(str(tmp_path / "one-merged"), merged_lora=True)
    merged, one_merged = saved_weights(tmp_path / "merged"), saved_weights(tmp_path / "one-merged")
    assert set(merged) == set(one_merged)
    assert max(float((merged[k] - one_merged[k]).abs().max() / one_merged[k].abs().max().clamp(min=1e-12)) for k in merged) <= REL
    # a one-rank engine resumes from the 2-rank adapter checkpoint (with its optimizer state) and back
    other = Engine(EngineOptions(model=str(tmp_path / "adapter"), device="cpu", threads=1, dtype="float32"))
    assert other.step == 2 and other.optimizer is not None
    a = other.forward_backward(seqs, LossSpec(**loss), 1.0, 2)
    b = ranked_lora.post("/train/forward_backward", {"sequences": seqs, "loss": loss, "micro_batch_size": 2})
    assert rel(b["loss"], a["loss"]) <= REL
    ranked_lora.post("/train/load", {"path": str(tmp_path / "one-adapter")})
    assert ranked_lora.http.get("/info").json()["step"] == 2
    ranked_lora.post("/train/save", {"path": str(tmp_path / "again")})
    again = load_file(str(tmp_path / "again" / "adapter_model.safetensors"))
    assert all(torch.equal(again[k], mine[k]) for k in mine)


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def test_an_idle_engine_outlives_its_timeout_and_a_rank_killed_mid_step_takes_it_down(tiny_model_dir, tmp_path):
    """Collectives time out after --dist-timeout; an idle rank 0 broadcasts no-ops so that the waiting
    followers do not. A rank that dies mid-step stops the whole engine (no hang)."""
    r = Ranked(tiny_model_dir, tmp_path / "engine.log", extra=("--dist-timeout", "15"))
    try:
        ranks = _children(r.proc.pid)
        assert len(ranks) == 2
        one = single(tiny_model_dir)
        time.sleep(25)  # idle for longer than the timeout
        assert r.proc.poll() is None
        assert not r.post("/train/forward_backward", {"sequences": batch(one), "loss": {"type": "sft"}})["nonfinite"]
        seqs = batch(one) * 40  # long enough to be killed in the middle of
        result: dict = {}

        def call() -> None:
            try:
                result["status"] = r.http.post("/train/forward_backward", json={"sequences": seqs, "micro_batch_size": 1}).status_code
            except httpx.HTTPError as e:
                result["error"] = e

        t = threading.Thread(target=call)
        t.start()
        time.sleep(2.0)
        os.kill(max(ranks), signal.SIGKILL)  # the rank with the larger pid: rank 1 (started second) or rank 0, either must do
        t0 = time.monotonic()
        code = r.proc.wait(120)
        t.join(30)
        print(f"killed a rank: torchrun exited {code} after {time.monotonic() - t0:.1f} s; the request got {result}")
        assert code != 0 and time.monotonic() - t0 < 120
        assert "error" in result or result.get("status") != 200
    finally:
        r.stop()
