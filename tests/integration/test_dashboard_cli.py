"""`acontext-mcp dashboard` and the /dashboard mount, as real server processes."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.integration.test_cli import run
from tests.support.dashboard import seed_dir
from tests.support.servers import dashboard_server, http_server


def test_dashboard_command_serves_the_data_dir_alone(data_dir: Path) -> None:
    seeded = seed_dir(data_dir)
    with dashboard_server(data_dir) as server:
        root = httpx.get(f"{server.base_url}/")
        assert root.status_code == 307 and root.headers["location"] == "/dashboard/"
        page = httpx.get(f"{server.base_url}/dashboard/sessions/{seeded.weather}")
        assert page.status_code == 200 and "lookup_weather" in page.text
        assert httpx.get(f"{server.base_url}/mcp").status_code == 404  # no MCP transport here


def test_http_server_mounts_the_dashboard_behind_its_token(data_dir: Path) -> None:
    seed_dir(data_dir)
    with http_server(data_dir, ACONTEXT_MCP_TOKEN="tok-123") as server:
        bounced = httpx.get(f"{server.base_url}/dashboard/sessions")
        assert bounced.status_code == 303 and bounced.headers["location"].startswith("/dashboard/login")
        signed = httpx.get(f"{server.base_url}/dashboard/sessions", headers={"Authorization": "Bearer tok-123"})
        assert signed.status_code == 200 and "weather-bot" in signed.text


def test_dashboard_help_names_its_port_and_token(tmp_path: Path) -> None:
    result = run("dashboard", "--help", data_dir=tmp_path)
    assert result.returncode == 0
    assert "--port" in result.stdout and "default 8030" in result.stdout and "ACONTEXT_MCP_TOKEN" in result.stdout
    assert "--transport" not in result.stdout


def test_dashboard_command_refuses_an_open_public_bind(tmp_path: Path) -> None:
    result = run("dashboard", "--host", "0.0.0.0", data_dir=tmp_path)
    assert result.returncode == 2 and "refusing to serve on 0.0.0.0 without a token" in result.stderr
    assert not (tmp_path / "acontext.db").exists()


def test_demo_command_loads_once_with_if_empty(data_dir: Path) -> None:
    first = run("demo", "--if-empty", "--transport", "http", data_dir=data_dir)  # serve flags are accepted
    assert first.returncode == 0 and "loaded the demo: session" in first.stdout
    again = run("demo", "--if-empty", data_dir=data_dir)
    assert again.returncode == 0 and "already has sessions; demo not loaded" in again.stdout
    with dashboard_server(data_dir) as server:
        sessions = httpx.get(f"{server.base_url}/dashboard/sessions").text
    assert sessions.count('class="session-link"') == 2  # the demo session and its earlier tasks, not twice that
