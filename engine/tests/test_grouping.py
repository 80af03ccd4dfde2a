"""Which sequences of a forward_backward request form a group (and so share a micro-batch)."""

from __future__ import annotations

import pytest

from keiko_engine.losses import LossSpec
from keiko_engine.training import _by_group


def seq(prompt: list[int], rest: list[int], group_id=None) -> dict:
    s = {"input_ids": prompt + rest, "loss_mask": [0] * len(prompt) + [1] * len(rest)}
    if group_id is not None:
        s["group_id"] = group_id
    return s


def test_group_ids_decide_the_groups_when_given():
    # Two groups with the same prompt stay apart; a multi-turn group whose second sequence has a longer
    # prompt stays together.
    a0, b0, a1, b1 = seq([1, 2], [3], "s1:0"), seq([1, 2], [4], "s1:1"), seq([1, 2, 3, 5], [6], "s1:0"), seq([1, 2], [7], "s1:1")
    assert _by_group([a0, b0, a1, b1]) == [a0, a1, b0, b1]


def test_equal_prompts_are_the_fallback_without_group_ids():
    a0, b0, a1, c0 = seq([1, 2], [3]), seq([9, 2], [4]), seq([1, 2], [5]), seq([1, 2, 3, 5], [6])
    assert _by_group([a0, b0, a1, c0]) == [a0, a1, b0, c0]


def test_int_and_str_group_ids_are_accepted_on_the_wire():
    from keiko_engine.server import Sequence

    assert Sequence(input_ids=[1, 2], loss_mask=[0, 1], group_id=3).group_id == 3
    assert Sequence(input_ids=[1, 2], loss_mask=[0, 1], group_id="3:1").group_id == "3:1"
    assert Sequence(input_ids=[1, 2], loss_mask=[0, 1]).group_id is None


def test_group_ids_only_reorder_the_batch(engine):
    prompts = [engine.tokenizer.encode(s, add_special_tokens=False) for s in ["hello world", "1 +"]]
    plain = [seq(prompts[g], [5 + k, 7], None) | {"advantages": 0.5 - k} for g in (0, 1, 0, 1) for k in (0, 1)]
    tagged = [s | {"group_id": f"1:{i // 2 % 2}"} for i, s in enumerate(plain)]
    spec = LossSpec(type="grpo")
    one = engine.forward_backward(plain, spec, micro_batch_size=4)
    engine.optim_step(lr=0.0)
    two = engine.forward_backward(tagged, spec, micro_batch_size=4)
    engine.optim_step(lr=0.0)
    for key in ("loss", "entropy", "tokens"):
        assert one[key] == pytest.approx(two[key], rel=1e-5, abs=1e-6), key
