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
import json
import os
import socket
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
    """POST `payload` as JSON; the status and (up to 64 KiB of) the body. Plain HTTP/1.1 over a socket:
    http.client's imports alone would cost a hook more than the request does."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    host, port = parts.hostname or "127.0.0.1", parts.port or (443 if secure else 80)
    body = json.dumps(payload).encode()
    head = [f"POST {parts.path.rstrip('/')}{ROUTE} HTTP/1.1", f"Host: {host}:{port}",
            "Content-Type: application/json", f"Content-Length: {len(body)}", "Connection: close"]
    if token := os.environ.get(TOKEN_ENV):
        head.append(f"Authorization: Bearer {token}")
    with socket.create_connection((host, port), timeout=timeout) as raw:
        sock = raw
        if secure:
            import ssl

            sock = ssl.create_default_context().wrap_socket(raw, server_hostname=host)
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        return _response(sock)


def _response(sock: socket.socket, limit: int = 64 * 1024) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < limit:
        if not (chunk := sock.recv(65536)):
            break
        data += chunk
    header, _, rest = data.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    fields = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    length = min(int(fields.get("content-length", limit)), limit)
    while len(rest) < length:  # the server may keep working after the body (background storing): stop at its end
        if not (chunk := sock.recv(65536)):
            break
        rest += chunk
    return status, rest[:length]


def _log(path: Path, line: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as file:
            file.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")
    except OSError:
        pass
