"""Install and start, as a new user meets them: not a CI suite (it installs), run by hand and recorded in the README.

`python -m benchmarks.install [--installer pip|uv] [--keep]` clones this checkout's HEAD into a temporary folder,
then times, each to a healthy `/health`:
- the first `scripts/serve` (a fresh `.venv`, the runtime install, the demo loaded, HTTP up);
- a warm `scripts/serve` (the same checkout again: no install, the demo already there);
and how long a busy port and an unusable data dir take to fail (one line, exit 1). Prints benchmark rows.
Goals (issue 20): first start < 90 s, warm start < 3 s, each failure < 1 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.__main__ import machine
from benchmarks.table import Row

ROOT = Path(__file__).parents[1]
HEALTH_DEADLINE_S = 900.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def start_to_healthy(checkout: Path, data_dir: Path, env: dict[str, str]) -> float:
    """Seconds from running `scripts/serve` to its `/health` answering; the server is stopped afterwards."""
    port = free_port()
    began = time.perf_counter()
    server = subprocess.Popen([str(checkout / "scripts" / "serve"), "--port", str(port)],
                              env={**env, "ACONTEXT_MCP_HOME": str(data_dir)}, cwd=checkout,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        while not healthy(port):
            if server.poll() is not None:
                raise RuntimeError(f"scripts/serve exited {server.returncode}: {server.stderr.read()[-2000:]!r}")
            if time.perf_counter() - began > HEALTH_DEADLINE_S:
                raise RuntimeError("scripts/serve was not healthy in time")
            time.sleep(0.05)  # polling a readiness probe, the way a user's browser would retry
        return time.perf_counter() - began
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=60)


def time_to_fail(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    """Seconds until `command` exits, and its stderr; it must fail (exit 1) in one line."""
    began = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    took = time.perf_counter() - began
    lines = result.stderr.strip().splitlines()
    if result.returncode != 1 or len(lines) != 1:
        raise RuntimeError(f"{command[0]} exited {result.returncode} with {result.stderr!r}")
    return took, lines[0]


def run(installer: str, keep: bool) -> list[Row]:
    base = Path(tempfile.mkdtemp(prefix="acontext-install-"))
    checkout = base / "acontext-mcp"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(checkout)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACONTEXT_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env |= {"ACONTEXT_EMBEDDING": "none", "ACONTEXT_INSTALLER": installer}
    rows: list[Row] = []
    try:
        first = start_to_healthy(checkout, base / "data", env)
        rows.append(Row(f"first scripts/serve, fresh clone and venv ({installer})", "to healthy", first, "s",
                        "< 90 s", first < 90))
        venv_mb = sum(f.stat().st_size for f in (checkout / ".venv").rglob("*") if f.is_file()) / 2**20
        rows.append(Row(f"first scripts/serve, fresh clone and venv ({installer})", ".venv size", venv_mb, "MB"))
        warm = start_to_healthy(checkout, base / "data", env)
        rows.append(Row("warm scripts/serve (nothing changed)", "to healthy", warm, "s", "< 3 s", warm < 3))
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            port = str(holder.getsockname()[1])
            busy = {"scripts/serve": [str(checkout / "scripts" / "serve"), "--port", port],
                    "acontext-mcp serve": [str(checkout / ".venv" / "bin" / "acontext-mcp"), "serve", "--transport",
                                           "http", "--port", port]}
            for name, command in busy.items():
                took, _ = time_to_fail(command, {**env, "ACONTEXT_MCP_HOME": str(base / "busy")}, checkout)
                rows.append(Row(f"{name} on a busy port", "to the error", took, "s", "< 1 s", took < 1))
        blocker = base / "a-file"
        blocker.write_text("not a folder")
        for name, command in {"scripts/serve": [str(checkout / "scripts" / "serve"), "--port", str(free_port())],
                              "acontext-mcp serve": [str(checkout / ".venv" / "bin" / "acontext-mcp"), "serve"]
                              }.items():
            took, _ = time_to_fail(command, {**env, "ACONTEXT_MCP_HOME": str(blocker)}, checkout)
            rows.append(Row(f"{name} on a data dir that is a file", "to the error", took, "s", "< 1 s", took < 1))
    finally:
        if not keep:
            shutil.rmtree(base, ignore_errors=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.install", description=__doc__)
    parser.add_argument("--installer", choices=["pip", "uv"], default="pip",
                        help="what scripts/bootstrap fills the fresh venv with (ACONTEXT_INSTALLER)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary clone")
    args = parser.parse_args()
    rows = run(args.installer, args.keep)
    print(f"Machine: {machine()}\n\n| benchmark | metric | value | goal | met |\n|---|---|---|---|---|")
    for row in rows:
        print(row.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
