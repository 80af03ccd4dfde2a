"""Chat rendering (the model's own template) and tool-call parsing of sampled text."""

from __future__ import annotations

import json
import re
import uuid

from .errors import RequestError

TOOL_CALL_RE = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)


def _template_args(messages: list[dict], keiko_template: bool) -> list[dict]:
    """Other models' templates (Qwen2.5, Llama 3) expect tool-call arguments as objects, not strings."""
    if keiko_template:
        return messages
    out = []
    for m in messages:
        if m.get("role") == "assistant" and m.get("tool_calls"):
            m = dict(m)
            calls = []
            for tc in m["tool_calls"]:
                fn = dict(tc.get("function", {}))
                if isinstance(fn.get("arguments"), str):
                    try:
                        fn["arguments"] = json.loads(fn["arguments"])
                    except json.JSONDecodeError:
                        pass
                calls.append({**tc, "function": fn})
            m["tool_calls"] = calls
        out.append(m)
    return out


def render_chat(tokenizer, messages: list[dict], tools: list[dict] | None) -> list[int]:
    """Token ids of `messages` rendered with the chat template plus the assistant generation prompt."""
    if not tokenizer.chat_template:
        raise RequestError("this model has no chat template: use /v1/completions", code="invalid_request")
    keiko_template = "<tool_call>{\\\"name\\\"" in tokenizer.chat_template or "call.arguments is string" in tokenizer.chat_template
    try:
        text = tokenizer.apply_chat_template(
            _template_args(messages, keiko_template), tools=tools or None, add_generation_prompt=True, tokenize=False
        )
    except Exception as e:  # noqa: BLE001 - template errors are caused by the request's messages
        raise RequestError(f"chat template failed on these messages: {e}") from e
    return list(tokenizer.encode(text, add_special_tokens=False))


def parse_tool_calls(text: str) -> tuple[str | None, list[dict]]:
    """Splits sampled text into content and OpenAI tool calls. Blocks that are not valid
    `{"name": str, "arguments": object}` JSON stay in the content as text."""
    calls: list[dict] = []
    kept: list[str] = []
    last = 0
    for m in TOOL_CALL_RE.finditer(text):
        try:
            obj = json.loads(m.group(1))
        except json.JSONDecodeError:
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
            continue
        args = obj.get("arguments", {})
        calls.append(
            {
                "id": f"call_{uuid.uuid4().hex[:12]}",
                "type": "function",
                "function": {"name": obj["name"], "arguments": args if isinstance(args, str) else json.dumps(args)},
            }
        )
        kept.append(text[last : m.start()])
        last = m.end()
    kept.append(text[last:])
    content = "".join(kept) if calls else text
    if calls and not content.strip():
        return None, calls
    return content, calls
