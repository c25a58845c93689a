"""The REST API at /api/v1 in process (Starlette's TestClient over the real HTTP app): the envelope, errors
naming the field, 501s, auth and the project of the token. The SDK packages themselves: test_acontext_sdk.py."""

from __future__ import annotations

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
