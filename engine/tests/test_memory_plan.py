"""The memory plan's parameter count against transformers' own models (built on the meta device, so
no memory is used), and its per-rank arithmetic."""

from __future__ import annotations

import pytest
import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

from keiko_engine.memory_plan import PRESETS, Shape, comm_bytes_per_step, fitting_ranks, plan


def _transformers_params(cfg: dict) -> int:
    with torch.device("meta"):
        model = Qwen2ForCausalLM(Qwen2Config(**cfg))
    seen, total = set(), 0
    for p in model.parameters():  # a tied head is the embedding's tensor: count it once
        if id(p) not in seen:
            seen.add(id(p))
            total += p.numel()
    return total


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_parameter_count_equals_transformers(name: str) -> None:
    assert Shape.of(PRESETS[name]).params() == _transformers_params(PRESETS[name])


def test_parameter_count_of_a_small_untied_gqa_model() -> None:
    cfg = dict(hidden_size=128, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2,
               intermediate_size=352, vocab_size=1000, tie_word_embeddings=False)
    assert Shape.of(cfg).params() == _transformers_params(cfg)


def test_sharded_state_divides_by_ranks_and_the_rest_does_not() -> None:
    cfg = PRESETS["qwen2.5-7b"]
    one, four = plan(cfg, 1), plan(cfg, 4)
    p = one["parameters"]
    assert one["weights_fp32"] == 4 * p and one["adam_moments"] == 8 * p
    assert four["weights_fp32"] == pytest.approx(p) and four["grads_fp32"] == pytest.approx(p)
    assert four["activations"] == one["activations"] and four["logits"] == one["logits"]
    assert plan(cfg, 4, checkpointing=True)["activations"] < four["activations"] / 5


def test_fitting_ranks_and_comm_volume() -> None:
    small, big = PRESETS["qwen2.5-0.5b"], PRESETS["qwen2.5-32b"]
    assert fitting_ranks(small, 80, 8192, False) == 1
    seven = PRESETS["qwen2.5-7b"]
    assert fitting_ranks(seven, 80, 8192, False) > fitting_ranks(seven, 80, 8192, True)
    assert fitting_ranks(big, 80, 8192, False) is None  # its activations alone outgrow 80 GiB: FSDP does not shard them
    assert fitting_ranks(big, 1, 8192, True) is None
    shape = Shape.of(small)
    c = comm_bytes_per_step(small, ranks=2, micro_batches=3)
    layers = shape.layers * shape.layer_params()
    assert c["all_gather"] == pytest.approx(3 * (2 * layers + shape.root_params()) * 2 / 2)
    assert c["reduce_scatter"] == pytest.approx(3 * shape.params() * 4 / 2)
    assert comm_bytes_per_step(small, ranks=1)["total"] == 0
