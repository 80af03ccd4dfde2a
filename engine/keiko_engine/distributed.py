"""Multi-rank training: the engine under `torchrun`, with FSDP2 across ranks.

Used only when `python -m keiko_engine serve` runs with WORLD_SIZE > 1 (started by `torchrun
--nproc_per_node N -m keiko_engine serve ...`); the single-process engine never imports this module.

    HTTP ──► rank 0: server + worker thread ──broadcast(op, args)──► ranks 1..N-1: `follow()` loop
                      └── every rank runs the op: its share of the batch, FSDP2 collectives

- The model: `fully_shard` on every decoder layer, then on the root (embeddings, final norm, head).
  Parameters are DTensors sharded on dim 0, so AdamW's moments are sharded too. On a GPU the compute
  dtype is bf16 (`MixedPrecisionPolicy(param_dtype=bfloat16, reduce_dtype=float32)`); on the CPU it
  is float32 throughout (gloo).
- One logical step, identical to one rank (up to float rounding): rank 0 validates the request (a
  bad request is refused before any rank sees it), computes the whole batch's loss denominators
  (`Norm`: sequences, trained tokens, max_tokens), orders the sequences by prompt and cuts them into
  N contiguous shares of about equal token count (the whole batch is broadcast, pickled, to every
  rank; each takes its share). Each rank's loss is its share's contribution to
  the batch loss (the denominators are global), FSDP sums (does not average) the gradients across
  ranks, the gradient norm is the global norm over every shard, and the reported metrics are
  all-reduced sums. Every rank runs the same number of micro-batches (a rank with fewer runs
  zero-weight dummy ones) and the same forward path (FSDP's collectives must line up).
- Checkpoints: the full Hugging Face state dict is gathered to rank 0 (CPU) and written there, in the
  same format as one rank writes; the optimizer state is gathered whole to rank 0 too and stored in
  the single-rank `optimizer.pt` format (parameter indices), so checkpoints move between rank counts
  both ways. Gathering the whole optimizer state into one process does not scale to large models:
  with `--sharded-optimizer` each rank writes its own shards instead (torch.distributed.checkpoint,
  `trainer_state/optimizer/`), which any rank count (one included) reads back.
- Failure: every collective has the process group's timeout; an error inside a collective (a rank
  died, a timeout) exits the process, and torchrun then stops every rank. An idle rank 0 broadcasts
  a no-op every `timeout/4` so waiting followers never time out.
- LoRA: the adapters and the frozen base weights are sharded alike; only the adapters train. The
  adapters' random init is seeded (`--seed`), so every rank and a one-rank engine start equal.
  Checkpoints are PEFT adapters, or the merged model (W + alpha/r · B A, computed on rank 0).
- Activation checkpointing (`--activation-checkpointing`): each decoder layer is recomputed in the
  backward (torch's composable `checkpoint`, applied before sharding, so names do not change); the
  shared-prompt path is then off (its KV cache would be extended twice), one plain pass per chunk.
- Not here: sampling (the `/v1/*` sampling routes answer 400 `sampling_unavailable`) and a
  sharded reference model (the KL reference, when the engine makes one, is a full copy on every rank).
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
import traceback
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist

from .checkpoint import SHARDED_OPTIMIZER_DIR, TRAINER_STATE_DIR, atomic_dir, check_save_target, sharded_optimizer_dir, write_state
from .checkpoint_io import read_checkpoint, read_step, write_sync_checkpoint
from .engine import Engine, EngineOptions, decoder_layers
from .errors import RequestError
from .losses import LossSpec, Norm
from .training import _by_group, _full_attention_only

DEFAULT_TIMEOUT_S = 600  # process-group timeout: the longest any collective may wait


def sampling_unavailable_message(world: int) -> str:
    return (
        f"this engine trains on {world} ranks and does not sample; sample with a separate server "
        "(an OpenAI-compatible vLLM server, see engine/API.md 'Ranks') or run the engine with --ranks 1"
    )


def split_by_tokens(seqs: list[dict], ranks: int) -> list[list[dict]]:
    """`seqs` ordered by group (groups stay together; see `_by_group`), then cut into `ranks` contiguous shares whose
    token counts (len(input_ids)) are as equal as contiguous cuts allow. Shares may be empty."""
    ordered = _by_group(seqs)
    total = sum(len(s["input_ids"]) for s in ordered)
    shares: list[list[dict]] = [[] for _ in range(ranks)]
    acc = 0
    for s in ordered:
        n = len(s["input_ids"])
        # the share whose token range holds this sequence's midpoint
        r = min(ranks - 1, int((acc + n / 2) * ranks / max(total, 1)))
        shares[r].append(s)
        acc += n
    return shares


def _fatal(what: str) -> None:
    """A collective failed (a rank died, a timeout): the ranks can no longer agree, so stop this one;
    torchrun then stops the others."""
    print(f"keiko engine rank {dist.get_rank() if dist.is_initialized() else '?'}: {what} failed; exiting\n{traceback.format_exc()}",
          file=sys.stderr, flush=True)
    os._exit(1)


class DistributedEngine(Engine):
    """An `Engine` whose model is sharded over the process group's ranks. Rank 0 serves HTTP: its
    training calls broadcast the operation, then run it together with every other rank (`follow()`)."""

    samples = False  # the server refuses the sampling routes

    def __init__(self, opts: EngineOptions, timeout_s: float = DEFAULT_TIMEOUT_S):
        self.rank = dist.get_rank()
        self.world = dist.get_world_size()
        self.heartbeat_s = max(1.0, timeout_s / 4)
        self._pending_optimizer: Path | None = None
        super().__init__(opts)
        self.sampling_unavailable = sampling_unavailable_message(self.world)
        self._shard()
        self._lock = threading.RLock()  # held from a broadcast to the end of its operation
        self._last_command = time.monotonic()
        if self._pending_optimizer is not None:
            if self._pending_optimizer.is_dir():
                self._load_optimizer_shards(self._pending_optimizer)
            else:
                osd = torch.load(self._pending_optimizer, map_location="cpu", weights_only=True) if self.rank == 0 else None
                self._set_optimizer(osd)
            self._pending_optimizer = None

    # ----- setup ----------------------------------------------------------------------------------

    def _shard(self) -> None:
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

        mesh = init_device_mesh(self.device.type, (self.world,))
        mp = MixedPrecisionPolicy()
        if self.device.type == "cuda" and self.autocast_dtype is not None:
            mp = MixedPrecisionPolicy(param_dtype=self.autocast_dtype, reduce_dtype=torch.float32)
            self.autocast_dtype = None  # FSDP casts the parameters; no autocast on top
        layers = decoder_layers(self.model)
        for layer in layers:
            fully_shard(layer, mesh=mesh, mp_policy=mp)
        fully_shard(self.model, mesh=mesh, mp_policy=mp)
        for module in (*layers, self.model):
            # each rank's loss is its share of the batch loss: gradients are summed over ranks, not
            # averaged; as a plain SUM reduce-scatter (gloo has no pre-multiplied sum)
            module.set_gradient_divide_factor(1.0)
            module.set_force_sum_reduction_for_comms(True)

    def _load_optimizer(self, path: Path) -> None:
        """Called by `Engine.__init__` before the model is sharded: remember the file, load it after."""
        opt_path = path / TRAINER_STATE_DIR / "optimizer.pt"
        self._pending_optimizer = sharded_optimizer_dir(path) or (opt_path if opt_path.exists() else None)
        self.optimizer = None

    def info(self) -> dict:
        return {**super().info(), "ranks": self.world}

    def generate(self, rows) -> None:
        raise RequestError(self.sampling_unavailable, code="sampling_unavailable")

    # ----- the command channel --------------------------------------------------------------------

    def _run(self, op: str, args: dict):
        """Rank 0: broadcast `op` to every rank, then run it here too."""
        with self._lock:
            try:
                dist.broadcast_object_list([(op, args)], src=0)
            except Exception:  # noqa: BLE001
                _fatal(f"broadcasting {op}")
            self._last_command = time.monotonic()
            return getattr(self, f"_op_{op}")(**args)

    def follow(self) -> None:
        """Ranks > 0: run the operations rank 0 broadcasts until it says stop."""
        while True:
            box = [None]
            try:
                dist.broadcast_object_list(box, src=0)
            except Exception:  # noqa: BLE001
                _fatal("waiting for rank 0")
            op, args = box[0]
            if op == "stop":
                return
            try:
                getattr(self, f"_op_{op}")(**args)
            except Exception:  # noqa: BLE001 - rank 0 validated the request: any error here is fatal
                _fatal(op)

    def start_heartbeat(self) -> None:
        """Rank 0: while idle, broadcast a no-op now and then so that the followers' wait for the next
        command never reaches the process group's timeout."""

        def beat() -> None:
            while True:
                time.sleep(self.heartbeat_s / 4)
                if time.monotonic() - self._last_command >= self.heartbeat_s and self._lock.acquire(blocking=False):
                    try:
                        if time.monotonic() - self._last_command >= self.heartbeat_s:
                            self._run("noop", {})
                    finally:
                        self._lock.release()

        threading.Thread(target=beat, name="keiko-heartbeat", daemon=True).start()

    def shutdown(self) -> None:
        with self._lock:
            try:
                dist.broadcast_object_list([("stop", {})], src=0)
            except Exception:  # noqa: BLE001 - the others are gone already
                pass

    def _op_noop(self) -> None:
        return None

    # ----- training -------------------------------------------------------------------------------

    def _ensure_reference(self) -> None:
        """Every rank: a full (unsharded) frozen copy of the current weights, made collectively."""
        if self.ref_model is not None:
            return
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
        from transformers import AutoModelForCausalLM

        full = get_model_state_dict(self.model, options=StateDictOptions(full_state_dict=True))  # every rank: all tensors
        ref = AutoModelForCausalLM.from_pretrained(self.model_dir, dtype=torch.float32)
        ref.load_state_dict({k: v.detach().to("cpu") for k, v in full.items()}, strict=False)
        self.ref_model = ref.to(self.device).eval()
        self.ref_model.requires_grad_(False)

    def forward_backward(self, seqs: list[dict], spec: LossSpec, scale: float = 1.0, micro_batch_size: int | None = None) -> dict:
        need_ref = self.check_request(seqs, spec)
        if need_ref:
            self._check_reference()
        norm = self.batch_norm(seqs, spec)
        mbs = micro_batch_size or self.opts.micro_batch_size
        shares = split_by_tokens(seqs, self.world)
        chunks = max(math.ceil(len(s) / mbs) for s in shares)
        t0 = time.perf_counter()
        out = self._run("forward_backward", dict(shares=shares, spec=spec, scale=scale, mbs=mbs, norm=norm, chunks=chunks, need_ref=need_ref))
        seconds = time.perf_counter() - t0
        ntoks = sum(len(s["input_ids"]) for s in seqs)
        return {**out, "sequences": len(seqs), "seconds": seconds, "tokens_per_s": ntoks / seconds if seconds > 0 else 0.0}

    def _logprobs(self, chunk: list[dict], ids: torch.Tensor, attn: torch.Tensor):
        """The same forward path on every rank and micro-batch (FSDP's all-gathers must line up): the
        shared-prompt path (two model calls) when the model allows it, else one plain forward pass."""
        if _full_attention_only(self._base_config()) and not self.opts.activation_checkpointing:
            return self.shared_prompt_logprobs(self.model, chunk, with_entropy=True)
        return self.token_logprobs(self.model, ids, attn, with_entropy=True)

    def _op_forward_backward(self, shares, spec: LossSpec, scale: float, mbs: int, norm: Norm, chunks: int, need_ref: bool) -> dict:
        if need_ref:
            self._ensure_reference()
        mine = shares[self.rank]
        dummy_seq = {"input_ids": [self.pad_id, self.pad_id], "loss_mask": [0, 0], "advantages": 0.0, "sampler_logprobs": [0.0, 0.0]}
        params = [p for p in self.model.parameters() if p.requires_grad]
        saved = [p.grad for p in params]
        for p in params:
            p.grad = None
        sums = torch.zeros(5, dtype=torch.float64)  # loss, kl, clipped, clip_den, entropy over this rank's share
        ok = True
        try:
            for c in range(chunks):
                chunk = mine[c * mbs : (c + 1) * mbs]
                dummy = not chunk  # this rank has fewer micro-batches than another: a zero-weight pass
                if dummy:
                    chunk = [dummy_seq]
                out, ent = self.chunk_loss(chunk, spec, norm, self._logprobs)
                finite = torch.tensor([1.0 if bool(torch.isfinite(out.loss)) else 0.0])
                dist.all_reduce(finite, op=dist.ReduceOp.MIN)  # every rank stops together, before the backward
                if finite.item() == 0.0:
                    # a forward without its backward leaves the root's parameters unsharded (FSDP
                    # reshards the root after the backward): put every module back as it was
                    self.model.reset_iter_state()
                    ok = False
                    break
                (out.loss * (0.0 if dummy else scale)).backward()
                if not dummy:
                    sums += torch.tensor([float(out.loss.detach()), out.kl_sum, out.clipped, out.clip_den, ent], dtype=torch.float64)
            if ok:
                local_ok = all(p.grad is None or bool(torch.isfinite(p.grad.to_local()).all()) for p in params)
                flag = torch.tensor([1.0 if local_ok else 0.0])
                dist.all_reduce(flag, op=dist.ReduceOp.MIN)
                ok = flag.item() == 1.0
            dist.all_reduce(sums, op=dist.ReduceOp.SUM)
        except Exception:  # noqa: BLE001 - a failed collective or a failure on one rank: the ranks disagree now
            _fatal("forward_backward")
        return self.settle(params, saved, ok, norm, tuple(float(x) for x in sums))

    def optim_step(self, lr: float, weight_decay: float = 0.0, betas=(0.9, 0.999), eps: float = 1e-8, grad_clip: float | None = 1.0) -> dict:
        if not self.has_grads:
            raise RequestError("optim_step without gradients: call /train/forward_backward first", code="no_gradients", status=409)
        return self._run("optim_step", dict(lr=lr, weight_decay=weight_decay, betas=tuple(betas), eps=eps, grad_clip=grad_clip))

    def _op_optim_step(self, lr: float, weight_decay: float, betas, eps: float, grad_clip: float | None) -> dict:
        def global_norm(grads: list[torch.Tensor]) -> float:
            sq = torch.zeros(1, dtype=torch.float64)
            for g in grads:
                sq += g.to_local().double().pow(2).sum().cpu()
            dist.all_reduce(sq, op=dist.ReduceOp.SUM)  # the global norm over every rank's shards
            return math.sqrt(float(sq))

        try:
            return self.clip_and_step(lr, weight_decay, betas, eps, grad_clip, global_norm)
        except Exception:  # noqa: BLE001 - a failed collective: the ranks disagree now
            _fatal("optim_step")
            raise

    # ----- checkpoints ----------------------------------------------------------------------------

    def _param_names(self) -> list[str]:
        """Trainable parameter names in `model.parameters()` order: the indices of a single-rank
        engine's optimizer state (its AdamW is built over the same list)."""
        return [n for n, p in self.model.named_parameters() if p.requires_grad]

    def _tied(self) -> bool:
        return bool(getattr(self._base_config(), "tie_word_embeddings", False))

    def _set_optimizer(self, osd: dict | None) -> None:
        """Every rank: a fresh AdamW over the sharded parameters holding `osd` (rank 0's full optimizer
        state in the single-rank format, None elsewhere), broadcast from rank 0 and sharded; or no
        optimizer when rank 0 has none."""
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

        box = [osd is not None]
        dist.broadcast_object_list(box, src=0)
        if not box[0]:
            self.optimizer = None
            return
        names = self._param_names()
        params = [p for p in self.model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=0.0)
        full = {}
        if self.rank == 0:
            full = {
                "state": {names[int(i)]: v for i, v in osd["state"].items()},
                "param_groups": [{**g, "params": [names[int(i)] for i in g["params"]]} for g in osd["param_groups"]],
            }
        set_optimizer_state_dict(self.model, opt, full, options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True))
        self.optimizer = opt

    def _load_optimizer_shards(self, d: Path) -> None:
        """Every rank (collective): a fresh AdamW whose state is read from sharded files, each rank
        reading the pieces of its own shards (any rank count: the files say which rows they hold)."""
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict, set_optimizer_state_dict

        opt = torch.optim.AdamW([p for p in self.model.parameters() if p.requires_grad], lr=0.0)
        target = {"optimizer": get_optimizer_state_dict(self.model, opt)}  # zero state of the right shapes (no gradients now)
        dcp.load(target, checkpoint_id=str(d))
        set_optimizer_state_dict(self.model, opt, target["optimizer"])
        self.optimizer = opt

    def _op_save_optimizer_shards(self, path: str) -> None:
        """Every rank: writes its shards of the optimizer state into `path` (torch.distributed.checkpoint)."""
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

        try:
            dcp.save({"optimizer": get_optimizer_state_dict(self.model, self.optimizer)}, checkpoint_id=path)
        except Exception:  # noqa: BLE001
            _fatal("saving the optimizer shards")

    def save(self, path: str, merged_lora: bool = False, optimizer: bool = True) -> dict:
        """Rank 0 writes what one rank would: full weights, or (LoRA) the adapter or the merged model.
        The optimizer state is gathered into rank 0's `optimizer.pt`, or with --sharded-optimizer each
        rank writes its own shards (`trainer_state/optimizer/`; every rank must see the folder)."""
        t0 = time.perf_counter()
        check_save_target(Path(path))
        with_optimizer = optimizer and not (self.lora and merged_lora) and self.optimizer is not None
        shards = with_optimizer and self.opts.sharded_optimizer
        self._run("gather", dict(optimizer=with_optimizer and not shards))
        msd, osd = self._gathered
        self._gathered = None
        from safetensors.torch import save_file

        from .create_model import save_tokenizer

        target = Path(path)
        with atomic_dir(target) as tmp:
            if self.lora and not merged_lora:
                adapter = {_adapter_key(k): v.contiguous() for k, v in msd.items() if "lora_" in k}
                save_file(adapter, str(tmp / "adapter_model.safetensors"), metadata={"format": "pt"})
                pc = self.model.peft_config["default"]
                pc.base_model_name_or_path = str(self.model_dir)
                pc.save_pretrained(str(tmp))
            else:
                full = _merged(msd, self.lora) if self.lora else msd
                tensors = {k: v.contiguous() for k, v in full.items() if not (self._tied() and k.endswith("lm_head.weight"))}
                save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": "pt"})
                self._base_config().save_pretrained(tmp)
            gen = getattr(self._base_model(), "generation_config", None)
            if gen is not None:
                gen.save_pretrained(tmp)
            save_tokenizer(self.tokenizer, tmp)
            write_state(tmp, {"step": self.step, "config": dict(vars(self.opts)), "lora": self.lora,
                              "merged_lora": bool(self.lora and merged_lora), "base_model": str(self.model_dir), "ranks": self.world})
            if osd is not None:
                torch.save(osd, tmp / TRAINER_STATE_DIR / "optimizer.pt")
            if shards:
                self._run("save_optimizer_shards", dict(path=str(tmp / TRAINER_STATE_DIR / SHARDED_OPTIMIZER_DIR)))
        return {"path": str(target.absolute()), "step": self.step, "seconds": time.perf_counter() - t0}

    def export_weights(self, path: str) -> dict:
        """The sync checkpoint of `CheckpointMixin.export_weights`, from the full state dict gathered
        to rank 0 (no optimizer state)."""
        t0 = time.perf_counter()
        self._run("gather", dict(optimizer=False))
        msd, _ = self._gathered
        self._gathered = None
        return write_sync_checkpoint(Path(path), msd, self._base_config(), self.step, t0)

    def _base_model(self):
        return self.model.get_base_model() if self.lora else self.model

    def _op_gather(self, optimizer: bool) -> None:
        """Every rank: gather the full model (and optimizer) state to rank 0's CPU; rank 0 keeps it in
        `_gathered` for `save` (the optimizer state in the single-rank format: parameter indices)."""
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

        opts = StateDictOptions(full_state_dict=True, cpu_offload=True)
        try:
            msd = self._full_state()
            osd = None
            if optimizer and self.optimizer is not None:
                full = get_optimizer_state_dict(self.model, self.optimizer, options=opts)
                if self.rank == 0:
                    index = {n: i for i, n in enumerate(self._param_names())}
                    osd = {
                        "state": {index[k]: v for k, v in full["state"].items()},
                        "param_groups": [{**g, "params": [index[n] for n in g["params"]]} for g in full["param_groups"]],
                    }
        except Exception:  # noqa: BLE001
            _fatal("gathering the checkpoint")
        self._gathered = (msd, osd) if self.rank == 0 else None

    def _full_state(self) -> dict[str, torch.Tensor]:
        """Every rank (collective): the whole model state dict gathered to rank 0's CPU (empty elsewhere)."""
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        return get_model_state_dict(self.model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))

    def load(self, path: str) -> dict:
        """Rank 0 reads and checks the checkpoint (a bad one is refused before any rank is told), then
        every rank takes its shards of it from rank 0's broadcast. A LoRA engine loads an adapter
        checkpoint (its adapters) or a full one (its base weights); the rest of its state stays."""
        p = Path(path)
        adapter = (p / "adapter_model.safetensors").exists() and not (p / "model.safetensors").exists()
        if adapter and not self.lora:
            raise RequestError(f"{p} is a LoRA adapter checkpoint; this engine trains full weights (start it with --lora-rank)", code="checkpoint_error")
        state, tensors = read_checkpoint(p, adapter=adapter)
        step = read_step(state, p)
        own_optimizer = adapter or not self.lora  # a LoRA engine loading base weights keeps no optimizer state from them
        shards = sharded_optimizer_dir(p) if own_optimizer else None
        try:
            opt_path = p / TRAINER_STATE_DIR / "optimizer.pt"
            osd = torch.load(opt_path, map_location="cpu", weights_only=True) if opt_path.exists() and own_optimizer and shards is None else None
        except Exception as e:  # noqa: BLE001
            raise RequestError(f"cannot read checkpoint {p}: {e}", code="checkpoint_error") from e
        own = self.model.state_dict()  # DTensors: .shape is the global shape
        if self.lora:
            # the checkpoint's keys (Hugging Face or adapter format) to this model's, for the part it holds
            names = {(_adapter_key(k) if adapter else _hf_key(k)): k for k in own if ("lora_" in k) == adapter}
        else:
            names = {k: k for k in own}
        tied = self._tied()
        missing = [k for k in names if k not in tensors and not (tied and k.endswith("lm_head.weight"))]
        bad = [k for k, v in tensors.items() if k in names and tuple(own[names[k]].shape) != tuple(v.shape)]
        unknown = [k for k in tensors if k not in names]
        if missing or bad or unknown:
            raise RequestError(
                f"checkpoint does not match this model: missing {missing[:3]}, shape mismatch {bad[:3]}, unknown {unknown[:3]}",
                code="checkpoint_error",
            )
        if osd is not None and len(osd.get("state", {})) > len(self._param_names()):
            raise RequestError(f"{opt_path}: optimizer state for {len(osd['state'])} parameters, this model trains {len(self._param_names())}", code="checkpoint_error")
        if tied:
            for k in names:
                if k not in tensors:  # the tied head
                    tensors[k] = tensors[k.replace("lm_head.weight", "model.embed_tokens.weight")]
        self._loading = ({names[k]: v for k, v in tensors.items()}, osd)
        try:
            self._run("load", dict(step=step, partial=bool(self.lora), shards=str(shards) if shards else None))
        finally:
            self._loading = None
        return {"path": str(p.absolute()), "step": self.step}

    def _op_load(self, step: int, partial: bool, shards: str | None) -> None:
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict

        tensors, osd = self._loading if self.rank == 0 else ({}, None)
        for prm in self.model.parameters():
            prm.grad = None  # before the optimizer is rebuilt: torch initialises its state only when no parameter has a gradient
        self.has_grads = False
        try:
            if partial:  # the rest of the state as it is now, gathered, under the loaded part
                current = self._full_state()
                tensors = {**current, **tensors} if self.rank == 0 else {}
            set_model_state_dict(self.model, tensors, options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True))
            if shards is not None:
                self._load_optimizer_shards(Path(shards))
            else:
                self._set_optimizer(osd)
        except Exception:  # noqa: BLE001
            _fatal("load")
        self.step = step


def _adapter_key(key: str) -> str:
    """A LoRA model's parameter name in PEFT's adapter file (without the adapter's name)."""
    return key.replace(".lora_A.default.", ".lora_A.").replace(".lora_B.default.", ".lora_B.")


def _hf_key(key: str) -> str:
    """A LoRA model's base parameter name in the plain Hugging Face model."""
    return key.removeprefix("base_model.model.").replace(".base_layer.", ".")


def _merged(msd: dict[str, torch.Tensor], lora: dict) -> dict[str, torch.Tensor]:
    """The plain model's weights with each LoRA update merged in: W + (alpha / r) B A."""
    scale = lora["alpha"] / lora["rank"]
    out = {_hf_key(k): v for k, v in msd.items() if "lora_" not in k}
    for k, a in msd.items():
        if k.endswith(".lora_A.default.weight"):
            module = k.removesuffix(".lora_A.default.weight")
            b = msd[f"{module}.lora_B.default.weight"]
            w = _hf_key(f"{module}.base_layer.weight")
            out[w] = out[w] + scale * (b.float() @ a.float()).to(out[w].dtype)
    return out


def init(timeout_s: float) -> tuple[int, int]:
    """Joins torchrun's process group (gloo on the CPU, NCCL on GPUs); returns (rank, world size)."""
    backend = "nccl" if torch.cuda.is_available() and os.environ.get("KEIKO_DIST_BACKEND", "") != "gloo" else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
    return dist.get_rank(), dist.get_world_size()


def serve(args, opts: EngineOptions) -> int:
    """`serve` on one rank of a torchrun job: rank 0 serves HTTP, the others follow it."""
    import uvicorn

    from .server import app_options, create_app

    init(args.dist_timeout)
    try:
        eng = DistributedEngine(opts, timeout_s=args.dist_timeout)
    except Exception:  # noqa: BLE001 - one rank failing to start must stop all of them
        traceback.print_exc()
        os._exit(2)
    if eng.rank != 0:
        eng.follow()
        dist.destroy_process_group()
        return 0
    app = create_app(eng, **app_options(args))
    info = eng.info()
    print(f"keiko engine: {info['model']} ({info['architecture']}, {info['parameters']:,} params, {info['device']}, "
          f"{info['threads']} threads, step {info['step']}, {eng.world} ranks, training only) on http://{args.host}:{args.port}", flush=True)
    eng.start_heartbeat()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    eng.shutdown()
    dist.destroy_process_group()
    return 0
