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


class Deleted(BaseModel):
    id: str
    deleted: bool = True
