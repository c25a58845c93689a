"""Messages: store them in any supported format, read them back in any other."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread

from acontext_mcp.errors import (
    InvalidArgument,
    InvalidMessage,
    NotFound,
    PayloadTooLarge,
)
from acontext_mcp.formats import Format, check_format, from_native, to_native
from acontext_mcp.formats.editing import (
    EditStrategy,
    Entry,
    apply_strategies,
    total_tokens,
)
from acontext_mcp.formats.native import Message
from acontext_mcp.formats.sequence import check_content
from acontext_mcp.projects import current_project
from acontext_mcp.services import cursors
from acontext_mcp.services.limits import check_depth
from acontext_mcp.services.models import (
    Attachment,
    MessagePage,
    MessageTokens,
    NativeMessage,
    NativePage,
    StoredMessage,
    TokenCounts,
)
from acontext_mcp.services.observer.service import queue_for_observer
from acontext_mcp.services.sessions import check_session, touch_session, unknown_session
from acontext_mcp.store.blobs import BlobStore
from acontext_mcp.store.database import Database, Writer, new_id, utc_now
from acontext_mcp.tokens import TokenCounter, message_tokens

MAX_PAGE = 1000
_INLINE_PREPARE_CHARS = 64 * 1024
_BACKFILL_BATCH = 500
_BINARY_PARTS = frozenset({"image", "file", "audio"})


@dataclass(frozen=True)
class _Blob:
    key: str
    data: bytes


class MessageService:
    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        max_message_bytes: int,
        blob_threshold_bytes: int,
        counter: TokenCounter,
        on_stored: Callable[[str], None] | None = None,
    ) -> None:
        """`on_stored(session_id)` runs after each message is committed (the observer wakes on it)."""
        self._db = db
        self._blobs = blobs
        self._max_message_bytes = max_message_bytes
        self._blob_threshold_bytes = blob_threshold_bytes
        self._counter = counter
        self._on_stored = on_stored

    async def send_message(self, session_id: str, message: Any, format: str = "openai") -> StoredMessage:
        """Store one message, written in `format`, at the end of a session.

        Raises `InvalidArgument` (unknown format), `InvalidMessage` (the field that is wrong,
        including a tool result whose call id no earlier message made), `PayloadTooLarge`,
        `NotFound` (unknown session). Nothing is written when it raises.
        """
        fmt = check_format(format)
        message_id = new_id()
        blob_prefix = f"{session_id}/{message_id}"
        if check_depth(message, "message") > _INLINE_PREPARE_CHARS:  # megabytes of base64: keep the event loop free
            native, body, blobs, tokens = await anyio.to_thread.run_sync(self._prepare, message, fmt, blob_prefix)
        else:  # the usual small message: a thread hop would cost more than the work
            native, body, blobs, tokens = self._prepare(message, fmt, blob_prefix)
        if blobs:  # the transaction checks the session too; this spares writing bytes for nothing
            await check_session(self._db, session_id)
        now = utc_now()
        # Bytes first, then the record that points at them; a failed record takes its bytes along.
        try:
            for blob in blobs:
                await self._blobs.put(blob.key, blob.data)
            async with self._db.transaction() as tx:
                seq = await self._next_seq(tx, session_id)
                await self._check_tool_results(tx, session_id, native, fmt)
                await tx.execute(
                    "INSERT INTO messages (id, session_id, seq, role, source_format, body, created_at, token_count) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (message_id, session_id, seq, native.role, fmt, json.dumps(body, ensure_ascii=False), now, tokens),
                )
                await self._check_tool_calls(tx, session_id, native, fmt)
                await tx.execute_many(
                    "INSERT INTO message_tool_calls (session_id, call_id, message_id) VALUES (?, ?, ?)",
                    [(session_id, call_id, message_id) for call_id in native.tool_call_ids()],
                )
                await touch_session(tx, session_id, now)
                await queue_for_observer(tx, session_id, message_id, now)
        except BaseException:
            if blobs:
                with anyio.CancelScope(shield=True):
                    await self._blobs.delete_tree(blob_prefix)
            raise
        if self._on_stored is not None:
            self._on_stored(session_id)
        return StoredMessage(id=message_id, session_id=session_id, seq=seq, role=native.role, created_at=now)

    async def get_messages(
        self,
        session_id: str,
        format: str = "openai",
        limit: int | None = None,
        cursor: str | None = None,
        edit_strategies: Sequence[EditStrategy] | None = None,
    ) -> MessagePage:
        """Read a session's messages oldest first, converted to `format`, a page at a time.

        `edit_strategies` (see formats/editing.py) edit the whole session on the way out, never
        what is stored, so they cannot be combined with `limit` or `cursor`.
        Raises `NotFound` (unknown session), `InvalidArgument` (format, limit, cursor, or a token
        limit the session's system message or newest turn cannot fit).
        """
        fmt = check_format(format)
        cursors.check_limit(limit, MAX_PAGE)
        if edit_strategies and (limit is not None or cursor):
            raise InvalidArgument(
                "edit_strategies apply to the whole session, so they cannot be combined with limit or cursor; "
                "omit limit and cursor (a token_limit strategy bounds the size instead)"
            )
        after = cursors.decode("message", cursor) if cursor else 0
        await check_session(self._db, session_id)
        sql = "SELECT id, seq, body, token_count FROM messages WHERE session_id = ? AND seq > ? ORDER BY seq"
        params: tuple[object, ...] = (session_id, after)
        if limit is not None:
            sql, params = f"{sql} LIMIT ?", (*params, limit + 1)
        rows = await self._db.fetch_all(sql, params)
        has_more = limit is not None and len(rows) > limit
        rows = rows[:limit] if limit is not None else rows
        entries = [
            Entry(await self._load(json.loads(row["body"])), row["token_count"], index)
            for index, row in enumerate(rows)
        ]
        tokens_before = total_tokens(entries)
        if edit_strategies:
            entries = apply_strategies(entries, edit_strategies, self._counter)
        written = from_native([entry.message for entry in entries], fmt)
        return MessagePage(
            items=written.items,
            message_ids=[rows[entries[index].origin]["id"] for index in written.origins],
            sources=[[rows[entries[index].origin]["id"] for index in group] for group in written.sources],
            system=written.system,
            next_cursor=cursors.encode("message", rows[-1]["seq"]) if has_more else None,
            has_more=has_more,
            tokens_before=tokens_before,
            tokens_after=total_tokens(entries),
        )

    async def get_token_counts(self, session_id: str) -> TokenCounts:
        """Every message's token count, as counted when stored. Raises `NotFound` (unknown session)."""
        await check_session(self._db, session_id)
        rows = await self._db.fetch_all(
            "SELECT id, seq, role, token_count FROM messages WHERE session_id = ? ORDER BY seq", (session_id,)
        )
        items = [
            MessageTokens(id=row["id"], seq=row["seq"], role=row["role"], tokens=row["token_count"]) for row in rows
        ]
        return TokenCounts(
            session_id=session_id, items=items, total=sum(item.tokens for item in items), tokenizer=self._counter.name
        )

    async def read_native(self, session_id: str) -> list[dict[str, Any]]:
        """Every message of a session in the native format, each with its id and time."""
        await check_session(self._db, session_id)
        rows = await self._db.fetch_all(
            "SELECT id, seq, body, created_at FROM messages WHERE session_id = ? ORDER BY seq", (session_id,)
        )
        return [
            {"id": row["id"], "seq": row["seq"], "created_at": row["created_at"],
             **(await self._load(json.loads(row["body"]))).model_dump(mode="json", exclude_none=True)}
            for row in rows
        ]

    async def list_native(self, session_id: str, after_seq: int = 0, limit: int = 100) -> NativePage:
        """Messages with `seq` over `after_seq`, oldest first, as stored: binary parts kept as blob
        references (read them with `get_attachment`). Raises `NotFound`, `InvalidArgument` (limit).
        """
        cursors.check_limit(limit, MAX_PAGE)
        await check_session(self._db, session_id)
        rows = await self._db.fetch_all(
            "SELECT id, seq, source_format, body, created_at, token_count FROM messages "
            "WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (session_id, after_seq, limit + 1),
        )
        items = [
            NativeMessage(id=row["id"], seq=row["seq"], source_format=row["source_format"],
                          created_at=row["created_at"], tokens=row["token_count"], **json.loads(row["body"]))
            for row in rows[:limit]
        ]
        return NativePage(items=items, has_more=len(rows) > limit)

    async def get_attachment(self, session_id: str, message_id: str, part: int, item: int | None = None) -> Attachment:
        """The bytes of binary part `part` of a message (or of item `item` of that tool-result part).

        Raises `NotFound` when the message, the part, or inline bytes for it do not exist.
        """
        row = await self._db.fetch_one(
            "SELECT m.body FROM messages m JOIN sessions s ON s.id = m.session_id "
            "WHERE m.id = ? AND m.session_id = ? AND s.project_id = ?", (message_id, session_id, current_project())
        )
        if row is None:
            raise NotFound("message", message_id, f"it is not a message of session {session_id!r}")
        where = f"{message_id}/{part}" + ("" if item is None else f"/{item}")
        try:
            if part < 0 or (item is not None and item < 0):
                raise IndexError(part)
            found = json.loads(row["body"])["parts"][part]
            found = found if item is None else found["content"][item]
        except (IndexError, KeyError):
            raise NotFound("part", where, "the message has no such part") from None
        if found["type"] not in _BINARY_PARTS or not ({"blob", "data"} & found.keys()):
            raise NotFound("attachment", where, "the part holds no stored bytes (it may be a url or file_id)")
        if "blob" in found:
            data = await self._blobs.get(found["blob"]["key"])
        else:
            try:
                data = base64.b64decode(found["data"])
            except (binascii.Error, ValueError):
                raise NotFound("attachment", where, "its inline data is not base64") from None
        media_type = found.get("media_type") or (f"audio/{found['format']}" if "format" in found else None)
        return Attachment(data=data, media_type=media_type, filename=found.get("filename"))

    @staticmethod
    async def _next_seq(tx: Writer, session_id: str) -> int:
        """The session's next `seq`; the session stays locked (against other replicas) until the commit."""
        await tx.lock(f"session:{session_id}")
        row = await tx.fetch_one(
            "SELECT (SELECT COUNT(*) FROM sessions WHERE id = ? AND project_id = ?) AS present, "
            "COALESCE((SELECT MAX(seq) FROM messages WHERE session_id = ?), 0) AS last",
            (session_id, current_project(), session_id),
        )
        if row is None or not row["present"]:
            raise unknown_session(session_id)
        return int(row["last"]) + 1

    @staticmethod
    async def _check_tool_results(tx: Writer, session_id: str, native: Message, fmt: Format) -> None:
        for index, call_id in _result_ids(native):
            known = await tx.fetch_one(
                "SELECT 1 FROM message_tool_calls WHERE session_id = ? AND call_id = ?", (session_id, call_id)
            )
            if known is None:
                raise InvalidMessage(
                    _result_field(fmt, index),
                    f"tool result for call id {call_id!r}, which no earlier message in this session made; "
                    "store the assistant message with that tool call first",
                )

    @staticmethod
    async def _check_tool_calls(tx: Writer, session_id: str, native: Message, fmt: Format) -> None:
        """Each tool call id is unique within its session, so every result answers exactly one call."""
        seen: set[str] = set()
        calls = [(i, p.id) for i, p in enumerate(native.parts) if p.type == "tool-call"]
        for ordinal, (index, call_id) in enumerate(calls):
            fields = {"openai": f"tool_calls.{ordinal}.id", "anthropic": f"content.{index}.id"}
            field = fields.get(fmt, f"parts.{index}.id")
            used = call_id in seen or await tx.fetch_one(
                "SELECT 1 FROM message_tool_calls WHERE session_id = ? AND call_id = ?", (session_id, call_id)
            )
            if used:
                raise InvalidMessage(
                    field, f"tool call id {call_id!r} is already used in this session; give each tool call its own id"
                )
            seen.add(call_id)

    def _prepare(self, message: Any, fmt: Format, blob_prefix: str) -> tuple[Message, dict[str, Any], list[_Blob], int]:
        """Check and convert a message, off the event loop (it may be megabytes): the native form,
        the body to store, the blobs to write first, and its tokens."""
        size = len(json.dumps(message, ensure_ascii=False, default=str).encode())
        if size > self._max_message_bytes:
            raise PayloadTooLarge("message", size, self._max_message_bytes, "ACONTEXT_MAX_MESSAGE_BYTES")
        native = to_native(message, fmt)
        check_content(native, "parts" if fmt == "acontext" else "content")
        for part in native.parts:
            if part.type == "tool-call":
                check_depth(_parsed_arguments(part.arguments), f"the arguments of tool call {part.id!r}")
        body, blobs = self._offload(native, blob_prefix)
        return native, body, blobs, message_tokens(native, self._counter)

    def _offload(self, native: Message, prefix: str) -> tuple[dict[str, Any], list[_Blob]]:
        """The message as stored: binary parts over the threshold become blob references."""
        body = native.model_dump(mode="json", exclude_none=True)
        blobs: list[_Blob] = []
        for part in _binary_parts(body):
            raw = _canonical_base64(part["data"])
            if raw is None:
                _check_base64(part)
            elif len(raw) > self._blob_threshold_bytes:
                key = f"{prefix}/{len(blobs)}"
                blobs.append(_Blob(key, raw))
                part["blob"] = {"key": key, "size": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
                del part["data"]
        return body, blobs

    async def _load(self, body: dict[str, Any]) -> Message:
        for part in _binary_parts(body, stored=True):
            blob = part.pop("blob")
            part["data"] = base64.b64encode(await self._blobs.get(blob["key"])).decode()
        return Message.model_validate(body)


def _binary_parts(body: dict[str, Any], stored: bool = False) -> list[dict[str, Any]]:
    """The binary parts of a stored body, tool-result content included."""
    key = "blob" if stored else "data"
    parts = [*body["parts"], *(item for part in body["parts"] for item in part.get("content", []))]
    return [part for part in parts if part["type"] in _BINARY_PARTS and key in part]


def _check_base64(part: dict[str, Any]) -> None:
    """Refuse binary data that is not base64 (whitespace-wrapped base64 is kept as sent)."""
    try:
        base64.b64decode("".join(part["data"].split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidMessage(
            f"{part['type']} data", "is not valid base64; send the bytes base64-encoded, or a URL instead"
        ) from None


def _parsed_arguments(arguments: str) -> Any:
    """Tool-call arguments as JSON when they parse (other formats read them so), else as the text."""
    try:
        return json.loads(arguments)
    except (ValueError, RecursionError):
        return arguments


def _canonical_base64(data: str) -> bytes | None:
    """The bytes `data` encodes, if encoding them again gives `data` back exactly."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if base64.b64encode(raw).decode() == data else None


def _result_ids(native: Message) -> list[tuple[int, str]]:
    return [(i, p.tool_call_id) for i, p in enumerate(native.parts) if p.type == "tool-result"]


def _result_field(fmt: Format, index: int) -> str:
    if fmt == "openai":
        return "tool_call_id"
    if fmt == "anthropic":
        return f"content.{index}.tool_use_id"
    return f"parts.{index}.tool_call_id"


async def count_missing_tokens(db: Database, counter: TokenCounter) -> int:
    """Count the messages stored before token counts existed (schema version 4); return how many."""
    counted = 0
    missing = "SELECT id, body FROM messages WHERE token_count IS NULL LIMIT ?"
    while rows := await db.fetch_all(missing, (_BACKFILL_BATCH,)):
        counts = await anyio.to_thread.run_sync(_count_stored, [row["body"] for row in rows], counter)
        async with db.transaction() as tx:
            ids = [row["id"] for row in rows]
            await tx.execute_many("UPDATE messages SET token_count = ? WHERE id = ?", zip(counts, ids, strict=True))
        counted += len(rows)
    return counted


def _count_stored(bodies: list[str], counter: TokenCounter) -> list[int]:
    """Token counts of stored bodies; blob parts count at their fixed price, so no bytes are read."""
    counts = []
    for text in bodies:
        body = json.loads(text)
        for part in _binary_parts(body, stored=True):
            part["data"] = ""
            del part["blob"]
        counts.append(message_tokens(Message.model_validate(body), counter))
    return counts
