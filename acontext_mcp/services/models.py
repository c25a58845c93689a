"""Records the services return; the MCP tools return them as structured output."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Session(BaseModel):
    id: str
    space_id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: str = Field(description="UTC ISO-8601")
    updated_at: str = Field(description="UTC ISO-8601")
    message_count: int = 0
    token_count: int = Field(default=0, description="Tokens of all its messages, as counted when each was stored")


class SessionPage(BaseModel):
    items: list[Session]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page")
    has_more: bool


class StoredMessage(BaseModel):
    id: str
    session_id: str
    seq: int = Field(description="Position in the session, from 1")
    role: str
    created_at: str


class MessagePage(BaseModel):
    items: list[dict[str, Any]] = Field(description="Messages in the requested format, oldest first")
    message_ids: list[str] = Field(description="The stored message id of each item (one message may give several)")
    system: str | list[dict[str, Any]] | None = Field(
        default=None, description="Anthropic format only: the system prompt, from system messages on this page"
    )
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page")
    has_more: bool
    tokens_before: int | None = Field(default=None, description="Tokens of this page's messages as stored")
    tokens_after: int | None = Field(
        default=None, description="Tokens of the returned messages after edit_strategies (= tokens_before without)"
    )


class MessageTokens(BaseModel):
    id: str
    seq: int
    role: str
    tokens: int


class TokenCounts(BaseModel):
    session_id: str
    items: list[MessageTokens] = Field(description="Every message of the session, oldest first")
    total: int
    tokenizer: str = Field(description="How this server counts new messages: estimate or tiktoken:<encoding>")


class Deleted(BaseModel):
    id: str
    deleted: bool = True
