"""The official `acontext` SDK from PyPI, unmodified, against a served acontext-mcp: the seed's quickstart, a walk of
every SDK method (sync and async clients), and bad input. Each SDK generation lives in its own venv
(`scripts/sdk-venvs`, run by scripts/test); its client code runs there as a subprocess. Without those venvs the
tests skip, unless ACONTEXT_REQUIRE_SDK=1 (set by .ci/run), where they fail."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from acontext_mcp.api.missing import NOT_YET
from tests.fakes.openai_server import Reply, ScriptedOpenAI, assistant
from tests.support.servers import http_server, serve_script

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
QUICKSTART = ROOT / "examples" / "acontext_sdk_quickstart.py"
WALK = ROOT / "tests" / "sdk" / "walk.py"
BAD_INPUT = ROOT / "tests" / "sdk" / "bad_input.py"
VERSIONS = ["0.0.7", "0.1.22"]

# The seed README's sample output of its task example (the scripted task agent below answers it).
SEED_TASKS = [
    "Search for the latest news about iPhone 15 Pro Max and report findings to the user before any landing page "
    "coding.",
    "Initialize a Next.js project for the iPhone 15 Pro Max landing page.",
    "Deploy the completed landing page to the website.",
]
SEED_PROGRESSES = [
    "I confirmed that the first step will be reporting before moving on to landing page development.",
    "I have already collected all the iPhone 15 pro max info and reported to the user, waiting for approval for "
    "next step.",
]
SEED_PREFERENCE = "user expects a report on latest news about iPhone 15 pro max before any coding work on the " \
                  "landing page."
SEED_OUTPUT = f"""
Task #1:
  ID: {{id1}}
  Title: {SEED_TASKS[0]}
  Status: success
  Progress updates: 2
    - {SEED_PROGRESSES[0]}
    - {SEED_PROGRESSES[1]}
  User preferences:
    - {SEED_PREFERENCE}

Task #2:
  ID: {{id2}}
  Title: {SEED_TASKS[1]}
  Status: pending

Task #3:
  ID: {{id3}}
  Title: {SEED_TASKS[2]}
  Status: pending
"""
SCRIPT: list[list[tuple[str, dict[str, Any]]]] = [
    [("insert_task", {"after_task_order": i, "task_description": d}) for i, d in enumerate(SEED_TASKS)],
    [
        ("update_task", {"task_order": 1, "status": "success", "task_description": None}),
        *[("append_task_progress", {"task_order": 1, "progress": p}) for p in SEED_PROGRESSES],
        ("append_user_preference", {"task_order": 1, "preference": SEED_PREFERENCE}),
    ],
    [("finish", {})],
]


def responder(request: dict[str, Any]) -> Reply:
    """The task agent (a request with tools) gets the seed's tasks, turn by turn; a chat gets a greeting."""
    if not request.get("tools"):
        return assistant("I'm doing well, thanks for asking!")
    turn = sum(1 for m in request["messages"] if m["role"] == "assistant")
    return assistant(None, SCRIPT[min(turn, len(SCRIPT) - 1)])


def sdk_python(version: str) -> Path:
    python = ROOT / f".venv-acontext-{version}" / "bin" / "python"
    if not python.exists():
        reason = f"no venv for acontext=={version}: run scripts/sdk-venvs (scripts/test does)"
        if os.environ.get("ACONTEXT_REQUIRE_SDK") == "1":  # set by .ci/run: CI must run these
            pytest.fail(f"ACONTEXT_REQUIRE_SDK=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return python


def run_in_sdk(version: str, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run([str(sdk_python(version)), *args], capture_output=True, text=True, timeout=300,
                            env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


@pytest.mark.parametrize("version", VERSIONS)
def test_seed_quickstart_prints_what_the_seed_says(tmp_path: Path, version: str) -> None:
    with ScriptedOpenAI(responder) as fake:
        llm = {"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "test-key"}
        with serve_script(tmp_path / "data", **llm) as server:
            base_url = f"http://localhost:{server.port}/api/v1"
            out = run_in_sdk(version, str(QUICKSTART),
                             env={"PATH": "/usr/bin:/bin", "ACONTEXT_BASE_URL": base_url, **llm})
    assert out.startswith("I'm doing well, thanks for asking!\n")
    assert "✓ File content: # Sprint Plan\n\n## Goals\n- Complete user authentication\n- Fix critical bugs\n" in out
    assert f"✓ Download URL: http://127.0.0.1:{server.port}/artifacts/" in out
    ids = [line.split("ID: ")[1] for line in out.splitlines() if line.startswith("  ID: ")]
    assert SEED_OUTPUT.format(id1=ids[0], id2=ids[1], id3=ids[2]) in out
    if version == "0.0.7":
        assert "Created Space: " in out and "Found 0 skills" in out


@pytest.mark.parametrize("version", VERSIONS)
def test_walk_every_sdk_method(tmp_path: Path, version: str) -> None:
    with ScriptedOpenAI(responder) as fake, http_server(
        tmp_path / "data", OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY="test-key"
    ) as server:
        out = run_in_sdk(version, str(WALK), f"http://localhost:{server.port}/api/v1", "any-bearer")
    results = json.loads(out)
    for mode in ("sync", "async"):
        outcomes = results[mode]
        failed = {name: outcome for name, outcome in outcomes.items() if outcome.startswith("FAIL")}
        assert not failed, f"{mode}: {failed}"
        # What answers 501 is exactly the families this server lacks, each saying which.
        reasons = {reason for _, _, reason in NOT_YET}
        for name, outcome in outcomes.items():
            if outcome.startswith("501"):
                assert outcome.removeprefix("501: ") in reasons, (name, outcome)
        working = sorted(name for name, outcome in outcomes.items() if outcome == "ok")
        print(f"acontext=={version} {mode}: {len(working)} methods work, "
              f"{len(outcomes) - len(working)} answer 501")
    assert results["sync"] == results["async"]
    if version == "0.0.7":
        assert {k for k, v in results["sync"].items() if v != "ok"} == {"tools.get_tool_name", "tools.rename_tool_name"}


@pytest.mark.parametrize("version", VERSIONS)
def test_bad_input_through_the_sdk(tmp_path: Path, version: str) -> None:
    limits = {"ACONTEXT_MAX_MESSAGE_BYTES": "4000", "ACONTEXT_MAX_ARTIFACT_BYTES": "4000"}
    with http_server(tmp_path / "data", ACONTEXT_MCP_TOKENS="tok-a=alpha,tok-b=beta", **limits) as server:
        out = json.loads(run_in_sdk(version, str(BAD_INPUT), f"http://localhost:{server.port}/api/v1"))
    written = out.pop("written")
    expected = {
        "bad_token": (401, "not one this server accepts"),
        "unknown_session": (404, "session 'no-such-session' not found"),
        "unknown_disk": (404, "disk 'no-such-disk' not found"),
        "bad_format": (400, "unknown format 'yaml'"),
        "bad_message": (400, "content"),
        "orphan_tool_result": (400, "tool_call_id"),
        "big_message": (413, "over the limit of 4000 bytes"),
        "big_artifact": (413, "over the limit of 4000 bytes"),
        "big_body": (413, "over this server's limit"),
        "bad_path": (400, "file_path"),
        "other_tenant_messages": (404, "not found"),
        "other_tenant_store": (404, "not found"),
        "other_tenant_delete": (404, "not found"),
        "other_tenant_artifact": (404, "not found"),
        "other_tenant_disk_delete": (404, "not found"),
    }
    for case, (status, fragment) in expected.items():
        assert out[case][0] == status and fragment in out[case][1], (case, out[case])
    assert written == {"messages": ["hello"], "artifacts": ["a.md"], "b_sessions": 0, "b_disks": 0}
