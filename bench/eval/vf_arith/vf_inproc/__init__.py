"""An in-process verifiers harness for bench/eval: one chat call per episode through the rollout's
interception endpoint, with no program launched. verifiers' Harness contract allows this ("a harness
may run its loop in-process ... as long as every model call goes through endpoint + secret"); it
removes the per-rollout process that the built-in `null` harness starts, so the benchmark measures
verifiers' orchestration rather than process spawning."""

from openai import AsyncOpenAI
from verifiers.v1.configs.harness import HarnessConfig
from verifiers.v1.harness import Harness
from verifiers.v1.runtimes import ProgramResult

_clients: dict[tuple[str, str], AsyncOpenAI] = {}


class InprocHarnessConfig(HarnessConfig):
    pass


class InprocHarness(Harness[InprocHarnessConfig]):
    APPENDS_SYSTEM_PROMPT = True
    EXECUTES_CODE = False
    NEEDS_CONTAINER = False

    async def setup(self, runtime) -> None:
        return None

    async def launch(self, ctx, trace, runtime, endpoint, secret, mcp_urls, data, tool_interception_url=None) -> ProgramResult:
        system, prompt = self.resolve_prompt(data)
        messages = [{"role": "system", "content": system}] if system else []
        if isinstance(prompt, str):
            messages.append({"role": "user", "content": prompt})
        client = _clients.get((endpoint, secret))
        if client is None:
            client = _clients[(endpoint, secret)] = AsyncOpenAI(base_url=endpoint, api_key=secret, max_retries=0)
        await client.chat.completions.create(model=ctx.model, messages=messages)
        return ProgramResult(exit_code=0, stdout="", stderr="")


__all__ = ["InprocHarness"]
