"""Capture: the Claude Code hook's latency per turn, and the import rate of a 10,000-line transcript.

Run with `python -m benchmarks --only capture`. Transcripts are made from the real CLI's transcript
(tests/unit/formats/data), its first turn repeated with fresh ids: 33 lines a turn, most of them
bookkeeping, as Claude Code writes them.

- hook: wall time of `acontext-mcp hook claude-code` (a fresh process, as Claude Code runs it)
  for a Stop event after each new turn, against a running HTTP server; of it, the time spent
  posting (from the hook's log); beside it, a bare `python -c pass` run right after each hook
  (same load: the server is storing the turn meanwhile), the floor any Python hook pays.
- import: lines per second through the capture service (parse + store, SQLite); beside it,
  the parser alone on the same bytes.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio

from benchmarks.table import Row, percentile

COMMAND = str(Path(sys.executable).parent / "acontext-mcp")
FIXTURE = Path(__file__).parents[1] / "tests" / "unit" / "formats" / "data" / "claude_code_2.1.328.jsonl"
FIRST_TURN = slice(2, 35)  # the first prompt to its cost line


def turn_lines(number: int) -> list[bytes]:
    """The fixture's first turn with every message and tool call id made unique to `number`."""
    lines = FIXTURE.read_bytes().splitlines(keepends=True)[FIRST_TURN]
    text = b"".join(lines).decode()
    ids = set()
    for line in lines:
        entry = json.loads(line)
        message = entry.get("message") or {}
        if entry.get("type") == "assistant":
            ids.add(message["id"])
            ids |= {block["id"] for block in message["content"] if block["type"] == "tool_use"}
    for old in ids:
        text = text.replace(old, f"{old[:-8]}{number:08d}")
    return text.encode().splitlines(keepends=True)


def transcript_of(lines: int) -> bytes:
    out: list[bytes] = []
    number = 0
    while len(out) < lines:
        out += turn_lines(number)
        number += 1
    return b"".join(out[:lines])


def hook_rows(turns: int) -> list[Row]:
    from tests.support.servers import http_server

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = root / "projects" / "p" / "bench-session.jsonl"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"")
        floor, seconds = [], []
        with http_server(root / "data") as server:
            event = json.dumps({"hook_event_name": "Stop", "session_id": "bench-session", "transcript_path": str(path),
                                "cwd": tmp})
            for number in range(turns):
                with path.open("ab") as file:
                    file.write(b"".join(turn_lines(number)))
                start = time.perf_counter()
                subprocess.run([COMMAND, "hook", "claude-code", "--url", server.base_url, "--log",
                                str(root / "hook.log")], input=event.encode(), check=True)
                seconds.append(time.perf_counter() - start)
                start = time.perf_counter()  # the floor, under the same load (the server storing the turn)
                subprocess.run([sys.executable, "-c", "pass"], check=True)
                floor.append(time.perf_counter() - start)
        log = (root / "hook.log").read_text()
        assert log.count("Stop ok 202") == turns, log[-500:]
        posting = [float(line.rsplit(" in ", 1)[1].split()[0]) / 1000 for line in log.splitlines()]
    return [
        Row("claude-code hook", "Stop, per turn (p50)", statistics.median(seconds) * 1000, "ms", "< 300 ms",
            statistics.median(seconds) < 0.3),
        Row("claude-code hook", "Stop, per turn (p95)", percentile(seconds, 95) * 1000, "ms", "< 300 ms",
            percentile(seconds, 95) < 0.3),
        Row("claude-code hook", "of which: posting the event (p50)", statistics.median(posting) * 1000, "ms"),
        Row("claude-code hook", "baseline: `python -c pass` (p50)", statistics.median(floor) * 1000, "ms"),
    ]


def import_rows(lines: int) -> list[Row]:
    from acontext_mcp import Container, Settings
    from acontext_mcp.formats.claude_code import parse_transcript

    data = transcript_of(lines)
    start = time.perf_counter()
    parsed = parse_transcript(data, final=True)
    parse_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.jsonl"
        path.write_bytes(data)

        async def store() -> int:
            async with Container.open(Settings(data_dir=Path(tmp) / "data"), background=False) as service:
                done = await service.capture.capture_claude_code(path, final=True, source="import", strict=True)
                return done.messages

        start = time.perf_counter()
        stored = anyio.run(store)
        import_s = time.perf_counter() - start
    assert stored == len(parsed.messages), (stored, len(parsed.messages))
    return [
        Row("claude-code import", f"{lines:,} lines ({stored:,} messages), stored", lines / import_s, "lines/s"),
        Row("claude-code import", "baseline: parsing alone", lines / parse_s, "lines/s"),
    ]


def run(quick: bool = False) -> list[Row]:
    return hook_rows(5 if quick else 30) + import_rows(2000 if quick else 10_000)
