"""The MCP Inspector CLI (npm), the outside client users reach for, against the installed server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.servers import COMMAND, http_server, server_env

INSPECTOR = "@modelcontextprotocol/inspector@2.12.0"
NPX = shutil.which("npx")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(NPX is None, reason="needs node's npx to run the MCP Inspector")]


def inspector(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = server_env(data_dir)
    env["PATH"] = f"{Path(COMMAND).parent}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        [NPX or "npx", "-y", INSPECTOR, "--cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_tool_schemas_are_portable_over_stdio(tmp_path: Path) -> None:
    result = inspector(tmp_path, "acontext-mcp", "--method", "tools/list", "--strict")
    assert result.returncode == 0, result.stderr
    names = {tool["name"] for tool in json.loads(result.stdout)["tools"]}
    assert {"create_session", "send_message", "get_messages"} <= names


def test_calls_over_streamable_http(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with http_server(data_dir) as server:
        created = inspector(data_dir, server.mcp_url, "--method", "tools/call", "--tool-name", "create_session",
                            "--tool-args-json", '{"metadata": {"from": "inspector"}}')
        assert created.returncode == 0, created.stderr
        session = json.loads(created.stdout)["structuredContent"]
        assert session["metadata"] == {"from": "inspector"}

        missing = inspector(data_dir, server.mcp_url, "--method", "tools/call", "--tool-name", "get_session",
                            "--tool-args-json", '{"session_id": "nope"}')
        assert missing.returncode != 0
        assert "session 'nope' not found" in missing.stdout


def test_what_the_inspector_shows_a_new_user(tmp_path: Path) -> None:
    """Issue 24 through the Inspector: dedented descriptions, one-line argument errors, listed URIs read back.
    The Inspector passes a server only a few variables of its own environment: `-e` hands over the data dir."""
    passed = [f"ACONTEXT_MCP_HOME={tmp_path}", *(f"{k}={os.environ[k]}" for k in ["PYTHONPATH"] if k in os.environ)]
    server = [arg for pair in passed for arg in ("-e", pair)] + ["acontext-mcp"]
    listed = inspector(tmp_path, *server, "--method", "tools/list")
    assert listed.returncode == 0, listed.stderr
    assert all("\n " not in tool["description"] for tool in json.loads(listed.stdout)["tools"])

    bad = inspector(tmp_path, *server, "--method", "tools/call", "--tool-name", "send_message",
                    "--tool-args-json", '{"session_id": "s"}')
    assert "send_message: argument 'message' is required" in bad.stdout + bad.stderr
    assert "pydantic" not in bad.stdout + bad.stderr

    disk = inspector(tmp_path, *server, "--method", "tools/call", "--tool-name", "create_disk")
    disk_id = json.loads(disk.stdout)["structuredContent"]["id"]
    for folder, name in [("/my docs/", "a b#c?.md"), ("/%2e%2e/", "x.md")]:
        args = {"disk_id": disk_id, "file_path": folder, "filename": name, "content": f"{folder}{name}"}
        written = inspector(tmp_path, *server, "--method", "tools/call", "--tool-name", "upsert_artifact",
                            "--tool-args-json", json.dumps(args))
        assert written.returncode == 0, written.stdout + written.stderr
    resources = json.loads(inspector(tmp_path, *server, "--method", "resources/list").stdout)["resources"]
    uris = {r["name"]: r["uri"] for r in resources if r["uri"].startswith("disk://")}
    assert set(uris) == {"/my docs/a b#c?.md", "/%2e%2e/x.md"}
    for name, uri in uris.items():
        read = inspector(tmp_path, *server, "--method", "resources/read", "--uri", uri)
        assert read.returncode == 0, read.stdout + read.stderr
        assert json.loads(read.stdout)["contents"][0]["text"] == name
