"""The Acontext REST API against MCP, on one served process in one run: `store_message` through the official
`acontext` SDK (its own venv, see scripts/sdk-venvs) against `send_message` through an MCP client over
streamable HTTP, one caller at a time, the same messages; and how many SDK methods work per generation
(tests/sdk/walk.py, sync client)."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import anyio

from benchmarks.messages import _rows, conversation_message, over_mcp
from benchmarks.table import Row
from tests.fakes.openai_server import ScriptedOpenAI, assistant
from tests.support.servers import http_server

ROOT = Path(__file__).parents[1]
VERSIONS = ("0.0.7", "0.1.22")


def sdk_python(version: str) -> Path:
    python = ROOT / f".venv-acontext-{version}" / "bin" / "python"
    if not python.exists():
        raise SystemExit(f"no venv for acontext=={version}: run scripts/sdk-venvs first")
    return python


def sdk_store(version: str, base_url: str, count: int, scratch: Path) -> list[Row]:
    messages = scratch / "messages.json"
    messages.write_text(json.dumps([conversation_message(i) for i in range(count)]))
    out = subprocess.run([str(sdk_python(version)), str(ROOT / "benchmarks" / "sdk_store.py"), base_url,
                          str(messages)], capture_output=True, text=True, check=True, timeout=600).stdout
    result = json.loads(out)
    name = "store_message" if version != "0.0.7" else "send_message"
    return _rows(f"{name} via acontext SDK {version} (REST), 1 client", result["sent"], result["seconds"],
                 result["latencies"], None)


def methods(version: str, base_url: str) -> Row:
    out = subprocess.run([str(sdk_python(version)), str(ROOT / "tests" / "sdk" / "walk.py"), base_url, "bench"],
                         capture_output=True, text=True, check=True, timeout=600).stdout
    outcomes = json.loads(out)["sync"]
    working = sum(1 for outcome in outcomes.values() if outcome == "ok")
    return Row(f"acontext SDK {version} methods", f"working (of {len(outcomes)}; the rest answer 501)",
               working, "methods")


def run(quick: bool = False) -> list[Row]:
    count = 100 if quick else 500
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp, ScriptedOpenAI(lambda _: assistant(None, [("finish", {})])) as fake, \
            http_server(Path(tmp) / "data", OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY="bench") as server:
        base_url = f"http://localhost:{server.port}/api/v1"
        rows += anyio.run(over_mcp, lambda: server.mcp_url, "via MCP streamable HTTP", 1, count, None)
        for version in VERSIONS:
            rows += sdk_store(version, base_url, count, Path(tmp))
        rows += [methods(version, base_url) for version in VERSIONS]
    return rows
