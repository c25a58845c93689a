"""`acontext-mcp dashboard` and the /dashboard mount, as real server processes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.integration.test_cli import run
from tests.support.dashboard import seed_dir
from tests.support.servers import dashboard_server, http_server, serve_script

pytestmark = pytest.mark.slow


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


@pytest.mark.parametrize("demo", ["1", "0"])
def test_the_start_command_loads_the_demo_into_an_empty_data_dir(data_dir: Path, demo: str) -> None:
    with serve_script(data_dir, ACONTEXT_DEMO=demo) as server:
        sessions = httpx.get(f"{server.base_url}/dashboard/sessions").text
        log = server.log.read_text()
    notes = [line for line in log.splitlines() if "demo" in line]
    if demo == "1":
        assert sessions.count('class="session-link"') == 2 and "iPhone 15 Pro Max" in sessions
        assert len(notes) == 1 and notes[0].startswith("acontext-mcp: loaded the demo")
    else:
        assert "No sessions yet" in sessions and notes == []
