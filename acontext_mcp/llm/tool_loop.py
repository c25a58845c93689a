"""A bounded LLM tool-call loop, shared by the task agent, the skill learner and agentic search.

The model gets a system prompt, one user message and a set of tools (pydantic argument models,
so the contract is the same for any model). Each turn's tool calls run in order and are answered
in the conversation; a bad call (unknown tool, arguments that are not JSON or do not fit, an
`InvalidArgument`, `NotFound` or `Conflict` from the tool) is answered with an error the model
can read, and the loop goes on, for at most `max_steps` model calls.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from acontext_mcp.errors import Conflict, InvalidArgument, NotFound
from acontext_mcp.llm.base import ChatProvider, ChatReply


class UsageRecorder(Protocol):
    """Makes a provider's chat call and records what it cost (services' `LlmUsage`)."""

    async def chat(
        self, provider: ChatProvider, purpose: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> ChatReply: ...


class ToolArgs(BaseModel):
    """Base of tool argument models: the docstring is the tool's description; unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore", defer_build=True)  # built when an agent first runs, not at start


@dataclass(frozen=True)
class Tool:
    args: type[ToolArgs]
    apply: Callable[[Any], str | Awaitable[str]]  # answers the model with text starting "ok" or "error"


@dataclass(frozen=True)
class LoopRun:
    steps: int
    finished: bool
    tool_errors: int


def tool_schemas(args: Mapping[str, type[BaseModel]]) -> list[dict[str, Any]]:
    """Tools in the Chat Completions `tools` shape, without pydantic's titles (they only cost tokens); the
    docstring is sent once, as the function's description, not again as the parameters' description."""
    schemas = []
    for name, model in args.items():
        parameters = _untitled(model.model_json_schema())
        parameters.pop("description", None)
        schemas.append({"type": "function",
                        "function": {"name": name, "description": model.__doc__, "parameters": parameters}})
    return schemas


def _untitled(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _untitled(v) for k, v in schema.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(schema, list):
        return [_untitled(v) for v in schema]
    return schema


def parse_call(args: Mapping[str, type[BaseModel]], name: str, arguments: str) -> BaseModel | str:
    """A call's validated arguments, or the error text to answer the model with."""
    model = args.get(name)
    if model is None:
        return f"error: unknown tool {name!r}; use one of {', '.join(args)}"
    try:
        raw = json.loads(arguments or "{}")
    except ValueError as exc:
        return f"error: arguments of {name} are not valid JSON ({exc}); send a JSON object"
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in problem["loc"]) or "arguments"
        return f"error: {name} {where}: {problem['msg']}"


async def call_tool(tools: Mapping[str, Tool], name: str, arguments: str) -> str:
    """Run one tool call; the text answers the model, starting with "ok" or "error"."""
    parsed = parse_call({n: t.args for n, t in tools.items()}, name, arguments)
    if isinstance(parsed, str):
        return parsed
    try:
        result = tools[name].apply(parsed)
        return await result if inspect.isawaitable(result) else result
    except (InvalidArgument, NotFound, Conflict) as exc:
        return f"error: {name}: {exc}"


class ToolLoop:
    """Runs tool loops on one provider, recording every call's tokens under its purpose."""

    def __init__(self, provider: ChatProvider, usage: UsageRecorder, max_steps: int = 8) -> None:
        self._provider = provider
        self._usage = usage
        self.max_steps = max_steps

    @property
    def model(self) -> str:
        return self._provider.model

    async def run(
        self,
        purpose: str,
        system: str,
        user: str,
        tools: Mapping[str, Tool],
        final: Collection[str],
        nudge: str | None = None,
        max_steps: int | None = None,
    ) -> LoopRun:
        """Run until a tool in `final` answers "ok", or the model calls no tool (finished, unless `nudge`
        is given: then it is told that and the loop goes on), or the steps run out. Raises `LLMError`."""
        conversation: list[dict[str, Any]] = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        schemas = tool_schemas({name: tool.args for name, tool in tools.items()})
        errors = 0
        steps = max_steps or self.max_steps
        for step in range(1, steps + 1):
            reply = await self._usage.chat(self._provider, purpose, conversation, schemas)
            conversation.append(reply.as_message())
            if not reply.tool_calls:
                if nudge is None:
                    return LoopRun(step, True, errors)
                conversation.append({"role": "user", "content": nudge})
                continue
            done = False
            for call in reply.tool_calls:
                result = await call_tool(tools, call.name, call.arguments)
                errors += result.startswith("error")
                done = done or (call.name in final and result.startswith("ok"))
                conversation.append({"role": "tool", "tool_call_id": call.id, "content": result})
            if done:
                return LoopRun(step, True, errors)
        return LoopRun(steps, False, errors)
