"""Settings: every knob, read from flags and environment variables.

| setting | env var | default |
|---|---|---|
| data_dir | ACONTEXT_MCP_HOME | the platform's user data dir for `acontext-mcp` |
| transport | ACONTEXT_MCP_TRANSPORT | stdio |
| host | ACONTEXT_MCP_HOST | 127.0.0.1 |
| port | ACONTEXT_MCP_PORT | 8029 |
| max_message_bytes | ACONTEXT_MAX_MESSAGE_BYTES | 8 MiB |
| blob_threshold_bytes | ACONTEXT_BLOB_THRESHOLD_BYTES | 64 KiB |
| log_level | ACONTEXT_LOG_LEVEL | WARNING |
| lancedb_uri | ACONTEXT_LANCEDB_URI | `<data_dir>/lancedb` (a path or an object store URI) |
| embedding | ACONTEXT_EMBEDDING | none: full-text search only; `openai`, `ollama` or `sentence-transformers` adds vectors |
| embedding_model | ACONTEXT_EMBEDDING_MODEL | the provider's default model |

The README's settings table mirrors this one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Transport = Literal["stdio", "sse", "http"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

ENV_VARS: dict[str, str] = {
    "data_dir": "ACONTEXT_MCP_HOME",
    "transport": "ACONTEXT_MCP_TRANSPORT",
    "host": "ACONTEXT_MCP_HOST",
    "port": "ACONTEXT_MCP_PORT",
    "max_message_bytes": "ACONTEXT_MAX_MESSAGE_BYTES",
    "blob_threshold_bytes": "ACONTEXT_BLOB_THRESHOLD_BYTES",
    "log_level": "ACONTEXT_LOG_LEVEL",
    "lancedb_uri": "ACONTEXT_LANCEDB_URI",
    "embedding": "ACONTEXT_EMBEDDING",
    "embedding_model": "ACONTEXT_EMBEDDING_MODEL",
}


def default_data_dir() -> Path:
    """The platform's user data dir, e.g. ~/.local/share/acontext-mcp on Linux."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("acontext-mcp", appauthor=False))


class Settings(BaseModel):
    """Validated server settings; build with `Settings.load(**flags)`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Field(default_factory=default_data_dir)
    transport: Transport = "stdio"
    host: str = "127.0.0.1"
    port: int = Field(default=8029, ge=0, le=65535)
    max_message_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    blob_threshold_bytes: int = Field(default=64 * 1024, gt=0)
    log_level: LogLevel = "WARNING"
    lancedb_uri: str | None = None
    embedding: str | None = None
    embedding_model: str | None = None

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **flags: Any) -> Settings:
        """Merge, by precedence: explicit flags (not None), then env vars, then defaults."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {
            field: env[var] for field, var in ENV_VARS.items() if env.get(var)
        }
        values.update({k: v for k, v in flags.items() if v is not None})
        if "log_level" in values:
            values["log_level"] = str(values["log_level"]).upper()
        return cls(**values)

    @property
    def database_path(self) -> Path:
        return self.data_dir / "acontext.db"

    @property
    def blobs_url(self) -> str:
        return (self.data_dir / "blobs").as_uri()

    @property
    def search_index_uri(self) -> str:
        return self.lancedb_uri or str(self.data_dir / "lancedb")
