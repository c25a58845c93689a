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
