"""`acontext-mcp hook claude-code`: the command Claude Code runs on its hook events.

It reads the event's JSON on stdin and posts it to a running acontext-mcp HTTP server
(`POST /hooks/claude-code`), which stores the transcript's new lines in the background (Stop,
SubagentStop, PreCompact, SessionEnd) or answers with what was learned (SessionStart; printed,
so Claude Code adds it to the model's context). Standard library only, so it starts fast; it
never fails the host: any problem (the server down, bad input) is logged to a file and it exits
0, and the lines not stored are picked up by the next event.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_URL = "http://127.0.0.1:8029"
ROUTE = "/hooks/claude-code"
TOKEN_ENV = "ACONTEXT_MCP_TOKEN"  # the server's token setting (settings.py `token`); a test checks they agree
MAX_INPUT_BYTES = 1024 * 1024
STORE_EVENTS = frozenset({"Stop", "SubagentStop", "PreCompact", "SessionEnd"})
EVENTS = ("SessionStart", *sorted(STORE_EVENTS))


def default_log() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state) / "acontext-mcp" / "hook.log"


def parser() -> argparse.ArgumentParser:
    """The hook's options (also shown by `acontext-mcp hook --help`)."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("host", choices=["claude-code"], help="the host whose hook event is on stdin")
    options.add_argument("--url", default=DEFAULT_URL, help=f"the acontext-mcp HTTP server (default {DEFAULT_URL})")
    options.add_argument("--space", help="space (name or id) to attach new sessions to and read skills from")
    options.add_argument("--log", type=Path, help="log file (default $XDG_STATE_HOME/acontext-mcp/hook.log)")
    options.add_argument("--timeout", type=float, default=2.0,
                         help="seconds to wait for the server (default 2; storing goes on in the server)")
    return options


def main(argv: Sequence[str]) -> int:
    """Run the hook; always 0, whatever happens (the host must never be broken by it)."""
    started = time.monotonic()
    try:
        args = argparse.ArgumentParser(prog="acontext-mcp hook", parents=[parser()]).parse_args(argv)
    except SystemExit:
        return 0
    log_path = args.log or default_log()
    event = "?"
    try:
        payload = json.loads(sys.stdin.buffer.read(MAX_INPUT_BYTES) or b"{}")
        if not isinstance(payload, dict):
            raise ValueError("the hook input is not a JSON object")
        event = str(payload.get("hook_event_name", "?"))
        if event not in EVENTS:
            return 0
        if args.space:
            payload["space"] = args.space
        status, body = _post(args.url, payload, args.timeout)
        if event == "SessionStart" and status == 200 and body.strip():
            sys.stdout.write(body.decode("utf-8", "replace").rstrip() + "\n")
        elif status >= 400:
            raise RuntimeError(f"the server answered {status}: {body[:300].decode('utf-8', 'replace')}")
        _log(log_path, f"{event} ok {status} in {1000 * (time.monotonic() - started):.0f} ms")
    except Exception as exc:  # noqa: BLE001 - a hook reports by logging, never to the host
        _log(log_path, f"{event} failed after {1000 * (time.monotonic() - started):.0f} ms: "
             f"{type(exc).__name__}: {exc}")
    return 0


def _post(url: str, payload: dict[str, Any], timeout: float) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if token := os.environ.get(TOKEN_ENV):
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request("POST", parts.path.rstrip("/") + ROUTE, json.dumps(payload).encode(), headers)
        response = connection.getresponse()
        return response.status, response.read(64 * 1024)
    finally:
        connection.close()


def _log(path: Path, line: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as file:
            file.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")
    except OSError:
        pass
