"""A `ChatProvider` for any OpenAI-compatible Chat Completions server (OpenAI, Azure, vLLM, Ollama, LM Studio).

Retries 429, 5xx, timeouts and connection errors with exponential backoff (honouring a
server's Retry-After up to a cap); anything else fails at once with `LLMError`.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

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


class OpenAICompatible:
    def __init__(
        self,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 3,
        retry_base_s: float = 0.5,
    ) -> None:
        self._model = model
        self._api_key = api_key or PLACEHOLDER_KEY
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        self._retry_base_s = retry_base_s
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
        for attempt in range(self._max_retries + 1):
            try:
                response = await client.chat.completions.create(
                    model=self._model, messages=messages, tools=tools  # type: ignore[arg-type]
                )
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
                return self._reply(response)
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int, exc: Exception) -> float:
        delay = self._retry_base_s * 2**attempt
        response = getattr(exc, "response", None)
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after is not None:
            with contextlib.suppress(ValueError):
                delay = max(delay, float(retry_after))
        return min(delay, MAX_BACKOFF_S)

    def _reply(self, response: Any) -> ChatReply:
        if not response.choices or response.choices[0].message is None:
            raise LLMError(f"{self._where()}: the answer held no choices")
        message = response.choices[0].message
        calls = [
            ToolCall(id=call.id, name=call.function.name, arguments=call.function.arguments or "")
            for call in message.tool_calls or []
            if getattr(call, "function", None) is not None
        ]
        usage = response.usage
        return ChatReply(
            content=message.content,
            tool_calls=calls,
            model=response.model or self._model,
            prompt_tokens=(usage.prompt_tokens or 0) if usage else 0,
            completion_tokens=(usage.completion_tokens or 0) if usage else 0,
        )

    def _where(self) -> str:
        return f"LLM {self._model} at {redact_url(self._base_url or 'api.openai.com')}"

    def _describe(self, exc: Exception) -> str:
        """The error, without the key or URL credentials an upstream body may echo back."""
        status = getattr(exc, "status_code", None)
        text = f"HTTP {status}: {exc}" if status else f"{type(exc).__name__}: {exc}"
        return redact(text, [self._api_key, *url_secrets(self._base_url)])
