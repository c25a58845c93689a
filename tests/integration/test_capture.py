"""The capture service on a transcript the real Claude Code CLI wrote: stored once, in order, valid for both APIs;
appended turns stored on the next capture; the session-start context; files that are not transcripts refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from acontext_mcp import Container, Settings, hook
from acontext_mcp.errors import InvalidArgument
from acontext_mcp.formats.claude_code import parse_transcript
from acontext_mcp.routes import HOOK_ROUTE, claude_code_hook_route
from acontext_mcp.settings import ENV_VARS
from tests.integration.test_dashboard_http import dashboard_client

pytestmark = pytest.mark.anyio

FIXTURE = Path(__file__).parents[1] / "unit" / "formats" / "data" / "claude_code_2.1.328.jsonl"
SOP = {"use_when": "checking files in this repo", "preferences": "run tests first",
       "tool_sops": [{"tool_name": "Bash", "action": "run `ls` then `pytest -q`"}]}


def transcript(tmp_path: Path, lines: int | None = None) -> Path:
    path = tmp_path / "projects" / "-proj" / f"{FIXTURE.stem}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = FIXTURE.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(data[:lines]))
    return path


async def test_a_transcript_is_stored_once_in_order(service: Container, tmp_path: Path) -> None:
    path = transcript(tmp_path)
    done = await service.capture.capture_claude_code(path, "cc-1", space="my-project", final=False)
    assert done.created and done.messages == 6 and done.offset == path.stat().st_size
    page = await service.messages.get_messages(done.session_id or "", "anthropic")
    assert page.items == parse_transcript(FIXTURE.read_bytes()).messages
    openai = await service.messages.get_messages(done.session_id or "", "openai")
    assert [item["role"] for item in openai.items] == ["user", "assistant", "tool", "tool", "assistant", "user",
                                                       "assistant"]

    again = await service.capture.capture_claude_code(path, "cc-1", space="my-project")
    assert (again.session_id, again.created, again.messages) == (done.session_id, False, 0)

    session = await service.sessions.get_session(done.session_id or "")
    assert session.message_count == 6 and session.space_id is not None
    assert session.metadata["source"] == "hook" and session.metadata["host"] == "claude-code"
    assert session.metadata["git_branch"] == "feature-x" and session.metadata["cwd"].endswith("/proj")
    assert session.metadata["external_session_id"] == "cc-1"
    spaces = (await service.spaces.list_spaces()).items
    assert [space.name for space in spaces] == ["my-project"]


async def test_appended_turns_are_stored_on_the_next_capture(service: Container, tmp_path: Path) -> None:
    path = transcript(tmp_path, lines=25)  # the first turn's tool calls written, their results not yet
    first = await service.capture.capture_claude_code(path, "cc-2")
    assert first.messages == 1  # the prompt; the unanswered calls wait
    path.write_bytes(FIXTURE.read_bytes())
    second = await service.capture.capture_claude_code(path, "cc-2")
    assert second.messages == 5
    page = await service.messages.get_messages(first.session_id or "", "anthropic")
    assert page.items == parse_transcript(FIXTURE.read_bytes()).messages


async def test_a_session_resumed_after_compaction_keeps_valid_results(service: Container, tmp_path: Path) -> None:
    """A transcript starting with tool results of calls never stored loses those results, not the turn."""
    path = tmp_path / "resumed.jsonl"
    orphan = {"type": "user", "sessionId": "s", "uuid": "u1", "message": {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_gone", "content": "old"}, {"type": "text", "text": "go on"}]}}
    path.write_bytes((json.dumps(orphan) + "\n").encode() + FIXTURE.read_bytes())
    done = await service.capture.capture_claude_code(path)
    page = await service.messages.get_messages(done.session_id or "", "anthropic")
    assert page.items[0]["content"][:2] == [{"type": "text", "text": "go on"},
                                            {"type": "text", "text": "Check two things with bash"}]


async def test_a_file_that_is_not_a_transcript_stores_nothing(service: Container, tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_text('{"role": "user", "content": "hi"}\n')
    with pytest.raises(InvalidArgument, match="not a Claude Code transcript"):
        await service.capture.capture_claude_code(path, strict=True)
    with pytest.raises(InvalidArgument, match="transcript_path: cannot read"):
        await service.capture.capture_claude_code(tmp_path / "missing.jsonl")
    assert (await service.sessions.list_sessions()).items == []


async def test_session_start_context_has_skills_and_preferences(service: Container, tmp_path: Path) -> None:
    assert await service.capture.session_context("/nowhere", "my-project") == ""
    done = await service.capture.capture_claude_code(transcript(tmp_path), "cc-3", space="my-project")
    session = await service.sessions.get_session(done.session_id or "")
    space_id = session.space_id or ""
    await service.spaces.create_block(space_id, "/", "page", "checks")
    await service.spaces.create_block(space_id, "/checks", "sop", "check files", SOP)
    board = await service.tasks.load_board(session.id)
    board.insert(0, "Check two things")
    board.append_preference(1, "answer in one line")
    async with service.db.transaction() as tx:
        await board.save(tx)

    text = await service.capture.session_context(session.metadata["cwd"], "my-project")
    assert "When checking files in this repo. Preferences: run tests first. Steps: 1. Bash: run `ls`" in text
    assert "- answer in one line" in text
    assert len(text) < 3000
    assert "answer in one line" not in await service.capture.session_context("/elsewhere", "my-project")


async def test_import_of_a_folder(service: Container, tmp_path: Path) -> None:
    """The import reads a folder of transcripts; a copy under another name is another session."""
    path = transcript(tmp_path)
    shutil.copy(path, path.with_name("other.jsonl"))
    for file in sorted(path.parent.glob("*.jsonl")):
        await service.capture.capture_claude_code(file, final=True, source="import", strict=True)
    sessions = (await service.sessions.list_sessions()).items
    assert sorted(s.metadata["external_session_id"] for s in sessions) == sorted(["other", FIXTURE.stem])
    assert all(s.message_count == 6 and s.metadata["source"] == "import" for s in sessions)


async def test_the_dashboard_marks_captured_sessions(settings: Settings, service: Container, tmp_path: Path) -> None:
    done = await service.capture.capture_claude_code(transcript(tmp_path), "cc-4")
    plain = await service.sessions.create_session()
    async with dashboard_client(settings, service) as web:
        listing = (await web.get("/dashboard/sessions")).text
        page = (await web.get(f"/dashboard/sessions/{done.session_id}")).text
        other = (await web.get(f"/dashboard/sessions/{plain.id}")).text
    assert listing.count('class="source"') == 1 and "hook · claude-code" in listing
    assert "<dt>Source</dt>" in page and "hook · claude-code" in page
    assert "<dt>Source</dt>" not in other


def hook_app(service: Container, tokens: dict[str, str]) -> httpx.AsyncClient:
    app = Starlette(routes=[claude_code_hook_route(lambda: service, tokens)])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8029")


async def test_the_hook_route(service: Container, tmp_path: Path) -> None:
    path = transcript(tmp_path)
    stop = {"hook_event_name": "Stop", "session_id": "cc-5", "transcript_path": str(path), "space": "s"}
    async with hook_app(service, {}) as web:
        bad = await web.post(HOOK_ROUTE, json={"hook_event_name": "Stop", "session_id": "cc-5"})
        assert (bad.status_code, bad.text) == (400, "transcript_path: a non-empty string is required")
        assert (await web.post(HOOK_ROUTE, content=b"nope")).status_code == 400
        other_file = await web.post(HOOK_ROUTE, json={**stop, "transcript_path": "/etc/passwd"})
        assert other_file.status_code == 400
        assert other_file.text == "transcript_path: not a Claude Code transcript (*.jsonl)"
        assert (await web.post(HOOK_ROUTE, json={"hook_event_name": "Notification"})).status_code == 204
        accepted = await web.post(HOOK_ROUTE, json=stop)  # ASGITransport runs the background task before returning
        assert accepted.status_code == 202
        start = await web.post(HOOK_ROUTE, json={"hook_event_name": "SessionStart", "cwd": "/x", "space": "s"})
        assert (start.status_code, start.text) == (200, "")
    [session] = (await service.sessions.list_sessions()).items
    assert session.message_count == 6 and session.metadata["external_session_id"] == "cc-5"
    async with hook_app(service, {"secret-token": "default"}) as web:
        assert (await web.post(HOOK_ROUTE, json=stop)).status_code == 401
        wrong = await web.post(HOOK_ROUTE, json=stop, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "secret-token" not in wrong.text
        ok = await web.post(HOOK_ROUTE, json=stop, headers={"Authorization": "Bearer secret-token"})
        assert ok.status_code == 202


def test_the_hook_sends_the_servers_token_setting() -> None:
    assert ENV_VARS["token"] == hook.TOKEN_ENV


async def test_import_of_openai_jsonl(service: Container, tmp_path: Path) -> None:
    """One Chat Completions conversation per line; a bad line is refused alone; a re-run stores nothing twice."""
    conversation = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": "{\"a\": 2, \"b\": 2}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "4"},
        {"role": "assistant", "content": "4"},
    ]
    path = tmp_path / "chats.jsonl"
    path.write_text("\n".join([
        json.dumps({"messages": conversation}),
        json.dumps([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]),
        json.dumps({"messages": [{"role": "tool", "tool_call_id": "nope", "content": "x"}]}),
        "not json",
    ]) + "\n")
    done = await service.capture.import_openai_jsonl(path, space="imports")
    assert done.messages == 7 and done.lines == 4
    assert sorted(reason.split(":")[0] for reason in done.skipped) == ["line 3", "line 4"]
    sessions = (await service.sessions.list_sessions()).items
    assert sorted(s.metadata["line"] for s in sessions) == [1, 2] and all(s.space_id for s in sessions)
    first = next(s for s in sessions if s.metadata["line"] == 1)
    assert (await service.messages.get_messages(first.id, "openai")).items == conversation
    again = await service.capture.import_openai_jsonl(path)
    assert again.messages == 0 and len((await service.sessions.list_sessions()).items) == 2
