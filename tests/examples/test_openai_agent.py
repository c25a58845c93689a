"""examples/openai_agent.py run as a user runs it, against the scripted OpenAI-compatible server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client

from tests.fakes.openai_server import ScriptedOpenAI
from tests.support.mcp import call
from tests.support.servers import COMMAND, http_server, server_env

EXAMPLE = Path(__file__).parents[2] / "examples" / "openai_agent.py"

pytestmark = pytest.mark.slow


def run_example(data_dir: Path, fake: ScriptedOpenAI, *args: str) -> dict:
    env = server_env(data_dir, OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY="test-key")
    env["PATH"] = f"{Path(COMMAND).parent}{os.pathsep}{env['PATH']}"  # `acontext-mcp` as installed
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--model", "scripted-model", *args, "What is 17 * 23?"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def check_conversation(fake: ScriptedOpenAI, messages: list[dict]) -> None:
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"]
    assert messages[2]["content"] == "391"
    assert messages[3]["content"] == "17 * 23 = 391"
    # The second LLM call was built from the session read back through MCP.
    second = fake.requests[1]
    assert second["model"] == "scripted-model"
    assert second["messages"][1]["tool_calls"][0]["function"]["name"] == "multiply"
    call_id = messages[1]["tool_calls"][0]["id"]
    assert second["messages"][2] == {"role": "tool", "tool_call_id": call_id, "content": "391"}


def script(fake: ScriptedOpenAI) -> None:
    fake.reply(tool_calls=[("multiply", {"a": 17, "b": 23})])
    fake.reply("17 * 23 = 391")


def test_agent_over_stdio(tmp_path: Path) -> None:
    with ScriptedOpenAI() as fake:
        script(fake)
        result = run_example(tmp_path / "data", fake)
    check_conversation(fake, result["messages"])


@pytest.mark.anyio
async def test_agent_over_streamable_http(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with ScriptedOpenAI() as fake, http_server(data_dir) as server:
        script(fake)
        result = run_example(data_dir, fake, "--mcp-url", server.mcp_url)
        check_conversation(fake, result["messages"])
        async with Client(server.mcp_url) as client:
            stored = await call(client, "get_messages", session_id=result["session_id"], format="anthropic")
    assert stored["items"][1]["content"][0]["name"] == "multiply"
