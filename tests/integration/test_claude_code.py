"""The real Claude Code CLI (npm @anthropic-ai/claude-code, pinned in scripts/claude-code) against the scripted
Anthropic server, with this server installed by `acontext-mcp install claude-code`: its hooks store the session
without the model calling a tool, a resumed session appends only its new turns, a skill in the space reaches the
next session's first request, and the CLI loads this server over MCP (`--mcp-config`)."""

from __future__ import annotations

import json
import statistics
import subprocess
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from acontext_mcp.formats.claude_code import parse_transcript
from tests.fakes.anthropic_server import ScriptedAnthropic, text, thinking, tool_use
from tests.fakes.openai_server import ScriptedOpenAI
from tests.support.claude_code import ClaudeCode, claude_code_binary, git_project
from tests.support.mcp import call, eventually
from tests.support.servers import COMMAND, HttpServer, http_server, server_env

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

SOP = {"use_when": "answering questions about the zebra repo", "preferences": "reply in haiku",
       "tool_sops": [{"tool_name": "Bash", "action": "run `make zebra` before answering"}]}
STORE_TIMEOUT = 60.0


def install(home: Path, project: Path, server: HttpServer, *args: str) -> None:
    env = {**server_env(project.parent / "unused"), "HOME": str(home)}
    subprocess.run([COMMAND, "install", "claude-code", "--project", str(project), "--space", "zebra",
                    "--url", server.base_url, *args], env=env, check=True, capture_output=True, timeout=60)


async def stored(client: Client, external_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    sessions = (await call(client, "list_sessions"))["items"]
    session = next((s for s in sessions if s["metadata"].get("external_session_id") == external_id), None)
    if session is None:
        return None, []
    return session, (await call(client, "get_messages", session_id=session["id"], format="anthropic"))["items"]


def hook_durations(transcript: Path) -> list[int]:
    """The Stop hooks' run times Claude Code itself recorded (ms), ours only."""
    durations = []
    for line in transcript.read_text().splitlines():
        entry = json.loads(line)
        if entry.get("subtype") == "stop_hook_summary":
            durations += [info["durationMs"] for info in entry["hookInfos"] if "hook claude-code" in info["command"]]
    return durations


async def test_installed_hooks_store_the_session_and_bring_skills_back(tmp_path: Path) -> None:
    claude = claude_code_binary()
    home, data_dir = tmp_path / "home", tmp_path / "data"
    project = git_project(tmp_path / "zebra")
    # A user's own hook, which installing must keep.
    (project / ".claude").mkdir()
    mine = {"type": "command", "command": f"echo mine >> {tmp_path / 'mine.log'}"}
    (project / ".claude" / "settings.json").write_text(json.dumps({"hooks": {"Stop": [{"hooks": [mine]}]}}))
    with ScriptedAnthropic() as fake, ScriptedOpenAI() as observer_llm, http_server(data_dir, **{
        "OPENAI_BASE_URL": observer_llm.base_url, "OPENAI_API_KEY": "test", "ACONTEXT_OBSERVER_IDLE_S": "1000",
        "ACONTEXT_LLM_MAX_RETRIES": "0", "ACONTEXT_LEARNER_MAX_ATTEMPTS": "1",
    }) as server:
        install(home, project, server)
        settings = json.loads((project / ".claude" / "settings.json").read_text())
        assert mine in settings["hooks"]["Stop"][0]["hooks"]
        run = ClaudeCode(claude, home, fake.base_url)

        fake.reply(thinking("Two commands."), text("Running them."),
                   tool_use("Bash", {"command": "echo alpha", "description": "first"}),
                   tool_use("Bash", {"command": "ls /no-such-dir-here", "description": "second"}))
        fake.reply(text("alpha, and the second failed."))
        run("Check two things with bash; answer in one line", project)  # a preference the observer may keep
        [transcript] = run.transcripts()
        external_id = transcript.stem
        async with Client(server.mcp_url) as client:
            async def whole() -> bool:
                return len((await stored(client, external_id))[1]) == 4
            await eventually(whole, STORE_TIMEOUT, "the first run's messages")
            session, items = await stored(client, external_id)
            assert items == parse_transcript(transcript.read_bytes()).messages
            assert [[block["type"] for block in item["content"]] for item in items] == [
                ["text"], ["thinking", "text", "tool_use", "tool_use"], ["tool_result", "tool_result"], ["text"]]
            assert session is not None and session["metadata"]["git_branch"] == "feature-x"
            assert session["metadata"]["source"] == "hook" and session["space_id"]
            openai = (await call(client, "get_messages", session_id=session["id"], format="openai"))["items"]
            assert [m["role"] for m in openai] == ["user", "assistant", "tool", "tool", "assistant"]
            assert (tmp_path / "mine.log").read_text() == "mine\n"

            # The observer finds the task in the stored session (its model scripted), with a preference.
            observer_llm.reply(tool_calls=[("insert_task", {"after_task_order": 0,
                                                            "task_description": "Check two things with bash"})])
            observer_llm.reply(tool_calls=[("update_task", {"task_order": 1, "status": "success",
                                                            "task_description": None}),
                                           ("append_user_preference", {"task_order": 1,
                                                                       "preference": "answer in one line"})])
            observer_llm.reply(tool_calls=[("finish", {})])
            tasks = (await call(client, "flush", session_id=session["id"]))["items"]
            assert [(t["data"]["task_description"], t["status"]) for t in tasks] == [
                ("Check two things with bash", "success")]

            # The same session resumed: only the new turn is appended.
            fake.reply(text("Second answer."))
            run("One more question", project, "--resume", external_id)

            async def appended() -> bool:
                return len((await stored(client, external_id))[1]) == 6
            await eventually(appended, STORE_TIMEOUT, "the resumed run's messages")
            _, items = await stored(client, external_id)
            assert items == parse_transcript(transcript.read_bytes()).messages
            assert len(items) == 6

            # A skill learned into the space reaches the next session's context.
            space_id = session["space_id"]
            await call(client, "create_block", space_id=space_id, parent_path="/", type="page", title="zebra")
            await call(client, "create_block", space_id=space_id, parent_path="/zebra", type="sop",
                       title="zebra answers", data=SOP)
            fake.reply(text("Ok."))
            before = len(fake.conversation)
            run("What about zebras?", project, "--mcp-config", str(project / ".mcp.json"))
            first_request = json.dumps(fake.conversation[before])
            assert "run `make zebra` before answering" in first_request
            assert "reply in haiku" in first_request
            assert "answer in one line" in first_request  # the preference the observer found, same project dir
            assert "mcp__acontext__send_message" in first_request  # our tools, offered (or listed as deferred)
            sessions = (await call(client, "list_sessions"))["items"]
            assert len(sessions) == 2  # the new run is stored as its own session

    durations = hook_durations(transcript)
    assert durations, "Claude Code recorded no run of our Stop hook"
    print(f"\nStop hook run time as Claude Code measured it: p50 {statistics.median(durations):.0f} ms, "
          f"max {max(durations)} ms over {len(durations)} runs")


async def test_the_hook_exits_0_when_the_server_is_down(tmp_path: Path) -> None:
    """The host never breaks: no server, bad input and an unknown event all exit 0 and print nothing."""
    log = tmp_path / "hook.log"
    for stdin in (json.dumps({"hook_event_name": "Stop", "session_id": "s", "transcript_path": "/x.jsonl"}),
                  json.dumps({"hook_event_name": "SessionStart", "session_id": "s", "cwd": "/"}),
                  "not json", json.dumps({"hook_event_name": "Notification"})):
        result = subprocess.run([COMMAND, "hook", "claude-code", "--url", "http://127.0.0.1:9", "--log", str(log)],
                                input=stdin, capture_output=True, text=True, timeout=60)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert "Stop failed" in log.read_text() and "ConnectionRefusedError" in log.read_text()


def test_uninstall_removes_only_ours(tmp_path: Path) -> None:
    project, home = tmp_path / "p", tmp_path / "home"
    (project / ".claude").mkdir(parents=True)
    mine = {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "echo mine"}]}]}, "model": "opus"}
    (project / ".claude" / "settings.json").write_text(json.dumps(mine))
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"other": {"command": "x"}}}))
    env = {**server_env(tmp_path / "d"), "HOME": str(home)}
    for _ in range(2):  # twice: no duplicates
        subprocess.run([COMMAND, "install", "claude-code", "--project", str(project)], env=env, check=True,
                       capture_output=True, timeout=60)
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    assert len(settings["hooks"]["Stop"]) == 2 and len(settings["hooks"]["SessionStart"]) == 1
    assert set(json.loads((project / ".mcp.json").read_text())["mcpServers"]) == {"other", "acontext"}
    dry = subprocess.run([COMMAND, "uninstall", "claude-code", "--project", str(project), "--dry-run"], env=env,
                         check=True, capture_output=True, text=True, timeout=60)
    assert "echo mine" in dry.stdout and json.loads((project / ".claude" / "settings.json").read_text()) == settings
    subprocess.run([COMMAND, "uninstall", "claude-code", "--project", str(project)], env=env, check=True,
                   capture_output=True, timeout=60)
    assert json.loads((project / ".claude" / "settings.json").read_text()) == mine
    assert json.loads((project / ".mcp.json").read_text()) == {"mcpServers": {"other": {"command": "x"}}}


def test_import_cli_stores_transcripts_once_and_refuses_what_is_not_one(tmp_path: Path) -> None:
    """`acontext-mcp import claude-code` over a folder: a 10,000-line transcript, one cut mid-line, a file that is
    not a transcript; a progress bar and a summary; a re-run stores nothing more."""
    from benchmarks.capture import transcript_of

    folder = tmp_path / "projects" / "-work-zebra"
    folder.mkdir(parents=True)
    big = transcript_of(10_000)
    (folder / "big.jsonl").write_bytes(big)
    (folder / "cut.jsonl").write_bytes(big[:5000])
    (folder / "notes.jsonl").write_text('{"role": "user", "content": "not a transcript"}\n')
    env = server_env(tmp_path / "data")
    command = [COMMAND, "import", "claude-code", str(folder)]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 1, first.stderr  # a file was refused
    assert "3/3 files" in first.stderr and "imported 2 of 3 files" in first.stderr
    assert "sessions created" in first.stderr and "incomplete last line 1" in first.stderr
    assert f"refused {folder / 'notes.jsonl'}: not a Claude Code transcript" in first.stderr
    print("\n" + next(line for line in first.stderr.splitlines() if line.startswith("imported")))  # the rate
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert "0 sessions created, 0 messages stored" in again.stderr, again.stderr

    chats = tmp_path / "chats.jsonl"
    hello = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    chats.write_text(json.dumps({"messages": hello}) + "\n{}\n")
    openai = subprocess.run([COMMAND, "import", "openai-jsonl", str(chats)], env=env, capture_output=True, text=True,
                            timeout=600)
    assert openai.returncode == 1 and "2 messages stored" in openai.stderr, openai.stderr
    assert f"refused {chats} line 2: not a Chat Completions conversation" in openai.stderr
