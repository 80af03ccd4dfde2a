"""Shared fixtures: a tiny random model created once per test session (no hub access needed)."""

from __future__ import annotations

import os

import pytest
import torch
from tests.device import DEVICE

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
torch.set_num_threads(1)

CORPUS = [
    "the quick brown fox jumps over the lazy dog",
    "hello world, this is keiko practising",
    "1 + 2 = 3; 2 + 2 = 4; 10 - 3 = 7",
    'call a tool: {"name": "add", "arguments": {"a": 1, "b": 2}}',
    "system user assistant tool messages are rendered with a chat template",
] * 20


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> str:
    from transformers.utils import logging as hf_logging

    from keiko_engine.create_model import CreateConfig, create_model

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    out = tmp_path_factory.mktemp("models") / "tiny"
    create_model(CreateConfig(out=str(out), texts=CORPUS, vocab_size=320, hidden=32, layers=2, heads=4, max_context=128, seed=0))
    return str(out)


@pytest.fixture()
def engine(tiny_model_dir):
    from keiko_engine.engine import Engine, EngineOptions

    # float32 everywhere (on CUDA "auto" would mean bf16 autocast, which has its own tests).
    return Engine(EngineOptions(model=tiny_model_dir, device=DEVICE, threads=1, dtype="float32"))
