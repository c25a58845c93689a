"""Settings: every knob, read from flags and environment variables.

| setting | env var | default |
|---|---|---|
| data_dir | ACONTEXT_MCP_HOME | the platform's user data dir for `acontext-mcp` |
| transport | ACONTEXT_MCP_TRANSPORT | stdio |
| host | ACONTEXT_MCP_HOST | 127.0.0.1 |
| port | ACONTEXT_MCP_PORT | 8029 |
| max_message_bytes | ACONTEXT_MAX_MESSAGE_BYTES | 8 MiB |
| blob_threshold_bytes | ACONTEXT_BLOB_THRESHOLD_BYTES | 64 KiB |
| max_metadata_bytes | ACONTEXT_MAX_METADATA_BYTES | 64 KiB (session metadata, artifact meta) |
| log_level | ACONTEXT_LOG_LEVEL | WARNING |
| token | ACONTEXT_MCP_TOKEN | unset: HTTP transports open (loopback only) |
| allowed_hosts | ACONTEXT_MCP_ALLOWED_HOSTS | loopback names (`host:port`, `*` port wildcard) |
| insecure | ACONTEXT_MCP_INSECURE | false: refuse a non-loopback host without a token |
| tokenizer | ACONTEXT_TOKENIZER | auto (tiktoken if its encoding is local, else estimate) |
| openai_api_key | OPENAI_API_KEY | none (with no key and no base URL the observer is off) |
| openai_base_url | OPENAI_BASE_URL | none (OpenAI itself; set it for Azure, vLLM, Ollama, LM Studio) |
| llm_model | ACONTEXT_LLM_MODEL | gpt-4.1-mini |
| llm_timeout_s | ACONTEXT_LLM_TIMEOUT_S | 60 |
| llm_max_retries | ACONTEXT_LLM_MAX_RETRIES | 3 (on 429, 5xx and connection errors) |
| llm_retry_base_s | ACONTEXT_LLM_RETRY_BASE_S | 0.5 (doubles per retry) |
| observer_batch | ACONTEXT_OBSERVER_BATCH | 8 messages |
| observer_idle_s | ACONTEXT_OBSERVER_IDLE_S | 10 |
| observer_max_attempts | ACONTEXT_OBSERVER_MAX_ATTEMPTS | 5 |
| observer_retry_base_s | ACONTEXT_OBSERVER_RETRY_BASE_S | 2 (doubles per failed attempt) |
| observer_concurrency | ACONTEXT_OBSERVER_CONCURRENCY | 4 sessions at once |
| lancedb_uri | ACONTEXT_LANCEDB_URI | `<data_dir>/lancedb` (a path or an object store URI) |
| embedding | ACONTEXT_EMBEDDING | none: full-text search only; `openai`, `ollama` or `sentence-transformers` adds vectors |
| embedding_model | ACONTEXT_EMBEDDING_MODEL | the provider's default model |
| learner_max_attempts | ACONTEXT_LEARNER_MAX_ATTEMPTS | 5 |
| learner_retry_base_s | ACONTEXT_LEARNER_RETRY_BASE_S | 2 (doubles per failed attempt) |
| learner_concurrency | ACONTEXT_LEARNER_CONCURRENCY | 2 tasks at once |
| learner_max_steps | ACONTEXT_LEARNER_MAX_STEPS | 8 model calls per step (extract, place) |
| agentic_search_max_steps | ACONTEXT_AGENTIC_SEARCH_MAX_STEPS | 6 model calls |
| artifact_url | ACONTEXT_ARTIFACT_URL | `<data_dir>/artifacts`; any fsspec URL (`memory://`, `s3://bucket/prefix`, ...) |
| max_artifact_bytes | ACONTEXT_MAX_ARTIFACT_BYTES | 64 MiB |
| public_url | ACONTEXT_PUBLIC_URL | `http://<host>:<port>` when serving HTTP; none over stdio |
| url_secret | ACONTEXT_URL_SECRET | a random secret kept in `<data_dir>/url_secret` |
| public_url_ttl_seconds | ACONTEXT_PUBLIC_URL_TTL | 3600 |
| tokens | ACONTEXT_MCP_TOKENS | unset; `tok1=projA,tok2=projB`: multi-tenant mode, a project per token |
| project | ACONTEXT_PROJECT | default (the project of stdio, HTTP without tokens, `ACONTEXT_MCP_TOKEN`) |
| queue_lease_s | ACONTEXT_QUEUE_LEASE_S | 60 (a replica that dies frees its queue items after this) |
| queue_poll_s | ACONTEXT_QUEUE_POLL_S | 2 (how often queues look for work other replicas queued) |
| blob_url | ACONTEXT_BLOB_URL | `<data_dir>/blobs`; any fsspec URL, for message parts over the blob threshold |
| stateless_http | ACONTEXT_STATELESS_HTTP | false: streamable HTTP keeps sessions in the process; true lets any replica answer |
| presign_urls | ACONTEXT_PRESIGN_URLS | true: public artifact URLs are the object store's presigned ones where it offers them |
| database_url | ACONTEXT_DATABASE_URL | `<data_dir>/acontext.db` (SQLite); `postgresql://user:pass@host:5432/db` for replicas |

The README's settings table mirrors this one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from acontext_mcp.store.database import is_database_url
from acontext_mcp.tokens import Tokenizer

Transport = Literal["stdio", "sse", "http"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

ENV_VARS: dict[str, str] = {
    "data_dir": "ACONTEXT_MCP_HOME",
    "transport": "ACONTEXT_MCP_TRANSPORT",
    "host": "ACONTEXT_MCP_HOST",
    "port": "ACONTEXT_MCP_PORT",
    "max_message_bytes": "ACONTEXT_MAX_MESSAGE_BYTES",
    "blob_threshold_bytes": "ACONTEXT_BLOB_THRESHOLD_BYTES",
    "max_metadata_bytes": "ACONTEXT_MAX_METADATA_BYTES",
    "log_level": "ACONTEXT_LOG_LEVEL",
    "token": "ACONTEXT_MCP_TOKEN",
    "allowed_hosts": "ACONTEXT_MCP_ALLOWED_HOSTS",
    "insecure": "ACONTEXT_MCP_INSECURE",
    "tokenizer": "ACONTEXT_TOKENIZER",
    "openai_api_key": "OPENAI_API_KEY",
    "openai_base_url": "OPENAI_BASE_URL",
    "llm_model": "ACONTEXT_LLM_MODEL",
    "llm_timeout_s": "ACONTEXT_LLM_TIMEOUT_S",
    "llm_max_retries": "ACONTEXT_LLM_MAX_RETRIES",
    "llm_retry_base_s": "ACONTEXT_LLM_RETRY_BASE_S",
    "observer_batch": "ACONTEXT_OBSERVER_BATCH",
    "observer_idle_s": "ACONTEXT_OBSERVER_IDLE_S",
    "observer_max_attempts": "ACONTEXT_OBSERVER_MAX_ATTEMPTS",
    "observer_retry_base_s": "ACONTEXT_OBSERVER_RETRY_BASE_S",
    "observer_concurrency": "ACONTEXT_OBSERVER_CONCURRENCY",
    "lancedb_uri": "ACONTEXT_LANCEDB_URI",
    "embedding": "ACONTEXT_EMBEDDING",
    "embedding_model": "ACONTEXT_EMBEDDING_MODEL",
    "learner_max_attempts": "ACONTEXT_LEARNER_MAX_ATTEMPTS",
    "learner_retry_base_s": "ACONTEXT_LEARNER_RETRY_BASE_S",
    "learner_concurrency": "ACONTEXT_LEARNER_CONCURRENCY",
    "learner_max_steps": "ACONTEXT_LEARNER_MAX_STEPS",
    "agentic_search_max_steps": "ACONTEXT_AGENTIC_SEARCH_MAX_STEPS",
    "artifact_url": "ACONTEXT_ARTIFACT_URL",
    "max_artifact_bytes": "ACONTEXT_MAX_ARTIFACT_BYTES",
    "public_url": "ACONTEXT_PUBLIC_URL",
    "url_secret": "ACONTEXT_URL_SECRET",
    "public_url_ttl_seconds": "ACONTEXT_PUBLIC_URL_TTL",
    "tokens": "ACONTEXT_MCP_TOKENS",
    "project": "ACONTEXT_PROJECT",
    "queue_lease_s": "ACONTEXT_QUEUE_LEASE_S",
    "queue_poll_s": "ACONTEXT_QUEUE_POLL_S",
    "blob_url": "ACONTEXT_BLOB_URL",
    "stateless_http": "ACONTEXT_STATELESS_HTTP",
    "presign_urls": "ACONTEXT_PRESIGN_URLS",
    "database_url": "ACONTEXT_DATABASE_URL",
}


MAX_PROJECT_CHARS = 200


def parse_project_tokens(text: str) -> dict[str, str]:
    """`tok1=projA,tok2=projB` -> {token: project}. Raises `ValueError` naming the bad pair (never the token)."""
    pairs: dict[str, str] = {}
    for number, item in enumerate(text.split(","), start=1):
        token, sep, project = (part.strip() for part in item.partition("="))
        if not sep or not token or not project:
            raise ValueError(f"pair {number} is not token=project; write tok1=projA,tok2=projB")
        if any(c.isspace() for c in token) or len(project) > MAX_PROJECT_CHARS:
            raise ValueError(f"pair {number}: a token has no spaces and a project name at most "
                             f"{MAX_PROJECT_CHARS} characters")
        if token in pairs:
            raise ValueError(f"pair {number} repeats the token of an earlier pair; give each token one project")
        pairs[token] = project
    return pairs


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
    max_metadata_bytes: int = Field(default=64 * 1024, gt=0)
    log_level: LogLevel = "WARNING"
    token: SecretStr | None = Field(default=None, description="bearer token the HTTP transports require")
    allowed_hosts: tuple[str, ...] = Field(
        default=(), description="Host headers accepted besides loopback ones (DNS-rebinding protection)"
    )
    insecure: bool = False
    tokenizer: Tokenizer = "auto"

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(host.strip() for host in value.split(",") if host.strip())
        return value
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    llm_model: str = Field(default="gpt-4.1-mini", min_length=1)
    llm_timeout_s: float = Field(default=60.0, gt=0)
    llm_max_retries: int = Field(default=3, ge=0)
    llm_retry_base_s: float = Field(default=0.5, ge=0)
    observer_batch: int = Field(default=8, ge=1)
    observer_idle_s: float = Field(default=10.0, ge=0)
    observer_max_attempts: int = Field(default=5, ge=1)
    observer_retry_base_s: float = Field(default=2.0, ge=0)
    observer_concurrency: int = Field(default=4, ge=1)
    lancedb_uri: str | None = None
    embedding: str | None = None
    embedding_model: str | None = None
    learner_max_attempts: int = Field(default=5, ge=1)
    learner_retry_base_s: float = Field(default=2.0, ge=0)
    learner_concurrency: int = Field(default=2, ge=1)
    learner_max_steps: int = Field(default=8, ge=1)
    agentic_search_max_steps: int = Field(default=6, ge=1)
    artifact_url: str | None = None
    max_artifact_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    public_url: str | None = None
    url_secret: SecretStr | None = Field(default=None, min_length=16, description="signs public artifact URLs")
    public_url_ttl_seconds: int = Field(default=3600, gt=0)
    tokens: SecretStr | None = Field(default=None, description="token=project pairs: bearer tokens of projects")
    project: str = Field(default="default", min_length=1, max_length=MAX_PROJECT_CHARS)
    queue_lease_s: float = Field(default=60.0, gt=0, description="how long a queue item's claim lasts unrenewed")
    queue_poll_s: float = Field(default=2.0, gt=0, description="how often queues look for other replicas' work")
    blob_url: str | None = None
    stateless_http: bool = False
    presign_urls: bool = True
    database_url: SecretStr | None = Field(default=None, description="a postgresql:// URL (it may hold a password)")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not is_database_url(value.get_secret_value()):
            raise ValueError(
                f"{ENV_VARS['database_url']} must be a postgresql:// URL such as "
                "postgresql://user:password@host:5432/acontext; unset it to use SQLite in the data dir"
            )
        return value

    @field_validator("tokens")
    @classmethod
    def _check_tokens(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_project_tokens(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _check_token_clash(self) -> Settings:
        if self.token and self.tokens and self.token.get_secret_value() in parse_project_tokens(
            self.tokens.get_secret_value()
        ):
            raise ValueError(f"{ENV_VARS['token']} is also listed in {ENV_VARS['tokens']}; give each token one project")
        return self

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
    def project_tokens(self) -> dict[str, str]:
        """Every accepted bearer token and its project: `tokens`, plus `token` for `project`."""
        mapped = parse_project_tokens(self.tokens.get_secret_value()) if self.tokens else {}
        return mapped | ({self.token.get_secret_value(): self.project} if self.token else {})

    @property
    def database_path(self) -> Path:
        return self.data_dir / "acontext.db"

    @property
    def database(self) -> str | Path:
        """What `store.database.open_database` opens: `database_url`, else the SQLite file in `data_dir`."""
        return self.database_url.get_secret_value() if self.database_url else self.database_path

    @property
    def blobs_url(self) -> str:
        """Where large message parts live: `blob_url`, else `<data_dir>/blobs`."""
        return self.blob_url or (self.data_dir / "blobs").as_uri()

    @property
    def replica_local(self) -> list[str]:
        """The env vars left at a default in this process's data dir, which other replicas cannot share."""
        unset = {"database_url": self.database_url, "artifact_url": self.artifact_url, "blob_url": self.blob_url,
                 "lancedb_uri": self.lancedb_uri, "url_secret": self.url_secret}
        return [ENV_VARS[field] for field, value in unset.items() if value is None]

    @property
    def llm_enabled(self) -> bool:
        """True when an OpenAI-compatible endpoint is configured (a key, a base URL, or both)."""
        return self.openai_api_key is not None or self.openai_base_url is not None

    @property
    def trusted_hosts(self) -> tuple[str, ...]:
        """Host headers HTTP requests may carry (`name:*` = any port): loopback names, then `allowed_hosts`."""
        return ("127.0.0.1:*", "localhost:*", "[::1]:*", *self.allowed_hosts)

    @property
    def search_index_uri(self) -> str:
        return self.lancedb_uri or str(self.data_dir / "lancedb")

    @property
    def artifacts_url(self) -> str:
        """Where artifact bytes live: `artifact_url`, else `<data_dir>/artifacts`."""
        return self.artifact_url or (self.data_dir / "artifacts").as_uri()

    @property
    def public_base_url(self) -> str | None:
        """The base of public artifact URLs; None over stdio unless `public_url` is set."""
        if self.public_url:
            return self.public_url.rstrip("/")
        if self.transport == "stdio":
            return None
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"
