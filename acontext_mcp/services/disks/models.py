"""Records the disks services return; the MCP tools return them as structured output."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Encoding = Literal["utf-8", "base64"]
"""How an artifact's content travels as text."""

MAX_GREP_LIMIT = 1000
"""The most matching lines one grep returns."""


def as_text(data: bytes) -> str | None:
    """The bytes as text if they are UTF-8 without NUL bytes, else None."""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


class Disk(BaseModel):
    id: str
    name: str | None = None
    created_at: str
    artifact_count: int = 0
    user: str | None = Field(default=None, description="The identifier of the user it belongs to, if any")


class DiskList(BaseModel):
    items: list[Disk]


class Artifact(BaseModel):
    id: str
    disk_id: str
    file_path: str = Field(description="The folder, e.g. /todo/")
    filename: str
    size: int = Field(description="Bytes")
    mime_type: str
    sha256: str
    meta: dict[str, Any] = Field(default_factory=dict)
    created_at: str
    updated_at: str


class ArtifactContent(Artifact):
    content: str | None = Field(default=None, description="The file's text, or base64 of its bytes; see encoding")
    encoding: Encoding | None = None
    public_url: str | None = Field(default=None, description="A URL anyone can GET the bytes from until it expires")
    public_url_expires_at: str | None = Field(default=None, description="UTC ISO-8601")
    note: str | None = Field(default=None, description="Why a requested public_url is missing")


class ArtifactListing(BaseModel):
    disk_id: str
    path: str
    folders: list[str] = Field(description="Sub-folders directly under path, e.g. /todo/done/")
    files: list[Artifact] = Field(description="Files directly under path")
    truncated: bool = Field(default=False, description="True if there were more than could be listed")


class ArtifactMatches(BaseModel):
    items: list[Artifact]
    truncated: bool = Field(description="True if more files matched than were returned")


class GrepMatch(BaseModel):
    file_path: str
    filename: str
    line_number: int = Field(description="From 1")
    line: str


class GrepResult(BaseModel):
    matches: list[GrepMatch]
    truncated: bool = Field(description="True if the limit or the scan budget stopped the search early")
    files_scanned: int
    note: str | None = None
