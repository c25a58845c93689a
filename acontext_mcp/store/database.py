"""The storage interface the services use, and `open_database`, which picks the engine from a URL.

Two engines implement it: `store.sqlite` (one file, the embedded default) and `store.postgres`
(several replicas on one server). Services write SQL both accept: `?` placeholders, `ON CONFLICT`
upserts, and times as UTC ISO-8601 text. Where the engines differ, the database says how
(`skip_locked`, `lock`, `schema`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from uuid import uuid4

from acontext_mcp.redact import redact


class Row(Protocol):
    """A result row: by column name (`row["id"]`) or position (`row[0]`); `keys()` names the columns.

    `sqlite3.Row` and asyncpg's `Record` both are one; iterating a row is not part of it (one yields
    values, a mapping keys), so read columns through `keys()`.
    """

    def __getitem__(self, key: Any, /) -> Any: ...

    def keys(self) -> Iterable[str]: ...


def in_batches(values: Sequence[str], size: int = 500) -> Iterator[tuple[list[str], str]]:
    """`values` a batch at a time, each with its placeholders (`?, ?, ?`) for an `IN (...)` list."""
    for start in range(0, len(values), size):
        batch = list(values[start : start + size])
        yield batch, ", ".join("?" * len(batch))


def new_id() -> str:
    """A random UUID as text: the id of every record."""
    return str(uuid4())


def utc_now() -> str:
    """The current time as UTC ISO-8601 with microseconds, e.g. 2026-01-02T03:04:05.000006+00:00."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Reader(Protocol):
    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> Row | None: ...

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]: ...


class Writer(Reader, Protocol):
    """The handle a transaction yields: reads see the transaction's own writes."""

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        ...

    async def execute_many(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        """Run one statement per row; no rows, no round trip."""
        ...

    async def defer(self, sql: str, params: Iterable[Any] = ()) -> None:
        """Run a statement whose row count nobody reads, by the transaction's next statement or commit at the
        latest (PostgreSQL sends it in that round trip); a failure may surface there."""
        ...

    async def lock(self, key: str) -> None:
        """Hold `key` until the transaction ends, so read-then-write sequences on it never interleave."""
        ...


class Database(Reader, Protocol):
    dialect: str
    """`sqlite` or `postgresql`."""
    skip_locked: str
    """Appended to a SELECT that claims queue rows, so concurrent claimers pass over each other's."""

    def transaction(self) -> AbstractAsyncContextManager[Writer]:
        """Run writes atomically: commit on success, roll back on any exception or cancellation.

        SQLite runs a process's transactions one at a time, PostgreSQL side by side: read-then-write
        sequences `lock` what they change. A nested call joins the outer one.
        """
        ...

    def schema(self, statement: str) -> str:
        """A migration's statement (written for SQLite) as this engine runs it."""
        ...


def is_database_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def shown(target: str | Path) -> str:
    """`target` fit for logs and messages: a URL's password is masked."""
    if isinstance(target, Path):
        return str(target)
    return redact(target)
