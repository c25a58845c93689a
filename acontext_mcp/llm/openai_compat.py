"""A `ChatProvider` for any OpenAI-compatible Chat Completions server (OpenAI, Azure, vLLM, Ollama, LM Studio).

Retries 429, 5xx, timeouts and connection errors with exponential backoff (honouring a
server's Retry-After up to a cap); anything else fails at once with `LLMError`.

Tool modes, for small and local models that write a call as JSON text instead of `tool_calls`:
`native` sends `tools` and reads `tool_calls` only; `auto` (default) also reads a call written as
JSON in `content` when `tool_calls` is empty; `json_schema` sends no `tools` but constrains the reply
with `response_format` to one `{"name", "arguments"}` object (an `anyOf` over the offered tools) or an array of them,
and replays earlier calls and results as plain messages.
"""

from __future__ import annotations

import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any, Literal
from uuid import uuid4

import anyio

from acontext_mcp.errors import LLMError
from acontext_mcp.llm.base import ChatReply, ToolCall
from acontext_mcp.redact import redact, redact_url, url_secrets

if TYPE_CHECKING:
    from openai import AsyncOpenAI

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0
# Local servers (Ollama, LM Studio, vLLM) ignore the key, but the client insists on one.
PLACEHOLDER_KEY = "not-needed"

ToolMode = Literal["auto", "native", "json_schema"]
MAX_CALLS_PER_REPLY = 8  # calls one json_schema reply may hold
JSON_SCHEMA_MAX_TOKENS = 1536  # a reply's token limit in json_schema mode, unless one is set


class OpenAICompatible:
    def __init__(
        self,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 3,
        retry_base_s: float = 0.5,
        tool_mode: ToolMode = "auto",
        max_tokens: int = 0,
    ) -> None:
        """`max_tokens` bounds each reply (0: `JSON_SCHEMA_MAX_TOKENS` in json_schema mode, else none sent)."""
        self._model = model
        self._api_key = api_key or PLACEHOLDER_KEY
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        self._retry_base_s = retry_base_s
        self._tool_mode = tool_mode
        self._max_tokens = max_tokens or (JSON_SCHEMA_MAX_TOKENS if tool_mode == "json_schema" else 0)
        self._client: AsyncOpenAI | None = None

    @property
    def model(self) -> str:
        return self._model

    async def aclose(self) -> None:
        """Close the HTTP connections, if any were opened."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    def _openai(self) -> AsyncOpenAI:
        if self._client is None:
            from openai import AsyncOpenAI

            # Retries are ours (below), so the client makes exactly one request per attempt.
            self._client = AsyncOpenAI(
                api_key=self._api_key, base_url=self._base_url, timeout=self._timeout_s, max_retries=0
            )
        return self._client

    async def chat(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> ChatReply:
        """One completion, retried on transient failures. Raises `LLMError` when none succeeds."""
        import openai

        client = self._openai()
        request: dict[str, Any] = {"model": self._model, "messages": messages, "tools": tools}
        if self._tool_mode == "json_schema" and tools:
            request = {"model": self._model, "messages": plain_conversation(messages, tools),
                       "response_format": call_format(tools)}
        if self._max_tokens:  # OpenAI's own API takes only the newer name for reasoning models; servers, the older
            request["max_tokens" if self._base_url else "max_completion_tokens"] = self._max_tokens
        for attempt in range(self._max_retries + 1):
            try:
                response = await client.chat.completions.create(**request)
            except (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError) as exc:
                if attempt == self._max_retries:
                    tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
                    raise LLMError(f"{self._where()}: {self._describe(exc)} (after {tries})") from exc
                delay = self._backoff(attempt, exc)
                log.info("LLM call failed (%s); retrying in %.2fs", self._describe(exc), delay)
                await anyio.sleep(delay)
            except openai.OpenAIError as exc:
                raise LLMError(f"{self._where()}: {self._describe(exc)}") from exc
            except ValueError as exc:  # a body that is not JSON
                raise LLMError(f"{self._where()}: the server answered with something that is not JSON "
                               f"({redact(str(exc), [self._api_key])})") from exc
            else:
                return self._reply(response, tools)
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int, exc: Exception) -> float:
        delay = self._retry_base_s * 2**attempt
        response = getattr(exc, "response", None)
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after is not None:
            with contextlib.suppress(ValueError):
                delay = max(delay, float(retry_after))
        return min(delay, MAX_BACKOFF_S)

    def _reply(self, response: Any, tools: list[dict[str, Any]]) -> ChatReply:
        if not response.choices or response.choices[0].message is None:
            raise LLMError(f"{self._where()}: the answer held no choices")
        message = response.choices[0].message
        calls = [
            ToolCall(id=call.id, name=call.function.name, arguments=call.function.arguments or "")
            for call in message.tool_calls or []
            if getattr(call, "function", None) is not None
        ]
        content = message.content
        if not calls and content and self._tool_mode != "native":
            calls = calls_in_text(content, {tool["function"]["name"] for tool in tools})
            if calls:
                content = None  # the text was the call
        usage = response.usage
        details = getattr(usage, "prompt_tokens_details", None) if usage else None
        return ChatReply(
            content=content,
            tool_calls=calls,
            model=response.model or self._model,
            prompt_tokens=(usage.prompt_tokens or 0) if usage else 0,
            completion_tokens=(usage.completion_tokens or 0) if usage else 0,
            cached_tokens=(getattr(details, "cached_tokens", None) or 0) if details else 0,
        )

    def _where(self) -> str:
        return f"LLM {self._model} at {redact_url(self._base_url or 'api.openai.com')}"

    def _describe(self, exc: Exception) -> str:
        """The error, without the key or URL credentials an upstream body may echo back."""
        status = getattr(exc, "status_code", None)
        text = f"HTTP {status}: {exc}" if status else f"{type(exc).__name__}: {exc}"
        return redact(text, [self._api_key, *url_secrets(self._base_url)])

def call_format(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """A `response_format` that admits one call of an offered tool, `{"name": const, "arguments": ...}`, or an
    array of up to `MAX_CALLS_PER_REPLY` such calls (made in order).

    Each tool's `$defs` move to the root, where its `#/$defs/...` references point. Every argument is required,
    as in strict structured outputs: a small model then writes each one (`[]`, `""`, or its default) instead
    of leaving out one it should have thought about, such as a task's preferences."""
    defs: dict[str, Any] = {}
    choices = []
    for tool in tools:
        function = tool["function"]
        parameters = dict(function.get("parameters") or {"type": "object", "properties": {}})
        defs.update(parameters.pop("$defs", {}))
        if parameters.get("properties"):
            parameters["required"] = list(parameters["properties"])
        choices.append({
            "type": "object",
            "properties": {"name": {"const": function["name"]}, "arguments": parameters},
            "required": ["name", "arguments"],
        })
    several = {"type": "array", "items": {"anyOf": choices}, "minItems": 1, "maxItems": MAX_CALLS_PER_REPLY}
    schema: dict[str, Any] = {"anyOf": [*choices, several], **({"$defs": defs} if defs else {})}
    return {"type": "json_schema", "json_schema": {"name": "tool_call", "schema": schema}}


def plain_conversation(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation without tool roles: the tools described once in the system message, earlier calls
    as the JSON the model wrote, and tool results as user messages naming the tool."""
    described = "\n".join(
        f"- {t['function']['name']}: {(t['function'].get('description') or '').strip()}\n"
        f"  arguments schema: {json.dumps(t['function'].get('parameters') or {}, separators=(',', ':'))}"
        for t in tools
    )
    guide = ("Reply with one tool call as a JSON object "
             '{"name": <tool name>, "arguments": {...}}, or a JSON array of such objects to make several '
             "calls in order. Tools:\n" + described)
    names: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role == "assistant" and message.get("tool_calls"):
            calls = []
            for call in message["tool_calls"]:
                names[call.get("id", "")] = call["function"]["name"]
                calls.append(f'{{"name": {json.dumps(call["function"]["name"])}, '
                             f'"arguments": {call["function"].get("arguments") or "{}"}}}')
            out.append({"role": "assistant", "content": "\n".join(calls)})
        elif role == "tool":
            name = names.get(message.get("tool_call_id", ""), "the tool")
            out.append({"role": "user", "content": f"Result of {name}: {message.get('content') or ''}"})
        else:
            out.append(message)
    if out and out[0].get("role") == "system":
        out[0] = {**out[0], "content": f"{out[0].get('content') or ''}\n\n{guide}"}
    else:
        out.insert(0, {"role": "system", "content": guide})
    return out


def calls_in_text(text: str, names: set[str]) -> list[ToolCall]:
    """Tool calls a model wrote as JSON text (bare, fenced or in `<tool_call>` tags): an object, a list of
    objects, or one object per line, each with a `name` among `names` and `arguments` (or `parameters`).
    Empty unless every object found is such a call."""
    items: list[Any] = []
    for candidate in _json_candidates(text):
        with contextlib.suppress(ValueError):
            found = json.loads(candidate)
            items = found if isinstance(found, list) else [found]
            break
    else:
        for line in text.splitlines():
            with contextlib.suppress(ValueError):
                if line.strip().startswith("{"):
                    items.append(json.loads(line.strip()))
    calls = []
    for item in items:
        if not isinstance(item, dict) or item.get("name") not in names:
            return []
        arguments = item.get("arguments", item.get("parameters", {}))
        text_args = arguments if isinstance(arguments, str) else json.dumps(arguments)
        calls.append(ToolCall(id=f"call_{uuid4().hex[:12]}", name=item["name"], arguments=text_args))
    return calls


def _json_candidates(text: str) -> list[str]:
    """The whole text, then the span from its first `{`/`[` to its last `}`/`]`, then that span without
    doubled outer braces (`{{...}}`, as a small model copying a template writes)."""
    stripped = text.strip()
    starts = [i for i in (stripped.find("{"), stripped.find("[")) if i >= 0]
    end = max(stripped.rfind("}"), stripped.rfind("]"))
    span = stripped[min(starts):end + 1] if starts and end > min(starts) else ""
    doubled = [span[1:-1]] if span.startswith("{{") and span.endswith("}}") else []
    return [stripped, *([span] if span else []), *doubled]

