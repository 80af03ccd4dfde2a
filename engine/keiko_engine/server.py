"""HTTP server: OpenAI-compatible sampling and the training API (see engine/API.md)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import math
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, Literal, Union

import torch
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError

from .chat import parse_tool_calls, render_chat
from .checkpoint import PathPolicy
from .engine import Engine
from .errors import RequestError
from .guards import DEFAULT_MAX_BODY_BYTES, BodyLimit, ClientGone, check_prompt_chars, check_text, max_token_chars, sample_unless_disconnected
from .generation import GenRow
from .losses import LossSpec
from .worker import Worker

Number = Union[StrictInt, StrictFloat]


class _Open(BaseModel):
    # OpenAI clients send fields we do not use; JSON's non-standard Infinity/NaN are refused everywhere
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class SamplingParams(_Open):
    model: str | None = None
    n: StrictInt = Field(1, ge=1, le=128)
    temperature: Number = Field(1.0, ge=0, le=10)
    top_p: Number = Field(1.0, gt=0, le=1)
    max_tokens: StrictInt | None = Field(None, ge=1)
    max_completion_tokens: StrictInt | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    seed: StrictInt | None = None
    return_token_ids: bool = False


class CompletionBody(SamplingParams):
    prompt: str | list[StrictInt]
    logprobs: StrictInt | bool | None = None
    echo: bool = False


class ChatBody(SamplingParams):
    messages: list[dict[str, Any]] = Field(min_length=1)
    tools: list[dict[str, Any]] | None = None
    logprobs: bool = False
    top_logprobs: StrictInt | None = None


class ChatBatchBody(_Strict):
    requests: list[dict[str, Any]] = Field(min_length=1, max_length=1024)


class TokenizeBody(_Strict):
    requests: list[dict[str, Any]] = Field(min_length=1, max_length=4096)


class Sequence(_Strict):
    input_ids: list[StrictInt]
    loss_mask: list[Literal[0, 1]]
    advantages: Number | list[Number] = 0.0
    sampler_logprobs: list[Number] | None = None
    ref_logprobs: list[Number] | None = None
    # optimizer step of the weights that sampled this sequence; equal to the engine's step = on-policy
    # (the PPO ratio is 1); anything else, or null, = stale (the ratio is taken against sampler_logprobs)
    policy_version: StrictInt | None = None
    # the rollout group the sequence came from; sequences of one group share a micro-batch (when
    # absent, sequences with the same prompt tokens are grouped instead)
    group_id: StrictInt | str | None = None


class LossBody(_Strict):
    type: Literal["sft", "grpo", "dr_grpo", "dapo", "bnpo", "gspo"] = "grpo"
    eps_low: Number = Field(0.2, ge=0, le=1)
    eps_high: Number = Field(0.2, ge=0)
    kl_beta: Number = Field(0.0, ge=0)
    is_correction: Literal["none", "truncated"] = "none"
    is_cap: Number = Field(2.0, gt=0)
    max_tokens: StrictInt | None = Field(None, ge=1)
    mismatch_threshold: Number = Field(0.01, ge=0)  # |trainer - sampler| logprob counted in logprob_diff_above


Beta = Annotated[Number, Field(ge=0, lt=1)]


class OptimStepBody(_Strict):
    # Ranges that keep AdamW meaningful: beyond them one step destroys the weights.
    lr: Number = Field(ge=0, le=1)
    weight_decay: Number = Field(0.0, ge=0, le=1)
    betas: tuple[Beta, Beta] = (0.9, 0.999)
    eps: Number = Field(1e-8, gt=0, le=1)
    grad_clip: Number | None = Field(1.0, ge=0)


class ForwardBackwardBody(_Strict):
    sequences: list[Sequence] = Field(min_length=1)
    loss: LossBody = LossBody()
    scale: Number = 1.0
    micro_batch_size: StrictInt | None = Field(None, ge=1)
    optim_step: OptimStepBody | None = None  # then step right after a finite forward/backward


class SaveBody(_Strict):
    path: str = Field(min_length=1)
    merged_lora: bool = False
    optimizer: bool = True


class LoadBody(_Strict):
    path: str = Field(min_length=1)


class ExportWeightsBody(_Strict):
    path: str = Field(min_length=1)


# ----- responses (the contract test reads these from the OpenAPI schema) -----------------------


class LoraInfo(_Strict):
    rank: int
    alpha: float
    target_modules: list[str]


class InfoOut(_Strict):
    model: str
    path: str
    architecture: str
    parameters: int
    trainable_parameters: int
    dtype: str
    device: str
    threads: int
    step: int  # optimizer steps applied: the policy version
    vocab_size: int
    max_context: int
    hidden_size: int | None
    layers: int | None
    lora: LoraInfo | None
    chat_template: bool
    eos_token_ids: list[int]
    ranks: int  # processes training the model (torchrun); > 1: training only, the sampling routes answer 400


class OptimStepOut(_Strict):
    step: int
    grad_norm: float | None  # null when the gradients were non-finite (then skipped)
    skipped: bool


class ForwardBackwardOut(_Strict):
    loss: float | None  # null when non-finite
    kl: float | None
    clip_fraction: float | None
    entropy: float | None
    tokens: int
    sequences: int
    seconds: float
    tokens_per_s: float | None
    nonfinite: bool
    optim_step: OptimStepOut | None = None  # only when the request asked for a step; null: non-finite, nothing applied
    # sampler-trainer mismatch |logp - sampler_logp| over trained tokens, when the sequences carry sampler logprobs
    logprob_diff_mean: float | None = None
    logprob_diff_max: float | None = None
    logprob_diff_above: float | None = None  # share of those tokens above loss.mismatch_threshold


class SaveOut(_Strict):
    path: str
    step: int
    seconds: float


class LoadOut(_Strict):
    path: str
    step: int


class ExportWeightsOut(_Strict):
    path: str
    step: int  # the policy version the weights are
    bytes: int  # tensor bytes written
    seconds: float


SAMPLING_ROUTES = ("/v1/completions", "/v1/chat/completions", "/v1/chat/completions/batch")  # the routes that run the model


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}})


def _finite(d: dict) -> dict:
    """JSON has no NaN/Infinity: non-finite metrics (a non-finite step) are reported as null."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def _describe(errors) -> str:
    """A validation error list as one line: `field.path: what is wrong; ...`."""
    parts = []
    for e in list(errors)[:5]:
        loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
        parts.append(f"{loc or '(body)'}: {e.get('msg')}")
    return "; ".join(parts)


@contextlib.contextmanager
def _item_errors(k: int):
    """Turns a bad item k of a batch envelope (invalid body, or a RequestError) into a RequestError
    whose message starts with `requests[k]: `."""
    try:
        yield
    except ValidationError as e:
        raise RequestError(f"requests[{k}]: {_describe(e.errors())}") from e
    except RequestError as e:
        raise RequestError(f"requests[{k}]: {e.message}", code=e.code, status=e.status) from e


def _stops(stop: str | list[str] | None) -> list[str]:
    if stop is None:
        return []
    return [stop] if isinstance(stop, str) else [s for s in stop if s]


HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def create_app(
    engine: Engine,
    max_batch_rows: int = 64,
    *,
    checkpoint_roots: list[str] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    stuck_after_s: float = 900.0,
    docs: bool = False,
) -> FastAPI:
    """The engine's routes. `checkpoint_roots`: where save/load may touch the disk (default: the
    working directory; see PathPolicy). `max_body_bytes`: larger bodies get 413. `stuck_after_s`:
    /health answers 503 `stuck` once the worker has spent this long on one job. `docs`: serve
    /docs and /openapi.json (off by default)."""
    worker = Worker(engine.generate, max_batch_rows=max_batch_rows)
    # Tokenising and chat rendering run here, off the event loop (one thread: the tokenizer is not
    # shared between threads), so a long prompt cannot stall /health or other requests.
    text_pool = ThreadPoolExecutor(1, thread_name_prefix="keiko-tokenize")
    token_chars: list[int] = []

    def char_bound(chars: int, what: str) -> None:
        if not token_chars:
            token_chars.append(max_token_chars(engine.tokenizer))
        check_prompt_chars(chars, engine.max_context, token_chars[0], what)

    async def off_loop(fn, *args):
        return await asyncio.get_running_loop().run_in_executor(text_pool, fn, *args)
    opts = getattr(engine, "opts", None)
    readable = [str(d) for d in (getattr(engine, "model_dir", None), getattr(opts, "reference", None)) if d and d not in ("auto", "none")]
    paths = PathPolicy(checkpoint_roots, readable)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        worker.stop()
        text_pool.shutdown(wait=False)

    no_docs: dict[str, Any] = {} if docs else {"docs_url": None, "redoc_url": None, "openapi_url": None}
    app = FastAPI(title="keiko engine", lifespan=lifespan, **no_docs)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.state.engine = engine
    app.state.worker = worker

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(400, "invalid_request", _describe(exc.errors()))

    @app.exception_handler(RequestError)
    async def _request_error(_req: Request, exc: RequestError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        # FastAPI's own 404/405/…: the same {"error": {code, message}} shape as every other error
        return _error(exc.status_code, HTTP_CODES.get(exc.status_code, "invalid_request"), str(exc.detail))

    @app.exception_handler(UnicodeError)
    async def _unicode(_req: Request, exc: UnicodeError) -> JSONResponse:
        return _error(400, "invalid_request", f"invalid Unicode text: {exc}")

    @app.exception_handler(ClientGone)
    async def _gone(_req: Request, _exc: ClientGone) -> Response:
        return Response(status_code=499)  # nobody is listening; for the access log only

    @app.exception_handler(OSError)
    async def _os_error(_req: Request, exc: OSError) -> JSONResponse:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return _error(507, "insufficient_storage", f"disk full: {exc}; nothing was replaced (free space and retry)")
        return _error(500, "internal_error", f"{type(exc).__name__}: {exc}")

    @app.exception_handler(Exception)
    async def _internal(_req: Request, exc: Exception) -> JSONResponse:
        return _error(500, "internal_error", f"{type(exc).__name__}: {exc}")

    if not getattr(engine, "samples", True):  # a multi-rank engine (distributed.py) trains only

        @app.middleware("http")
        async def _no_sampling(request: Request, call_next):
            if request.url.path in SAMPLING_ROUTES:
                return _error(400, "sampling_unavailable", engine.sampling_unavailable)
            return await call_next(request)

    @app.get("/health")
    async def health() -> JSONResponse:
        """`ok` (idle or working), `busy` (a job is running), or 503 `stuck` (one job for over `stuck_after_s`)."""
        w = worker.state()
        status = "stuck" if w["busy_s"] > stuck_after_s else "busy" if w["busy_s"] > 0 else "ok"
        return JSONResponse(status_code=503 if status == "stuck" else 200, content={"status": status, "worker": w})

    @app.get("/info", response_model=InfoOut)
    async def info() -> dict:
        return await worker.call(engine.info)

    @app.get("/v1/models")
    async def models() -> dict:
        return {
            "object": "list",
            "data": [{"id": engine.name, "object": "model", "created": 0, "owned_by": "keiko", "max_model_len": engine.max_context}],
        }

    def make_rows(prompt_ids: list[int], body: SamplingParams, default_max: int) -> list[GenRow]:
        engine.check_ids(prompt_ids, "prompt")
        if not prompt_ids:
            raise RequestError("prompt: empty")
        room = engine.max_context - len(prompt_ids)
        if room < 1:
            raise RequestError(f"prompt has {len(prompt_ids)} tokens; max_context is {engine.max_context}", code="context_length_exceeded")
        want = body.max_tokens or body.max_completion_tokens
        if want is not None and want > room:
            raise RequestError(
                f"prompt ({len(prompt_ids)} tokens) + max_tokens ({want}) exceeds max_context {engine.max_context}",
                code="context_length_exceeded",
            )
        max_tokens = want or min(default_max, room)
        rows = []
        for i in range(body.n):
            gen = None
            if body.seed is not None:
                gen = torch.Generator().manual_seed((body.seed * 1_000_003 + i) % (2**63))
            rows.append(GenRow(list(prompt_ids), max_tokens, float(body.temperature), float(body.top_p), _stops(body.stop), gen))
        return rows

    pieces: dict[int, str] = {}  # token id -> its text, for the per-token logprob entries

    def piece(t: int) -> str:
        text = pieces.get(t)
        if text is None:
            text = pieces[t] = engine.tokenizer.decode([t], skip_special_tokens=False)
        return text

    def text_of(row: GenRow) -> str:
        ids = row.token_ids
        if row.finish_reason == "stop" and ids and ids[-1] in engine.eos_ids:
            ids = ids[:-1]
        text = engine.tokenizer.decode(ids, skip_special_tokens=False)
        if row.stop_text_end is not None:
            text = text[: row.stop_text_end]
        return text

    def usage(prompt_len: int, rows: list[GenRow]) -> dict:
        comp = sum(len(r.token_ids) for r in rows)
        return {"prompt_tokens": prompt_len, "completion_tokens": comp, "total_tokens": prompt_len + comp}

    def encode(text: str) -> list[int]:
        return list(engine.tokenizer.encode(text, add_special_tokens=False))

    @app.post("/v1/completions")
    async def completions(body: CompletionBody, request: Request) -> dict:
        check_text(body.stop, "stop")
        if isinstance(body.prompt, str):
            check_text(body.prompt, "prompt")
            char_bound(len(body.prompt), "prompt")
            prompt_ids = await off_loop(encode, body.prompt)
        else:
            prompt_ids = list(body.prompt)
        rows = make_rows(prompt_ids, body, default_max=16)
        await sample_unless_disconnected(worker.sample(rows), rows, request.is_disconnected)
        version = rows[0].policy_version
        want_lp = (body.logprobs is not None and body.logprobs is not False) or body.return_token_ids
        choices = []
        for i, r in enumerate(rows):
            ch: dict[str, Any] = {"index": i, "text": text_of(r), "finish_reason": r.finish_reason, "logprobs": None}
            if want_lp:
                toks = [piece(t) for t in r.token_ids]
                ch["logprobs"] = {"tokens": toks, "token_logprobs": r.logprobs, "text_offset": [], "top_logprobs": None}
            if body.return_token_ids:
                ch["prompt_token_ids"] = prompt_ids
                ch["token_ids"] = r.token_ids
            choices.append(ch)
        return {
            "id": f"cmpl-{uuid.uuid4().hex}",
            "object": "text_completion",
            "created": int(time.time()),
            "model": engine.name,
            "policy_version": version,
            "choices": choices,
            "usage": usage(len(prompt_ids), rows),
        }

    def chat_prompt_ids(body: ChatBody) -> list[int]:
        chars = 0
        for i, m in enumerate(body.messages):
            if m.get("role") not in ("system", "user", "assistant", "tool"):
                raise RequestError(f"messages[{i}].role: must be one of system, user, assistant, tool")
            if m.get("content") is not None and not isinstance(m.get("content"), str):
                raise RequestError(f"messages[{i}].content: must be a string or null")
            chars += len(m.get("content") or "")
        check_text(body.messages, "messages")
        check_text(body.tools, "tools")
        check_text(body.stop, "stop")
        char_bound(chars, "messages")
        return render_chat(engine.tokenizer, body.messages, body.tools)

    def chat_rows(body: ChatBody) -> tuple[list[int], list[GenRow]]:
        prompt_ids = chat_prompt_ids(body)
        return prompt_ids, make_rows(prompt_ids, body, default_max=engine.max_context)

    def chat_response(body: ChatBody, prompt_ids: list[int], rows: list[GenRow]) -> dict:
        choices = []
        for i, r in enumerate(rows):
            text = text_of(r)
            content, calls = parse_tool_calls(text) if body.tools or "<tool_call>" in text else (text, [])
            msg: dict[str, Any] = {"role": "assistant", "content": content}
            finish = r.finish_reason
            if calls:
                msg["tool_calls"] = calls
                if finish == "stop":
                    finish = "tool_calls"
            ch: dict[str, Any] = {"index": i, "message": msg, "finish_reason": finish, "logprobs": None}
            if body.logprobs or body.return_token_ids:
                ch["logprobs"] = {
                    "content": [{"token": piece(t), "logprob": lp, "bytes": None, "top_logprobs": []} for t, lp in zip(r.token_ids, r.logprobs)]
                }
            if body.return_token_ids:
                ch["token_ids"] = r.token_ids
            choices.append(ch)
        out: dict[str, Any] = {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": engine.name,
            "policy_version": rows[0].policy_version,
            "choices": choices,
            "usage": usage(len(prompt_ids), rows),
        }
        if body.return_token_ids:
            out["prompt_token_ids"] = prompt_ids
        return out

    @app.post("/v1/chat/completions")
    async def chat(body: ChatBody, request: Request) -> dict:
        prompt_ids, rows = await off_loop(chat_rows, body)
        await sample_unless_disconnected(worker.sample(rows), rows, request.is_disconnected)
        return chat_response(body, prompt_ids, rows)

    @app.post("/v1/chat/completions/batch")
    async def chat_batch(body: ChatBatchBody, request: Request) -> dict:
        """Several chat requests sampled in one generation pass; a bad item fails alone."""

        def prepare() -> list[Any]:
            items: list[Any] = []  # per request: (body, prompt_ids, rows) or an error dict
            for k, raw in enumerate(body.requests):
                try:
                    with _item_errors(k):
                        req = ChatBody.model_validate(raw)
                        items.append((req, *chat_rows(req)))
                except RequestError as e:
                    items.append({"error": {"code": e.code, "message": e.message}, "status": e.status})
            return items

        items = await off_loop(prepare)
        rows = [r for it in items if isinstance(it, tuple) for r in it[2]]
        # passes of at most max_batch_rows rows, like concurrent requests (each row samples the same alone)
        step = worker.max_batch_rows
        passes = asyncio.gather(*(worker.sample(rows[i : i + step]) for i in range(0, len(rows), step)))
        await sample_unless_disconnected(passes, rows, request.is_disconnected)
        return {"object": "list", "data": [chat_response(*it) if isinstance(it, tuple) else it for it in items]}

    @app.post("/v1/chat/tokenize")
    async def chat_tokenize(body: TokenizeBody) -> dict:
        """The prompt ids each chat request would condition on (template + tokenizer only; no model run)."""

        def prompt_ids(k: int, raw: dict[str, Any]) -> list[int]:
            with _item_errors(k):
                return chat_prompt_ids(ChatBody.model_validate(raw))

        return await off_loop(lambda: {"object": "list", "data": [{"prompt_token_ids": prompt_ids(k, raw)} for k, raw in enumerate(body.requests)]})

    def step(body: OptimStepBody) -> dict:
        return engine.optim_step(
            float(body.lr), float(body.weight_decay), tuple(float(b) for b in body.betas), float(body.eps),
            None if body.grad_clip is None else float(body.grad_clip),
        )

    @app.post("/train/forward_backward", response_model=ForwardBackwardOut, response_model_exclude_unset=True)
    async def forward_backward(body: ForwardBackwardBody) -> dict:
        seqs = [s.model_dump() for s in body.sequences]
        spec = LossSpec(**body.loss.model_dump())

        def run() -> dict:
            if body.optim_step is not None and not engine.has_grads and not any(any(s["loss_mask"]) for s in seqs):
                raise RequestError("optim_step without gradients: no sequence has a trained token (loss_mask)", code="no_gradients", status=409)
            out = _finite(engine.forward_backward(seqs, spec, float(body.scale), body.micro_batch_size))
            if body.optim_step is not None:
                out["optim_step"] = None if out["nonfinite"] else step(body.optim_step)
            return out

        return await worker.call(run)

    @app.post("/train/optim_step", response_model=OptimStepOut)
    async def optim_step(body: OptimStepBody) -> dict:
        return await worker.call(lambda: step(body))

    @app.post("/train/save", response_model=SaveOut)
    async def save(body: SaveBody) -> dict:
        target = str(paths.for_save(body.path))
        return await worker.call(lambda: engine.save(target, body.merged_lora, body.optimizer))

    @app.post("/train/load", response_model=LoadOut)
    async def load(body: LoadBody) -> dict:
        source = str(paths.for_load(body.path))
        return await worker.call(lambda: engine.load(source))

    @app.post("/train/export_weights", response_model=ExportWeightsOut)
    async def export_weights(body: ExportWeightsBody) -> dict:
        target = str(paths.for_save(body.path))  # inside the checkpoint roots, like /train/save
        return await worker.call(lambda: engine.export_weights(target))

    return app


def app_options(args) -> dict:
    """`create_app`'s keyword arguments from `serve`'s command line."""
    return {
        "max_batch_rows": args.max_batch_rows,
        "checkpoint_roots": args.checkpoint_root,
        "max_body_bytes": int(args.max_body_mb * 1024 * 1024),
        "stuck_after_s": args.stuck_after,
        "docs": args.docs,
    }


class _SchemaOnlyEngine:
    """Stands in for an `Engine` when only the routes are needed (the OpenAPI schema): no model."""

    name = "schema"
    max_context = 0

    def generate(self, _rows) -> None:  # pragma: no cover - never called
        raise RuntimeError("schema-only engine")


def openapi_schema() -> dict:
    """The HTTP API's OpenAPI schema, built from the same routes and pydantic models as the server."""
    app = create_app(_SchemaOnlyEngine())  # type: ignore[arg-type]
    try:
        return app.openapi()
    finally:
        app.state.worker.stop()
