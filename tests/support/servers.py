"""Run the installed `acontext-mcp` command as a real server process."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from mcp import StdioServerParameters

COMMAND = str(Path(sys.executable).parent / "acontext-mcp")
SERVE_SCRIPT = Path(__file__).parents[2] / "scripts" / "serve"
# A deadline, not a wait: readiness is polled, so only a server that never comes up costs this long. Generous for a
# loaded 2-core machine; a server process that exits fails at once.
START_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACONTEXT_", "OPENAI_"))}
    # Full-text search only unless a test asks, though the dev install has the `embed` extra (see conftest.py).
    return {**env, "ACONTEXT_MCP_HOME": str(data_dir), "ACONTEXT_EMBEDDING": "none", **extra}


def stdio_params(data_dir: Path, **extra_env: str) -> StdioServerParameters:
    return StdioServerParameters(command=COMMAND, args=[], env=server_env(data_dir, **extra_env))


def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    """Poll `condition()` until it is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


class HttpServer:
    """A running `acontext-mcp serve --transport http` (or `dashboard`) process, ready once `ready_path` answers 200."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path, ready_path: str = "/health") -> None:
        self.process = process
        self.port = port
        self.log = log
        self.ready_path = ready_path
        self.base_url = f"http://127.0.0.1:{port}"
        self.mcp_url = f"{self.base_url}/mcp"
        self.sse_url = f"{self.base_url}/sse"

    def healthy(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"server exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
        try:
            return httpx.get(f"{self.base_url}{self.ready_path}", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def http_server(data_dir: Path, *args: str, **extra_env: str) -> Iterator[HttpServer]:
    with _server(data_dir, ["serve", "--transport", "http", *args], "/health", extra_env) as server:
        yield server


@contextmanager
def dashboard_server(data_dir: Path, *args: str, **extra_env: str) -> Iterator[HttpServer]:
    """`acontext-mcp dashboard`: just the dashboard, as for a stdio deployment."""
    with _server(data_dir, ["dashboard", *args], "/dashboard/static/dashboard.css", extra_env) as server:
        yield server


@contextmanager
def command_server(data_dir: Path, command: str, *args: str) -> Iterator[HttpServer]:
    """Any command serving HTTP with GET /health, given `--port N` after `args` (e.g. the benchmarks' bare server)."""
    with _server(data_dir, list(args), "/health", {}, command) as server:
        yield server


def start_command_checkout(root: Path) -> Path:
    """A checkout at `root` holding a copy of `scripts/serve` whose `scripts/bootstrap` only records that it ran and
    whose `.venv/bin/acontext-mcp` is the installed command; returns the copy's path.

    The start command's own steps (bootstrap first, the demo, HTTP by default) then run without a pip install inside a
    server's start-up deadline; the real bootstrap runs in scripts/test (and so in CI) before any test.
    """
    scripts, venv_bin = root / "scripts", root / ".venv" / "bin"
    scripts.mkdir(parents=True, exist_ok=True)
    venv_bin.mkdir(parents=True, exist_ok=True)
    serve = Path(shutil.copy2(SERVE_SCRIPT, scripts / "serve"))
    bootstrap = scripts / "bootstrap"
    bootstrap.write_text('#!/usr/bin/env bash\ntouch "$(dirname "$0")/../bootstrapped"\n')
    bootstrap.chmod(0o755)
    (venv_bin / "acontext-mcp").symlink_to(COMMAND)
    python = venv_bin / "python"  # a wrapper, not a link: a linked venv python would not find its pyvenv.cfg
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return serve


@contextmanager
def serve_script(data_dir: Path, *args: str, **extra_env: str) -> Iterator[HttpServer]:
    """`scripts/serve`, the README's start command (bootstrap, the demo into an empty data dir, then HTTP), from a
    `start_command_checkout` next to the data dir; asserts the script bootstrapped before it served."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    serve = start_command_checkout(Path(tempfile.mkdtemp(prefix="checkout-", dir=data_dir.parent)))
    with _server(data_dir, list(args), "/health", extra_env, str(serve)) as server:
        assert (serve.parents[1] / "bootstrapped").exists(), "scripts/serve did not run scripts/bootstrap"
        yield server


@contextmanager
def _server(
    data_dir: Path, argv: list[str], ready_path: str, extra_env: dict[str, str], command: str = COMMAND
) -> Iterator[HttpServer]:
    port = free_port()
    log = data_dir.parent / f"server-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [command, *argv, "--port", str(port)],
            env=server_env(data_dir, **extra_env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    server = HttpServer(process, port, log, ready_path)
    try:
        wait_for(server.healthy, timeout=START_TIMEOUT, what=f"the server's {ready_path}")
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
