"""Capture: conversations a host already writes down (Claude Code transcripts) stored as sessions,
and what was learned handed back to the host when a session starts.

One session per host conversation (`capture_sources`: host, its conversation id -> session id and
how many bytes of the transcript are stored). Each capture reads from that offset, stores the new
messages and moves the offset in one transaction, so running it twice, or two at once, stores
nothing twice; a capture that fails leaves the offset where it was, to be picked up next time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from acontext_mcp.errors import AcontextError, InvalidArgument
from acontext_mcp.formats.claude_code import (
    ParsedTranscript,
    drop_unanswerable_results,
    parse_transcript,
    result_call_ids,
)
from acontext_mcp.projects import current_project
from acontext_mcp.services.messages import MessageService
from acontext_mcp.services.sessions import SessionService
from acontext_mcp.services.spaces.service import SpaceService
from acontext_mcp.store.database import Database, Writer, utc_now

log = logging.getLogger(__name__)

CLAUDE_CODE = "claude-code"
OPENAI_JSONL = "openai-jsonl"
CHUNK_BYTES = 8 * 1024 * 1024  # read a transcript this much at a time; a longer line gets a larger read
MAX_LINE_BYTES = 64 * 1024 * 1024  # a line longer than this is passed over (counted as skipped)
CONTEXT_SKILLS = 5
CONTEXT_PREFERENCES = 8
CONTEXT_CHARS = 3000


@dataclass
class Captured:
    """What one capture of one transcript did."""

    session_id: str | None = None
    created: bool = False
    messages: int = 0
    lines: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    offset: int = 0


class CaptureService:
    def __init__(self, db: Database, sessions: SessionService, messages: MessageService, spaces: SpaceService,
                 hostname: str) -> None:
        self._db = db
        self._sessions = sessions
        self._messages = messages
        self._spaces = spaces
        self._hostname = hostname

    async def capture_claude_code(
        self, transcript_path: str | Path, conversation_id: str | None = None, space: str | None = None,
        final: bool = False, source: str = "hook", strict: bool = False,
    ) -> Captured:
        """Store what a Claude Code transcript gained since its last capture (`final`: the session is
        over, store a last turn even if a tool call in it has no result). `conversation_id` defaults
        to the transcript's own session id (its file name). `space` (a name or id; created when no
        space has that name) is attached to the session when the session is created.

        Raises `InvalidArgument` for a transcript that cannot be read, or (`strict`) is not a Claude
        Code transcript; nothing is stored then.
        """
        path = Path(transcript_path)
        key = conversation_id or path.stem
        result = Captured()
        result.session_id, result.created = await self._source(path, key, space, source, strict)
        while await self._capture_chunk(path, key, result.session_id, final, result):
            pass
        return result

    async def _source(self, path: Path, key: str, space: str | None, source: str, strict: bool) -> tuple[str, bool]:
        """The session of this conversation, created (and committed, before any message) on its first capture."""
        select = ("SELECT session_id FROM capture_sources WHERE project_id = ? AND host = ? AND external_id = ?",
                  (current_project(), CLAUDE_CODE, key))
        if row := await self._db.fetch_one(*select):
            return str(row["session_id"]), False
        head, _ = await anyio.to_thread.run_sync(_read, path, 0, False, strict)
        space_id = await self._space_id(space) if space else None
        async with self._db.transaction() as tx:
            await tx.lock(f"capture:{CLAUDE_CODE}:{key}")
            if row := await tx.fetch_one(*select):
                return str(row["session_id"]), False
            metadata = {
                "source": source, "host": CLAUDE_CODE, "hostname": self._hostname, "external_session_id": key,
                "cwd": head.cwd, "git_branch": head.git_branch, "transcript_path": str(path),
                "host_version": head.version,
            }
            session = await self._sessions.create_session(
                space_id, {name: value for name, value in metadata.items() if value is not None})
            now = utc_now()
            await tx.execute(
                "INSERT INTO capture_sources (project_id, host, external_id, session_id, transcript_path, "
                "offset_bytes, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)",
                (current_project(), CLAUDE_CODE, key, session.id, str(path), source, now, now))
        return session.id, True

    async def _capture_chunk(self, path: Path, key: str, session_id: str, final: bool, result: Captured) -> bool:
        """Store the messages of the next chunk; False when there was nothing more to read."""
        async with self._db.transaction() as tx:
            await tx.lock(f"capture:{CLAUDE_CODE}:{key}")
            row = await tx.fetch_one(
                "SELECT offset_bytes FROM capture_sources WHERE project_id = ? AND host = ? AND external_id = ?",
                (current_project(), CLAUDE_CODE, key))
            offset = int(row["offset_bytes"]) if row else 0
            parsed, read_to = await anyio.to_thread.run_sync(_read, path, offset, final, False)
            result.offset = read_to
            if read_to == offset:
                return False
            result.lines += parsed.lines
            for kind, count in parsed.skipped.items():
                result.skipped[kind] = result.skipped.get(kind, 0) + count
            known = await _known_calls(tx, session_id, result_call_ids(parsed.messages))
            for message in drop_unanswerable_results(parsed.messages, known):
                await self._messages.send_message(session_id, message, "anthropic")
                result.messages += 1
            await tx.execute(
                "UPDATE capture_sources SET offset_bytes = ?, updated_at = ? WHERE project_id = ? AND host = ? "
                "AND external_id = ?", (read_to, utc_now(), current_project(), CLAUDE_CODE, key))
            return True

    async def import_openai_jsonl(self, path: str | Path, space: str | None = None) -> Captured:
        """Store each line of a JSON Lines file as one session: a Chat Completions conversation, written as
        `{"messages": [...]}` (the fine-tuning shape) or as the bare list. A line already imported (the
        same text) is passed over, so a re-run stores nothing twice. A line that is not a conversation
        is counted in `skipped` by its reason, with nothing of it stored.

        Raises `InvalidArgument` when the file cannot be read.
        """
        path = Path(path)
        result = Captured()
        space_id = await self._space_id(space) if space else None
        try:
            file = path.open("rb")
        except OSError as exc:
            raise InvalidArgument(f"path: cannot read {str(path)!r}: {exc.strerror or exc}") from None
        with file:
            for number, line in enumerate(file, start=1):
                if not line.strip():
                    continue
                result.lines += 1
                try:
                    stored = await self._import_conversation(path, number, line, space_id)
                except (ValueError, AcontextError) as exc:
                    reason = f"line {number}: {exc}"
                    log.info("%s: %s", path, reason)
                    result.skipped[reason] = 1
                    continue
                if stored is not None:
                    result.created = True
                    result.session_id = stored
                    result.messages += len(_conversation(json.loads(line)))
        return result

    async def _import_conversation(self, path: Path, number: int, line: bytes, space_id: str | None) -> str | None:
        """One line's conversation as a new session (None when that line was imported before)."""
        key = hashlib.sha256(line.strip()).hexdigest()
        messages = _conversation(json.loads(line))
        async with self._db.transaction() as tx:
            await tx.lock(f"capture:{OPENAI_JSONL}:{key}")
            if await tx.fetch_one("SELECT 1 FROM capture_sources WHERE project_id = ? AND host = ? AND external_id = ?",
                                  (current_project(), OPENAI_JSONL, key)):
                return None
            metadata = {"source": "import", "host": OPENAI_JSONL, "file": str(path), "line": number}
            session = await self._sessions.create_session(space_id, metadata)
            for message in messages:
                await self._messages.send_message(session.id, message, "openai")
            now = utc_now()
            await tx.execute(
                "INSERT INTO capture_sources (project_id, host, external_id, session_id, transcript_path, "
                "offset_bytes, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'import', ?, ?)",
                (current_project(), OPENAI_JSONL, key, session.id, str(path), len(line), now, now))
        return session.id

    async def _space_id(self, space: str) -> str:
        """The space with this id or name (the oldest of that name); a new one when none has it."""
        for item in (await self._spaces.list_spaces()).items:
            if space in (item.id, item.name):
                return item.id
        return (await self._spaces.create_space(space)).id

    async def session_context(self, cwd: str | None, space: str | None = None) -> str:
        """What a new session in `cwd` should know: the space's skills (SOPs) and the preferences the
        user stated in earlier sessions there. Empty when there is nothing to say.
        """
        skills = await self._skills(space) if space else []
        preferences = await self._preferences(cwd) if cwd else []
        if not skills and not preferences:
            return ""
        lines = [f"acontext: what was learned in earlier sessions{f' (space {space!r})' if space else ''}."]
        if skills:
            lines.append("Skills (use when they fit the task):")
            lines += skills
        if preferences:
            lines.append("The user's preferences stated before in this project:")
            lines += [f"- {text}" for text in preferences]
        text = "\n".join(lines)
        return text if len(text) <= CONTEXT_CHARS else text[: CONTEXT_CHARS - 1] + "…"

    async def _skills(self, space: str) -> list[str]:
        rows = await self._db.fetch_all(
            "SELECT b.data FROM blocks b JOIN spaces s ON s.id = b.space_id WHERE b.type = 'sop' "
            "AND s.project_id = ? AND (s.id = ? OR s.name = ?) ORDER BY b.updated_at DESC LIMIT ?",
            (current_project(), space, space, CONTEXT_SKILLS))
        return [_skill_line(json.loads(row["data"])) for row in rows]

    async def _preferences(self, cwd: str) -> list[str]:
        rows = await self._db.fetch_all(
            "SELECT t.data, s.metadata FROM tasks t JOIN sessions s ON s.id = t.session_id WHERE s.project_id = ? "
            "AND s.metadata LIKE ? ORDER BY t.updated_at DESC LIMIT 200",
            (current_project(), f"%{json.dumps(cwd)[1:-1]}%"))
        found: list[str] = []
        for row in rows:
            if json.loads(row["metadata"]).get("cwd") != cwd:
                continue
            for text in json.loads(row["data"]).get("user_preferences", []):
                if isinstance(text, str) and text and text not in found:
                    found.append(text)
        return found[:CONTEXT_PREFERENCES]


def _conversation(value: Any) -> list[Any]:
    """The messages of one line: `{"messages": [...]}` or a bare list. Raises ValueError naming what is wrong."""
    messages = value.get("messages") if isinstance(value, dict) else value
    if not isinstance(messages, list) or not messages:
        raise ValueError("not a Chat Completions conversation: expected {\"messages\": [...]} or a list of messages")
    return messages


def _skill_line(sop: dict[str, Any]) -> str:
    steps = "; ".join(f"{i}. {step.get('tool_name')}: {step.get('action')}"
                      for i, step in enumerate(sop.get("tool_sops", []), start=1))
    line = f"- When {sop.get('use_when', '')}"
    if sop.get("preferences"):
        line += f". Preferences: {sop['preferences']}"
    return f"{line}. Steps: {steps}" if steps else line


async def _known_calls(tx: Writer, session_id: str, call_ids: set[str]) -> set[str]:
    """Which of `call_ids` the session's stored messages made."""
    known: set[str] = set()
    for call_id in call_ids:
        if await tx.fetch_one("SELECT 1 FROM message_tool_calls WHERE session_id = ? AND call_id = ?",
                              (session_id, call_id)):
            known.add(call_id)
    return known


def _read(path: Path, offset: int, final: bool, strict: bool) -> tuple[ParsedTranscript, int]:
    """Parse the transcript from `offset`: the messages and the offset after them. A line longer than
    MAX_LINE_BYTES is skipped whole. Raises `InvalidArgument` when the file cannot be read."""
    try:
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size < offset:  # rewritten or cut: what was stored stays, nothing before `size` is read again
                log.warning("transcript %s is shorter (%d bytes) than what was stored from it (%d)", path, size, offset)
                return ParsedTranscript(), offset
            chunk = CHUNK_BYTES
            while True:
                file.seek(offset)
                data = file.read(chunk)
                parsed = parse_transcript(data, final=final, strict=strict and offset == 0)
                if len(data) == chunk:
                    del parsed.skipped["incomplete last line"]  # the chunk ends mid-line, not the file
                if parsed.consumed or len(data) < chunk:
                    return parsed, offset + parsed.consumed
                if chunk >= MAX_LINE_BYTES:
                    end = data.find(b"\n")
                    skipped = ParsedTranscript(consumed=end + 1 if end >= 0 else 0)
                    skipped.skipped["line too long"] += 1
                    return skipped, offset + skipped.consumed
                chunk *= 2
    except OSError as exc:
        raise InvalidArgument(f"transcript_path: cannot read {str(path)!r}: {exc.strerror or exc}") from None
