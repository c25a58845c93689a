"""Issue 22 regressions through real clients: deep tool-call arguments, part counts, credentials in output."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from mcp import Client

from acontext_mcp import Container, Settings
from acontext_mcp.cli import main, redact_logs
from acontext_mcp.dashboard.pages import pretty_json
from acontext_mcp.errors import LLMError
from acontext_mcp.llm.openai_compat import OpenAICompatible
from acontext_mcp.redact import redact
from acontext_mcp.server import build_server
from acontext_mcp.store.database import shown
from tests.fakes.openai_server import ScriptedOpenAI
from tests.support.mcp import call, call_error

pytestmark = pytest.mark.anyio
DEEP = "[" * 1500 + "]" * 1500  # 3 KB: past the JSON parser's recursion limit


def deep_call(call_id: str, arguments: str) -> dict:
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": call_id, "type": "function", "function": {"name": "f", "arguments": arguments}}]}


async def test_deep_tool_call_arguments_are_refused_and_old_rows_still_read(settings: Settings) -> None:
    async with Container.open(settings) as service, Client(build_server(settings)) as client:
        session_id = (await call(client, "create_session"))["id"]
        for arguments in (DEEP, '{"a": ' + "[" * 100 + "]" * 100 + "}", "[" * 100 + "not json"):
            error = await call_error(client, "send_message", session_id=session_id, message=deep_call("c1", arguments))
            assert "nested deeper than 64" in error and "arguments of tool call 'c1'" in error
        # brackets inside a string do not count
        await call(client, "send_message", session_id=session_id,
                   message=deep_call("c2", json.dumps({"text": "[" * 1500})))
        await call(client, "send_message", session_id=session_id,
                   message={"role": "tool", "tool_call_id": "c2", "content": "ok"})  # answered: reads keep the call
        # a row stored before the check (or by an older version) still reads in every format and on the dashboard
        stored = await service.messages.send_message(session_id, deep_call("c3", "{}"))
        body = json.dumps({"role": "assistant", "parts": [
            {"type": "tool-call", "id": "c3", "name": "f", "arguments": DEEP}]})
        async with service.db.transaction() as tx:
            await tx.execute("UPDATE messages SET body = ? WHERE id = ?", (body, stored.id))
        for fmt in ("anthropic", "openai", "acontext"):
            page = await call(client, "get_messages", session_id=session_id, format=fmt)
            assert len(page["items"]) == 3
        anthropic = (await call(client, "get_messages", session_id=session_id, format="anthropic"))["items"]
        assert anthropic[-1]["content"][0]["input"] == {"arguments": DEEP}
        assert pretty_json(DEEP) == DEEP


async def test_a_message_of_too_many_parts_is_refused(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, max_message_parts=50)
    async with Client(build_server(settings)) as client:
        session_id = (await call(client, "create_session"))["id"]
        many = {"role": "user", "content": [{"type": "text", "text": "a"}] * 51}
        error = await call_error(client, "send_message", session_id=session_id, message=many)
        assert "51 parts, over the limit of 50" in error and "ACONTEXT_MAX_MESSAGE_PARTS" in error
        nested = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": [
            {"type": "text", "text": "a"}] * 30}] * 2}
        error = await call_error(client, "send_message", session_id=session_id, message=nested, format="anthropic")
        assert "over the limit of 50" in error
        assert (await call(client, "get_messages", session_id=session_id))["items"] == []
        await call(client, "send_message", session_id=session_id, message={**many, "content": many["content"][:50]})


KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
PASSWORD = "hunter2@secret"


async def test_llm_errors_name_neither_the_key_nor_url_credentials() -> None:
    with ScriptedOpenAI() as fake:
        fake.fail(401, {"error": {"message": f"Incorrect API key provided: {KEY}. Bearer {KEY}", "type": "auth"}})
        base = fake.base_url.replace("http://", "http://admin:hunter2%40secret@")
        llm = OpenAICompatible("m", api_key=KEY, base_url=base, max_retries=0)
        with pytest.raises(LLMError) as caught:
            await llm.chat([{"role": "user", "content": "hi"}], [])
        await llm.aclose()
    text = str(caught.value)
    assert "HTTP 401" in text and "127.0.0.1" in text
    assert KEY not in text and "hunter2" not in text


@pytest.mark.parametrize("url", [
    "postgresql://user:hunter2@secret@db:5432/acontext",
    "postgresql://user:hunter2%40secret@db/acontext?sslmode=require",
    "postgresql://db/acontext?user=u&password=hunter2@secret",
])
def test_database_passwords_are_masked_whole(url: str) -> None:
    assert "hunter2" not in shown(url) and "secret" not in shown(url)
    assert "db" in shown(url)


def test_redact_covers_key_shapes_and_known_values() -> None:
    text = "key AKIAABCDEFGHIJKLMNOP ghp_" + "a" * 36 + " url https://u:p4ss@h/x token=abc123 custom-long-secret"
    cleaned = redact(text, ["custom-long-secret"])
    for leaked in ("AKIAABCDEFGHIJKLMNOP", "ghp_", "p4ss", "abc123", "custom-long-secret"):
        assert leaked not in cleaned
    assert "https://u:***@h/x" in cleaned


def test_a_token_listed_twice_fails_start_up_without_printing_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    token = "tok-" + "z" * 30
    monkeypatch.setenv("ACONTEXT_MCP_HOME", str(tmp_path))
    monkeypatch.setenv("ACONTEXT_MCP_TOKEN", token)
    monkeypatch.setenv("ACONTEXT_MCP_TOKENS", f"{token}=a")
    monkeypatch.setenv("ACONTEXT_DATABASE_URL", f"postgresql://u:{PASSWORD}@h/db")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert "is also listed in ACONTEXT_MCP_TOKENS" in err
    assert token not in err and "hunter2" not in err and "Traceback" not in err


def test_logs_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    handler = logging.StreamHandler()
    records: list[str] = []
    handler.emit = lambda record: records.append(handler.format(record))  # type: ignore[method-assign]
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        redact_logs(["my-configured-token-123"])
        logging.getLogger("acontext_mcp.x").warning("at %s with %s", "https://u:pw1234@h/", "my-configured-token-123")
        logging.getLogger("acontext_mcp.access").warning('"GET /artifacts/eyJzaWQiOiJ4In0.c2ln HTTP/1.1" 200')
    finally:
        root.removeHandler(handler)
    assert records and all("pw1234" not in r and "my-configured-token-123" not in r for r in records)
    assert "/artifacts/***" in records[-1]


def test_failover_after_a_killed_replica_waits_one_short_lease() -> None:
    """Leases are renewed every third of their length, so a 15 s lease lets a dead replica's work resume
    within 15 s rather than a minute (tests/integration/test_replicas.py kills one for real)."""
    assert Settings.model_fields["queue_lease_s"].default <= 15


async def test_the_dashboard_shows_a_huge_old_message_in_part(data_dir: Path) -> None:
    from tests.integration.test_dashboard_http import dashboard_client

    settings = Settings(data_dir=data_dir, max_message_parts=5000)  # as stored before the limit existed
    async with Container.open(settings) as service:
        session = await service.sessions.create_session()
        await service.messages.send_message(session.id, {"role": "user", "content": [
            {"type": "text", "text": f"part {i}"} for i in range(3000)]})
        async with dashboard_client(settings, service) as web:
            page = await web.get(f"/dashboard/sessions/{session.id}")
    assert page.status_code == 200
    assert "part 999<" in page.text and "part 1000<" not in page.text
    assert "2000 more parts not shown" in page.text


async def test_observer_errors_stored_earlier_show_no_credentials(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, openai_base_url="http://127.0.0.1:9/v1")  # observer on, never called
    async with Container.open(settings, background=False) as service:
        session = await service.sessions.create_session()
        leaked = f"LLM m at http://admin:{PASSWORD}@llm.internal/v1: HTTP 401: bad key {KEY}"
        async with service.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO observer_sessions (session_id, attempts, next_attempt_at, last_error, failed, updated_at) "
                "VALUES (?, 1, '2026-01-01', ?, 1, '2026-01-01')", (session.id, leaked))
        shown_errors = [(await service.observer.session_state(session.id)).last_error,
                        (await service.observer.status()).last_error]
    for text in shown_errors:
        assert text and "llm.internal" in text and "hunter2" not in text and KEY not in text


def test_debug_logs_hold_no_sql_parameters(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setenv("ACONTEXT_MCP_HOME", str(tmp_path))
    caplog.set_level(logging.DEBUG)
    assert main(["migrate", "--log-level", "DEBUG"]) == 0
    # An earlier test's connection closing late in its own thread (same xdist worker) logs "close_and_stop": not a
    # statement, and not this command's.
    assert not [r for r in caplog.records if r.name.startswith(("aiosqlite", "asyncpg"))
                and "close_and_stop" not in r.getMessage()]
