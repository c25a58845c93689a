"""The REST API at /api/v1 in process (Starlette's TestClient over the real HTTP app): the envelope, errors
naming the field, 501s, auth and the project of the token. The SDK packages themselves: test_acontext_sdk.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from acontext_mcp import Settings
from acontext_mcp.server import build_http_app

BASE = "http://127.0.0.1:8029"


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    with TestClient(build_http_app(settings), base_url=BASE) as client:
        yield client


def ok(response: Any) -> Any:
    body = response.json()
    assert response.status_code == 200 and body["code"] == 200, body
    return body["data"]


def refused(response: Any, status: int) -> str:
    body = response.json()
    assert response.status_code == status and body["code"] == status, body
    assert body["msg"] == body["error"]
    return str(body["msg"])


def test_ping_and_the_envelope(api: TestClient) -> None:
    assert api.get("/api/v1/ping").json() == {"code": 200, "data": None, "msg": "pong", "error": ""}


def test_session_create_and_delete(api: TestClient) -> None:
    session = ok(api.post("/api/v1/session", json={"configs": {"mode": "test"}}))
    assert session["configs"] == {"mode": "test"} and session["project_id"] == "default"
    assert ok(api.delete(f"/api/v1/session/{session['id']}")) is None
    assert "not found" in refused(api.delete(f"/api/v1/session/{session['id']}"), 404)


def test_bad_input_names_the_field(api: TestClient) -> None:
    assert "'configs'" in refused(api.post("/api/v1/session", json={"configs": 3}), 400)
    garbled = api.post("/api/v1/session", content=b"{nope", headers={"content-type": "application/json"})
    assert "JSON" in refused(garbled, 400)


def test_sandbox_answers_501(api: TestClient) -> None:
    assert "no sandbox" in refused(api.post("/api/v1/sandbox"), 501)


def test_foreign_host_refused(api: TestClient) -> None:
    refused(api.get("/api/v1/ping", headers={"host": "evil.example"}), 421)


def test_tokens_scope_projects(data_dir: Any) -> None:
    settings = Settings(data_dir=data_dir, tokens="tok-a=alpha,tok-b=beta")
    with TestClient(build_http_app(settings), base_url=BASE) as client:
        assert "missing bearer" in refused(client.get("/api/v1/ping"), 401)
        assert "not one this server accepts" in refused(
            client.get("/api/v1/ping", headers={"Authorization": "Bearer nope"}), 401)
        a = {"Authorization": "Bearer tok-a"}
        b = {"Authorization": "Bearer tok-b"}
        session = ok(client.post("/api/v1/session", json={}, headers=a))
        assert session["project_id"] == "alpha"
        refused(client.delete(f"/api/v1/session/{session['id']}", headers=b), 404)
        ok(client.delete(f"/api/v1/session/{session['id']}", headers=a))


def test_lists_page_with_limit_cursor_and_time_desc(api: TestClient) -> None:
    ids = [ok(api.post("/api/v1/session", json={}))["id"] for _ in range(3)]
    first = ok(api.get("/api/v1/session", params={"limit": 2}))
    assert [s["id"] for s in first["items"]] == ids[:2] and first["has_more"]
    rest = ok(api.get("/api/v1/session", params={"limit": 2, "cursor": first["next_cursor"]}))
    assert [s["id"] for s in rest["items"]] == ids[2:] and not rest["has_more"] and rest["next_cursor"] is None
    newest = ok(api.get("/api/v1/session", params={"time_desc": "true"}))
    assert [s["id"] for s in newest["items"]] == ids[::-1]
    assert "'limit'" in refused(api.get("/api/v1/session", params={"limit": "many"}), 400)
    assert "cursor" in refused(api.get("/api/v1/session", params={"cursor": "junk"}), 400)


def test_body_over_the_limit_is_refused_while_read(data_dir: Any) -> None:
    settings = Settings(data_dir=data_dir, max_message_bytes=1000, max_artifact_bytes=1000)
    with TestClient(build_http_app(settings), base_url=BASE) as client:
        session = ok(client.post("/api/v1/session", json={}))
        url = f"/api/v1/session/{session['id']}/messages"

        def chunks() -> Any:  # no Content-Length: the limit holds while reading
            for _ in range(40):
                yield b"x" * 65536

        assert "over this server's limit" in refused(client.post(url, content=chunks()), 413)
        big = {"format": "openai", "blob": {"role": "user", "content": "x" * 5000}}
        assert "over the limit of 1000 bytes" in refused(client.post(url, json=big), 413)
        assert ok(client.get(url))["items"] == []


def test_messages_with_edit_strategies_and_pin(api: TestClient) -> None:
    session_id = ok(api.post("/api/v1/session", json={}))["id"]
    url = f"/api/v1/session/{session_id}/messages"
    call = {"id": "c1", "type": "function", "function": {"name": "ls", "arguments": "{}"}}
    turns = [
        {"role": "user", "content": "list files"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "a.txt b.txt"},
        {"role": "assistant", "content": "two files"},
    ]
    ids = [ok(api.post(url, json={"format": "openai", "blob": turn}))["id"] for turn in turns]
    strategy = json.dumps([{"type": "remove_tool_result", "params": {"keep_recent_n_tool_results": 0,
                                                                       "tool_result_placeholder": "gone"}}])
    edited = ok(api.get(url, params={"edit_strategies": strategy}))
    assert edited["items"][2]["content"] == "gone" and edited["ids"] == ids and edited["edit_at_message_id"] == ids[3]
    pinned = ok(api.get(url, params={"edit_strategies": strategy, "pin_editing_strategies_at_message": ids[1]}))
    assert pinned["items"][2]["content"] == "a.txt b.txt" and pinned["edit_at_message_id"] == ids[1]
    unknown = json.dumps([{"type": "shrink", "params": {}}])
    assert "edit_strategies" in refused(api.get(url, params={"edit_strategies": unknown}), 400)


def test_acontext_message_with_an_uploaded_file(api: TestClient) -> None:
    session_id = ok(api.post("/api/v1/session", json={}))["id"]
    payload = {"format": "acontext", "blob": {"role": "user", "parts": [
        {"type": "text", "text": "see the file", "meta": None, "file_field": None},
        {"type": "file", "text": None, "meta": None, "file_field": "doc"}]}}
    stored = ok(api.post(f"/api/v1/session/{session_id}/messages", data={"payload": json.dumps(payload)},
                         files={"doc": ("notes.txt", b"hello", "text/plain")}))
    assert stored["role"] == "user"
    page = ok(api.get(f"/api/v1/session/{session_id}/messages", params={"format": "acontext"}))
    part = page["items"][0]["parts"][1]
    assert part["type"] == "file" and part["filename"] == "notes.txt" and part["data"] == "aGVsbG8="
    missing = {**payload, "blob": {"role": "user", "parts": [{"type": "file", "file_field": "nope"}]}}
    assert "'nope'" in refused(api.post(f"/api/v1/session/{session_id}/messages",
                                        data={"payload": json.dumps(missing)},
                                        files={"doc": ("notes.txt", b"hello", "text/plain")}), 400)


def test_unknown_route_answers_in_the_envelope(api: TestClient) -> None:
    assert "no route GET /api/v1/nothing/here" in refused(api.get("/api/v1/nothing/here"), 404)
    assert "no route PATCH /api/v1/ping" in refused(api.patch("/api/v1/ping"), 404)


def test_demo_token_refused_off_loopback(data_dir: Any) -> None:
    settings = Settings(data_dir=data_dir, host="0.0.0.0", insecure=True)
    with TestClient(build_http_app(settings), base_url=BASE) as client:
        demo = {"Authorization": "Bearer sk-ac-your-root-api-bearer-token"}
        assert "loopback only" in refused(client.get("/api/v1/ping", headers=demo), 401)
        assert ok(client.get("/api/v1/ping", headers={"Authorization": "Bearer anything-else"})) is None
