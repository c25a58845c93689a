"""The provider interface: one chat call with tools, answered by an assistant message and its usage.

Messages and tool schemas use the OpenAI Chat Completions shapes, the lingua franca of
OpenAI-compatible servers; a provider for another API converts at its edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ToolCall:
    """One tool call; `arguments` is JSON text as the model wrote it, possibly invalid."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ChatReply:
    """The assistant's answer to one chat call, with the tokens it cost."""

    content: str | None
    tool_calls: list[ToolCall]
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0  # of prompt_tokens, served from the server's prompt cache

    def as_message(self) -> dict[str, Any]:
        """The reply as an OpenAI assistant message, to append to the conversation."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = [
                {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
                for call in self.tool_calls
            ]
        return message


class ChatProvider(Protocol):
    """A chat model that can call tools. `chat` raises `LLMError` when no usable answer comes back."""

    @property
    def model(self) -> str: ...

    async def chat(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> ChatReply: ...

    async def aclose(self) -> None: ...
