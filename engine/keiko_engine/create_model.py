"""Creates a new tiny causal LM: a byte-level BPE tokenizer trained on a corpus, a chat template,
and a randomly initialised Qwen2- or Llama-architecture model, saved as a Hugging Face directory."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .chat_template import CHAT_TEMPLATE, END_OF_TEXT, IM_END, IM_START, TOOL_CALL_CLOSE, TOOL_CALL_OPEN
from .checkpoint import atomic_dir


@dataclass
class CreateConfig:
    """Shape of a new model. Defaults give a ~0.2 M-parameter model that trains in seconds on a CPU."""

    out: str
    corpus: list[str] = field(default_factory=list)  # text files the tokenizer is trained on
    texts: list[str] = field(default_factory=list)  # extra in-memory training texts (tests)
    architecture: str = "qwen2"  # qwen2 | llama
    vocab_size: int = 512  # BPE vocabulary incl. 256 byte symbols and special tokens
    hidden: int = 64  # hidden size
    layers: int = 2  # transformer blocks
    heads: int = 4  # attention heads (head dim = hidden / heads)
    kv_heads: int | None = None  # key/value heads (GQA); default = heads
    intermediate: int | None = None  # MLP width; default = 4 * hidden rounded
    max_context: int = 512  # max positions
    seed: int = 0  # weight init seed
    name: str | None = None  # served model name recorded in keiko's metadata


def _train_tokenizer(cfg: CreateConfig):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    special = [END_OF_TEXT, IM_START, IM_END]
    trainer = trainers.BpeTrainer(
        vocab_size=cfg.vocab_size,
        min_frequency=2,
        special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )

    def lines():
        for path in cfg.corpus:
            with open(path, encoding="utf-8", errors="replace") as f:
                yield from f
        yield from cfg.texts

    tok.train_from_iterator(lines(), trainer=trainer)
    # Tool-call tags are ordinary (non-special) added tokens: atomic when encoding, kept when decoding.
    from tokenizers import AddedToken

    tok.add_tokens([AddedToken(TOOL_CALL_OPEN, normalized=False), AddedToken(TOOL_CALL_CLOSE, normalized=False)])
    return tok


def create_model(cfg: CreateConfig) -> Path:
    """Builds tokenizer + model and writes them atomically to `cfg.out`. Returns the directory."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, PreTrainedTokenizerFast, Qwen2Config

    if not cfg.corpus and not cfg.texts:
        raise ValueError("create needs a corpus: pass --corpus FILE (one or more text files)")
    if cfg.hidden % cfg.heads != 0:
        raise ValueError(f"hidden ({cfg.hidden}) must be divisible by heads ({cfg.heads})")
    kv_heads = cfg.kv_heads or cfg.heads
    if cfg.heads % kv_heads != 0:
        raise ValueError(f"heads ({cfg.heads}) must be divisible by kv_heads ({kv_heads})")
    for p in cfg.corpus:
        if not os.path.isfile(p):
            raise ValueError(f"corpus file not found: {p}")

    raw = _train_tokenizer(cfg)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        bos_token=None,
        eos_token=IM_END,
        pad_token=END_OF_TEXT,
        unk_token=None,
        model_max_length=cfg.max_context,
        clean_up_tokenization_spaces=False,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    vocab = len(tokenizer)
    intermediate = cfg.intermediate or max(32, (cfg.hidden * 8 // 3 + 31) // 32 * 32)
    common = dict(
        vocab_size=vocab,
        hidden_size=cfg.hidden,
        intermediate_size=intermediate,
        num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=cfg.max_context,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.convert_tokens_to_ids(IM_END),
        pad_token_id=tokenizer.convert_tokens_to_ids(END_OF_TEXT),
        bos_token_id=None,
        rms_norm_eps=1e-6,
        rope_theta=10000.0,
    )
    if cfg.architecture == "qwen2":
        config = Qwen2Config(**common)
    elif cfg.architecture == "llama":
        config = LlamaConfig(**common)
    else:
        raise ValueError(f"unknown architecture '{cfg.architecture}'; available: qwen2, llama")

    torch.manual_seed(cfg.seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.generation_config.eos_token_id = [common["eos_token_id"], common["pad_token_id"]]
    model.generation_config.pad_token_id = common["pad_token_id"]

    out = Path(cfg.out)
    with atomic_dir(out) as tmp:
        model.save_pretrained(tmp)
        save_tokenizer(tokenizer, tmp)
        meta = {"schema_version": 1, "created_by": "keiko_engine.create", "config": asdict(cfg)}
        (tmp / "keiko_model.json").write_text(json.dumps(meta, indent=2))
    return out


def save_tokenizer(tokenizer, directory: Path) -> None:
    """Saves tokenizer files and makes sure `chat_template` is inside tokenizer_config.json
    (newer transformers put it in chat_template.jinja; older tools and keiko's TS side read the config)."""
    tokenizer.save_pretrained(directory)
    cfg_path = Path(directory) / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
    if tokenizer.chat_template and "chat_template" not in cfg:
        cfg["chat_template"] = tokenizer.chat_template
        cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False))
