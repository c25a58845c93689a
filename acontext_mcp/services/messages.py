"""Messages: store them in any supported format, read them back in any other."""

from __future__ import annotations

import base64
import binascii
import gc
import hashlib
import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

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
from acontext_mcp.formats.native import Message, load_stored, parse_stored_text
from acontext_mcp.formats.sequence import check_content
from acontext_mcp.projects import current_project
from acontext_mcp.services import cursors
from acontext_mcp.services.events import events_between
from acontext_mcp.services.limits import MAX_MESSAGES_PAGE, check_depth, check_text_depth, encode_json_object
from acontext_mcp.services.models import (
    Attachment,
    MessageMeta,
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
from acontext_mcp.store.database import Database, Reader, Writer, new_id, utc_now
from acontext_mcp.tokens import TokenCounter, message_tokens

DEFAULT_MAX_PARTS = 1000
_INLINE_PREPARE_CHARS = 64 * 1024
_BACKFILL_BATCH = 500
_AUDIO_FORMAT = re.compile(r"[A-Za-z0-9.+-]{1,16}")
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
        max_meta_bytes: int = 64 * 1024,
        max_message_parts: int = DEFAULT_MAX_PARTS,
        scrub: Callable[[str], str] | None = None,
    ) -> None:
        """`on_stored(session_id)` runs after each message is committed (the observer wakes on it);
        `max_message_parts` bounds a message's parts, tool-result items included (reading one back costs per part)."""
        self._max_parts = max_message_parts
        self._scrub = scrub  # ACONTEXT_REDACT_STORED: secrets in text are replaced before storing
        self._db = db
        self._blobs = blobs
        self._max_message_bytes = max_message_bytes
        self._blob_threshold_bytes = blob_threshold_bytes
        self._counter = counter
        self._on_stored = on_stored
        self._max_meta_bytes = max_meta_bytes

    async def send_message(
        self, session_id: str, message: Any, format: str = "openai", meta: dict[str, Any] | None = None
    ) -> StoredMessage:
        """Store one message, written in `format`, at the end of a session, with the caller's `meta`.

        Raises `InvalidArgument` (unknown format), `InvalidMessage` (the field that is wrong,
        including a tool result whose call id no earlier message made), `PayloadTooLarge`,
        `NotFound` (unknown session). Nothing is written when it raises.
        """
        fmt = check_format(format)
        encoded_meta = encode_json_object(meta, "meta", self._max_meta_bytes)
        message_id = new_id()
        blob_prefix = f"{session_id}/{message_id}"
        self._check_top_parts(message)  # before any walk over the message: a part list is refused in O(1)
        # Megabytes of base64 are prepared off the event loop; the usual small message inline, as a thread hop
        # would cost more than the work.
        heavy = check_depth(message, "message") > _INLINE_PREPARE_CHARS
        native, body, blobs, tokens = await _off_loop(heavy, lambda: self._prepare(message, fmt, blob_prefix))
        if blobs:  # the transaction checks the session too; this spares writing bytes for nothing
            await check_session(self._db, session_id)
        now = utc_now()
        # Bytes first, then the record that points at them; a failed record takes its bytes along.
        try:
            for blob in blobs:
                try:
                    await self._blobs.put(blob.key, blob.data)
                except OSError:  # e.g. the session's folder removed under us by delete_session: say so
                    await check_session(self._db, session_id)
                    raise
            async with self._db.transaction() as tx:
                seq = await self._next_seq(tx, session_id)
                await self._check_tool_results(tx, session_id, native, fmt)
                await tx.execute(
                    "INSERT INTO messages (id, session_id, seq, role, source_format, body, created_at, token_count, "
                    "meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (message_id, session_id, seq, native.role, fmt, json.dumps(body, ensure_ascii=False), now, tokens,
                     encoded_meta),
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
        # Every field is ours or was checked above: no second validation (the SDK validates the result it sends).
        return StoredMessage.model_construct(id=message_id, session_id=session_id, seq=seq, role=native.role,
                                             created_at=now, meta=meta or {})

    async def get_messages(
        self,
        session_id: str,
        format: str = "openai",
        limit: int | None = None,
        cursor: str | None = None,
        edit_strategies: Sequence[EditStrategy] | None = None,
        pin_at_message: str | None = None,
        with_events: bool = False,
    ) -> MessagePage:
        """Read a session's messages oldest first, converted to `format`, a page at a time.

        `edit_strategies` (see formats/editing.py) edit the whole session on the way out, never
        what is stored, so they cannot be combined with `limit` or `cursor`. With `pin_at_message` they
        edit only the messages up to and including that one, so the prefix a prompt cache holds stays
        the same while later messages arrive; `edit_at_message_id` in the page says where edits stopped.
        With `with_events`, the page also holds the session's events from this page's first message (the
        session's start on the first page) up to the next page's first message (the end on the last page),
        so reading every page sees each event once.
        Raises `NotFound` (unknown session), `InvalidArgument` (format, limit, cursor, or a token
        limit the session's system message or newest turn cannot fit).
        """
        fmt = check_format(format)
        cursors.check_limit(limit, MAX_MESSAGES_PAGE)
        if edit_strategies and (limit is not None or cursor):
            raise InvalidArgument(
                "edit_strategies apply to the whole session, so they cannot be combined with limit or cursor; "
                "omit limit and cursor (a token_limit strategy bounds the size instead)"
            )
        after = cursors.decode("message", cursor) if cursor else 0
        await check_session(self._db, session_id)
        sql = ("SELECT id, seq, body, token_count, created_at, meta FROM messages WHERE session_id = ? AND seq > ? "
               "ORDER BY seq")
        params: tuple[object, ...] = (session_id, after)
        if limit is not None:
            sql, params = f"{sql} LIMIT ?", (*params, limit + 1)
        rows = await self._db.fetch_all(sql, params)
        has_more = limit is not None and len(rows) > limit
        following = rows[limit] if has_more and limit is not None else None
        rows = rows[:limit] if limit is not None else rows
        messages = await self._decode([row["body"] for row in rows])
        entries = [Entry(message, row["token_count"], index) for index, (message, row) in
                   enumerate(zip(messages, rows, strict=True))]
        tokens_before = total_tokens(entries)
        edit_at, split = (rows[-1]["id"] if rows else None), len(entries)
        if pin_at_message is not None:
            pinned = next((i for i, row in enumerate(rows) if row["id"] == pin_at_message), None)
            if pinned is None:
                raise InvalidArgument(f"pin_at_message {pin_at_message!r} is not a message of this session")
            edit_at, split = pin_at_message, pinned + 1
        events = None
        if with_events:
            start = rows[0]["created_at"] if after and rows else None
            events = await events_between(self._db, session_id, start, following["created_at"] if following else None)

        def page() -> MessagePage:
            edited = entries
            if edit_strategies:
                edited = apply_strategies(entries[:split], edit_strategies, self._counter) + entries[split:]
            written = from_native([entry.message for entry in edited], fmt)
            origins = [rows[edited[index].origin] for index in written.origins]
            return MessagePage.model_construct(  # built from validated messages: no second pass over every part
                items=written.items,
                message_ids=[row["id"] for row in origins],
                sources=[[rows[edited[index].origin]["id"] for index in group] for group in written.sources],
                metas=[json.loads(row["meta"]) for row in origins],
                created_at=[row["created_at"] for row in origins],
                events=events,
                system=written.system,
                next_cursor=cursors.encode("message", rows[-1]["seq"]) if has_more else None,
                has_more=has_more,
                tokens_before=tokens_before,
                tokens_after=total_tokens(edited),
                edit_at_message_id=edit_at,
            )

        return await _off_loop(_heavy(rows), page)

    async def patch_message_meta(self, session_id: str, message_id: str, meta: dict[str, Any]) -> MessageMeta:
        """Merge `meta` into a message's meta: each key is set, or removed when its value is None.

        Raises `NotFound` (session or message), `InvalidArgument` (not a JSON object), `PayloadTooLarge`.
        """
        if not isinstance(meta, dict):
            raise InvalidArgument("meta must be a JSON object; a key set to null is removed")
        encode_json_object(meta, "meta", self._max_meta_bytes)
        async with self._db.transaction() as tx:
            await tx.lock(f"session:{session_id}")
            await check_session(tx, session_id)
            row = await tx.fetch_one("SELECT meta FROM messages WHERE id = ? AND session_id = ?",
                                     (message_id, session_id))
            if row is None:
                raise NotFound("message", message_id, f"it is not a message of session {session_id!r}; "
                               "get_messages lists the ids in message_ids")
            merged = {k: v for k, v in {**json.loads(row["meta"]), **meta}.items() if v is not None}
            encoded = encode_json_object(merged, "meta", self._max_meta_bytes)
            await tx.execute("UPDATE messages SET meta = ? WHERE id = ?", (encoded, message_id))
        return MessageMeta(id=message_id, meta=merged)

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
        messages = await self._decode([row["body"] for row in rows])
        return await _off_loop(_heavy(rows), lambda: [
            {"id": row["id"], "seq": row["seq"], "created_at": row["created_at"],
             **message.model_dump(mode="json", exclude_none=True)}
            for row, message in zip(rows, messages, strict=True)
        ])

    async def list_native(self, session_id: str, after_seq: int = 0, limit: int = 100) -> NativePage:
        """Messages with `seq` over `after_seq`, oldest first, as stored: binary parts kept as blob
        references (read them with `get_attachment`). Raises `NotFound`, `InvalidArgument` (limit).
        """
        cursors.check_limit(limit, MAX_MESSAGES_PAGE)
        await check_session(self._db, session_id)
        rows = await self._db.fetch_all(
            "SELECT id, seq, source_format, body, created_at, token_count FROM messages "
            "WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (session_id, after_seq, limit + 1),
        )
        items = await _off_loop(_heavy(rows), lambda: [
            NativeMessage.model_construct(  # stored bodies were validated when written
                id=row["id"], seq=row["seq"], source_format=row["source_format"], created_at=row["created_at"],
                tokens=row["token_count"], **{"meta": {}, **json.loads(row["body"])})
            for row in rows[:limit]
        ])
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
        audio = str(found.get("format", ""))
        media_type = found.get("media_type") or (f"audio/{audio}" if _AUDIO_FORMAT.fullmatch(audio) else None)
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
            fields = {"openai": f"tool_calls.{ordinal}.id", "anthropic": f"content.{index}.id",
                      "gemini": f"parts.{index}.functionCall.id"}
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
        parts = len(native.parts) + sum(len(part.content) for part in native.parts if part.type == "tool-result")
        if parts > self._max_parts:
            raise InvalidArgument(self._too_many_parts(parts))
        check_content(native, "parts" if fmt == "acontext" else "content")
        for part in native.parts:
            if part.type == "tool-call":
                check_text_depth(part.arguments, f"the arguments of tool call {part.id!r}")
        if self._scrub is not None:
            native = _scrubbed(native, self._scrub)
        body, blobs = self._offload(native, blob_prefix)
        return native, body, blobs, message_tokens(native, self._counter)

    def _check_top_parts(self, message: Any) -> None:
        if isinstance(message, dict):
            for key in ("content", "parts"):
                if isinstance(message.get(key), list) and len(message[key]) > self._max_parts:
                    raise InvalidArgument(self._too_many_parts(len(message[key]), key))

    def _too_many_parts(self, count: int, field: str = "message") -> str:
        return (f"{field}: {count} parts, over the limit of {self._max_parts} per message "
                "(raise ACONTEXT_MAX_MESSAGE_PARTS to allow more); join text parts or split the message")

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

    async def _decode(self, texts: list[str]) -> list[Message]:
        """Stored bodies as messages, blobs read back in; large ones are parsed off the event loop."""
        heavy = sum(map(len, texts)) > _INLINE_PREPARE_CHARS
        bodies: list[dict[str, Any]] = await _off_loop(heavy, lambda: [parse_stored_text(text) for text in texts])
        stored = await _off_loop(heavy, lambda: [part for body in bodies for part in _binary_parts(body, stored=True)])
        for part in stored:
            blob = part.pop("blob")
            part["data"] = base64.b64encode(await self._blobs.get(blob["key"])).decode()
        return await _off_loop(heavy, lambda: [load_stored(body) for body in bodies])


T = TypeVar("T")


def _heavy(rows: Sequence[Any]) -> bool:
    return sum(len(row["body"]) for row in rows) > _INLINE_PREPARE_CHARS


async def _off_loop(heavy: bool, work: Callable[[], T]) -> T:
    """Run `work` in a worker thread when it is heavy (every tenant shares the event loop), else inline.

    The garbage collector is paused meanwhile: a full collection holds the GIL, and over the million objects of
    a huge message (250,000 parts) each one stalled the event loop for 0.13-0.33 s, seven times in one read."""
    if not heavy:
        return work()

    def paused() -> T:
        with _GC_PAUSE:
            return work()

    return await anyio.to_thread.run_sync(paused)


class _GcPause:
    """Automatic garbage collection off while any holder is inside (threads may overlap); back on when the last
    leaves, unless it was off before the first came in. The collector is the process's, hence one guard for it.
    Cyclic garbage made meanwhile waits for the next full collection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._resume = False

    def __enter__(self) -> None:
        with self._lock:
            if self._inside == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._inside += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._inside -= 1
            if self._inside == 0 and self._resume:
                if gc.get_freeze_count() == 0:  # nobody else froze objects (as a pre-forking server may)
                    # The objects made meanwhile go to the oldest generation unscanned: else the first young
                    # collection after `enable` would scan them all at once, a stall as long as a full one.
                    gc.freeze()
                    gc.unfreeze()
                gc.enable()


_GC_PAUSE = _GcPause()


def _scrubbed(native: Message, clean: Callable[[str], str]) -> Message:
    """`native` with its text, tool-call arguments and tool-result text passed through `clean`."""
    def part(item: Any) -> Any:
        if item.type == "text":
            return item.model_copy(update={"text": clean(item.text)})
        if item.type == "tool-call":
            return item.model_copy(update={"arguments": clean(item.arguments)})
        if item.type == "tool-result":
            return item.model_copy(update={"content": [part(inner) for inner in item.content]})
        return item

    return native.model_copy(update={"parts": [part(item) for item in native.parts]})


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
    if fmt == "gemini":
        return f"parts.{index}.functionResponse.id"
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


async def copy_messages(tx: Writer, blobs: BlobStore, source: str, target: str) -> dict[str, str]:
    """Copy every message of session `source` into session `target`, with its tool-call index and blobs
    (under the target's prefix, so deleting either session leaves the other whole). Returns old id -> new id.
    The caller deletes the target's blob tree if the transaction fails."""
    rows = await tx.fetch_all(
        "SELECT id, seq, role, source_format, body, created_at, token_count, meta FROM messages "
        "WHERE session_id = ? ORDER BY seq", (source,)
    )
    ids = {row["id"]: new_id() for row in rows}
    for row in rows:
        body = json.loads(row["body"])
        for part in _binary_parts(body, stored=True):
            key = part["blob"]["key"].replace(f"{source}/{row['id']}/", f"{target}/{ids[row['id']]}/", 1)
            await blobs.put(key, await blobs.get(part["blob"]["key"]))
            part["blob"] = {**part["blob"], "key": key}
        await tx.execute(
            "INSERT INTO messages (id, session_id, seq, role, source_format, body, created_at, token_count, meta) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (ids[row["id"]], target, row["seq"], row["role"], row["source_format"],
             json.dumps(body, ensure_ascii=False), row["created_at"], row["token_count"], row["meta"]),
        )
    calls = await tx.fetch_all("SELECT call_id, message_id FROM message_tool_calls WHERE session_id = ?", (source,))
    await tx.execute_many(
        "INSERT INTO message_tool_calls (session_id, call_id, message_id) VALUES (?, ?, ?)",
        [(target, call["call_id"], ids[call["message_id"]]) for call in calls],
    )
    return ids


async def count_messages(reader: Reader, session_id: str) -> int:
    row = await reader.fetch_one("SELECT COUNT(*) AS n FROM messages WHERE session_id = ?", (session_id,))
    return int(row["n"]) if row else 0
