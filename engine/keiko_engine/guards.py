"""Bounds on what one request may cost the engine: body size, prompt length, abandoned requests.

- `BodyLimit` (ASGI middleware): a body longer than the limit gets 413 `payload_too_large` — by its
  Content-Length before anything is read, or, for a chunked body, as soon as the limit is passed.
- `max_prompt_chars`: a text prompt with more characters than `max_context` tokens could ever cover
  is refused before it is tokenised (no token covers more characters than the longest vocabulary
  entry, so a longer text cannot fit).
- `sample_unless_disconnected`: a client that goes away cancels its rows; the generation loop drops
  cancelled rows at the next token, so an abandoned batch stops holding the single torch worker.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Awaitable, Callable

from .errors import RequestError

DEFAULT_MAX_BODY_BYTES = 128 * 1024 * 1024


def _json_error(status: int, code: str, message: str) -> tuple[dict, bytes]:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]}
    return start, body


class BodyLimit:
    """ASGI middleware: 413 for request bodies over `max_bytes`."""

    def __init__(self, app: Callable, max_bytes: int = DEFAULT_MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, receive: Callable, send: Callable, drain: bool) -> None:
        # Read (and drop) a modest remainder first, so that the client is not reset mid-upload and
        # sees the 413; a body far beyond the limit is cut off by `connection: close`.
        budget = 4 * 1024 * 1024
        while drain and budget > 0:
            msg = await receive()
            if msg.get("type") != "http.request":
                break
            budget -= len(msg.get("body", b""))
            if not msg.get("more_body", False):
                break
        start, body = _json_error(413, "payload_too_large", f"request body over {self.max_bytes} bytes; send less per request "
                                                           "(the limit is `serve --max-body-mb`)")
        await send(start)
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared < 0:
                start, body = _json_error(400, "invalid_request", "bad Content-Length header")
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            if declared > self.max_bytes:
                await self._refuse(receive, send, drain=True)
                return
        seen = 0
        over = False
        ended = False  # the client's last body chunk has been read

        async def counted_receive() -> dict:
            # Past the limit the app gets an empty end of body instead (it then fails to parse it),
            # and its answer is replaced by the 413 below.
            nonlocal seen, over, ended
            if over:
                return {"type": "http.request", "body": b"", "more_body": False}
            msg = await receive()
            if msg.get("type") == "http.request":
                ended = not msg.get("more_body", False)
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    over = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return msg

        replaced = False

        async def guarded_send(msg: dict) -> None:
            nonlocal replaced
            if over:
                if not replaced:
                    replaced = True
                    await self._refuse(receive, send, drain=not ended)
                return
            await send(msg)

        await self.app(scope, counted_receive, guarded_send)


def max_token_chars(tokenizer: Any) -> int:
    """The most characters one token of `tokenizer` can stand for (its longest vocabulary entry)."""
    try:
        return max(1, max((len(t) for t in tokenizer.get_vocab()), default=1))
    except Exception:  # noqa: BLE001 - a tokenizer without a vocabulary listing: be generous
        return 64


def check_prompt_chars(chars: int, max_context: int, token_chars: int, what: str = "prompt") -> None:
    """400 `context_length_exceeded` when `chars` characters cannot fit in `max_context` tokens."""
    limit = max_context * token_chars * 2  # twice the bound: room for normalisers that drop characters
    if chars > limit:
        raise RequestError(f"{what} has {chars} characters; no text over {limit} characters fits max_context {max_context} tokens",
                           code="context_length_exceeded")


def check_text(value: Any, what: str) -> None:
    """400 for text JSON can carry but UTF-8 cannot (a lone UTF-16 surrogate, e.g. a string cut mid-emoji)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise RequestError(f"{what}: invalid Unicode (a lone surrogate at character {e.start}); send valid UTF-8 text") from e
    elif isinstance(value, dict):
        for k, v in value.items():
            check_text(k, what)
            check_text(v, f"{what}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_text(v, f"{what}[{i}]")


async def sample_unless_disconnected(sample: Awaitable[Any], rows: list, is_disconnected: Callable[[], Awaitable[bool]], poll_s: float = 0.25) -> Any:
    """Awaits `sample`; if the client disconnects first, marks `rows` cancelled (the generation loop
    drops them at its next token) and raises `ClientGone` once the worker has let go of them."""
    task = asyncio.ensure_future(sample)
    while True:
        done, _ = await asyncio.wait({task}, timeout=poll_s)
        if done:
            return task.result()
        if await is_disconnected():
            for r in rows:
                r.cancelled = True
            await asyncio.wait({task})
            if not task.cancelled():
                task.exception()  # retrieved: the error, if any, has nobody to go to
            raise ClientGone()


class ClientGone(Exception):
    """The client disconnected before its response was ready (nobody reads the answer)."""
