"""The `acontext-mcp` command line, run as the installed console script."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from acontext_mcp import __version__
from tests.support.servers import (
    COMMAND,
    SERVE_SCRIPT,
    free_port,
    serve_script,
    server_env,
    start_command_checkout,
)

pytestmark = pytest.mark.slow


def run(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COMMAND, *args], env=server_env(data_dir, **env), capture_output=True, text=True, timeout=60)


def test_version(tmp_path: Path) -> None:
    result = run("--version", data_dir=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"acontext-mcp {__version__}"


def test_help_documents_every_flag_and_its_env_var(tmp_path: Path) -> None:
    result = run("serve", "--help", data_dir=tmp_path)
    assert result.returncode == 0
    for flag in ("--transport", "--host", "--port", "--data-dir", "--log-level"):
        assert flag in result.stdout
    for env in ("ACONTEXT_MCP_HOME", "ACONTEXT_MCP_TRANSPORT", "ACONTEXT_MCP_PORT"):
        assert env in result.stdout


def test_migrate_creates_then_reports_up_to_date(tmp_path: Path) -> None:
    data_dir = tmp_path / "flagged"
    first = run("migrate", "--data-dir", str(data_dir), data_dir=tmp_path / "from-env")
    assert first.returncode == 0, first.stderr
    assert "applied 1 sessions_and_messages" in first.stdout
    assert (data_dir / "acontext.db").is_file()
    assert not (tmp_path / "from-env").exists()  # the flag wins over ACONTEXT_MCP_HOME
    second = run("migrate", "--data-dir", str(data_dir), data_dir=tmp_path)
    assert second.returncode == 0 and "up to date" in second.stdout


def test_bad_settings_exit_2_with_a_clear_message(tmp_path: Path) -> None:
    result = run("serve", data_dir=tmp_path, ACONTEXT_MCP_PORT="not-a-port")
    assert result.returncode == 2
    assert "invalid setting port" in result.stderr
    assert not (tmp_path / "acontext.db").exists()


def test_a_database_url_that_is_not_postgresql_is_refused(tmp_path: Path) -> None:
    result = run("migrate", data_dir=tmp_path, ACONTEXT_DATABASE_URL="mysql://root@db/acontext")
    assert result.returncode == 2
    assert "ACONTEXT_DATABASE_URL must be a postgresql:// URL" in result.stderr
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_an_unreachable_database_fails_clearly_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql://acx:s3cret@127.0.0.1:{free_port()}/acontext"
    result = run("migrate", data_dir=tmp_path, ACONTEXT_DATABASE_URL=url)
    assert result.returncode == 1
    assert result.stderr.startswith("acontext-mcp: cannot open the database postgresql://acx:***@127.0.0.1:")
    assert "s3cret" not in result.stderr and "Traceback" not in result.stderr


def test_over_stdio_an_unreachable_database_answers_each_call_with_why(tmp_path: Path) -> None:
    """The container opens after the handshake (glue.opening); a failure to open is logged in one line and
    answers each call, without the password."""
    url = f"postgresql://acx:s3cret@127.0.0.1:{free_port()}/acontext"
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}}
    create = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "create_session", "arguments": {}}}
    with subprocess.Popen([COMMAND], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=server_env(tmp_path, ACONTEXT_DATABASE_URL=url)) as server:
        assert server.stdin and server.stdout and server.stderr
        answers = []
        for request in (initialize, create):
            server.stdin.write((json.dumps(request) + "\n").encode())
            server.stdin.flush()
            answers.append(json.loads(server.stdout.readline()))
        server.stdin.close()
        assert server.wait(timeout=60) == 0
        errors = server.stderr.read().decode()
    assert answers[0]["result"]["serverInfo"]["name"] == "acontext-mcp"
    assert answers[1]["error"]["message"].startswith("cannot open the database postgresql://acx:***@127.0.0.1:")
    assert errors.count("cannot open the database postgresql://acx:***@127.0.0.1:") == 1, errors
    assert "s3cret" not in errors + json.dumps(answers) and "Traceback" not in errors


def test_serve_script_keeps_http_when_given_flags(tmp_path: Path) -> None:
    """`scripts/serve --port N` (the README's start command plus a flag) still serves HTTP."""
    with serve_script(tmp_path / "data") as server:  # serve_script passes --port N
        assert httpx.get(f"{server.base_url}/health").status_code == 200


def test_a_busy_port_fails_in_one_line_before_the_demo_is_loaded(tmp_path: Path) -> None:
    """`scripts/serve` on a port another server holds: one clear line, exit 1, and no demo written to the data dir."""
    data_dir = tmp_path / "data"
    serve = start_command_checkout(tmp_path / "checkout")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run([str(serve), "--port", str(port)], env=server_env(data_dir), capture_output=True,
                                text=True, timeout=120)
        direct = run("serve", "--transport", "http", "--port", str(port), data_dir=data_dir)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == (f"acontext-mcp: cannot listen on 127.0.0.1:{port}: already in use; stop what "
                                     "holds it, or pick another port with --port N (env ACONTEXT_MCP_PORT)")
    assert not data_dir.exists() or not any(data_dir.iterdir()), "the demo was loaded before the port was checked"
    assert direct.returncode == 1 and direct.stderr.strip() == result.stderr.strip()


@pytest.mark.parametrize("kind", ["a file", "under a file", "read-only"])
def test_an_unusable_data_dir_fails_in_one_line_before_the_demo_is_loaded(tmp_path: Path, kind: str) -> None:
    """`scripts/serve` and `acontext-mcp serve` on a data dir that cannot hold data: one line naming it, exit 1."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    reasons = {"a file": (blocker, "it is a file, not a folder"),
               "under a file": (blocker / "data", "a folder on its path is a file"),
               "read-only": (tmp_path / "locked" / "data", "Permission denied")}
    data_dir, reason = reasons[kind]
    if kind == "read-only":
        if os.geteuid() == 0:
            pytest.skip("root writes into a read-only folder")
        data_dir.parent.mkdir(mode=0o500)
    serve = start_command_checkout(tmp_path / "checkout")
    port = str(free_port())
    try:
        script = subprocess.run([str(serve), "--port", port, "--data-dir", str(data_dir)], env=server_env(data_dir),
                                capture_output=True, text=True, timeout=120)
        direct = run("serve", "--transport", "http", "--port", port, "--data-dir", str(data_dir), data_dir=data_dir)
        stdio = run("serve", "--transport", "stdio", data_dir=data_dir)
    finally:
        data_dir.parent.chmod(0o700)
    line = (f"acontext-mcp: cannot use the data dir {data_dir}: {reason}; fix it, or pick another with "
            "--data-dir DIR (env ACONTEXT_MCP_HOME)")
    for result in (script, direct, stdio):
        assert (result.returncode, result.stderr.strip()) == (1, line)
    assert blocker.read_text() == "not a folder"


def _bootstrap_checkout(root: Path) -> tuple[Path, Path]:
    """A checkout holding the real scripts/bootstrap and pyproject.toml, whose `.venv/bin/python` and `.venv/bin/uv`
    only log their arguments (installing is outside what this tests); returns the bootstrap script and the log."""
    (root / "scripts").mkdir(parents=True)
    (root / ".venv" / "bin").mkdir(parents=True)
    bootstrap = Path(shutil.copy2(SERVE_SCRIPT.parent / "bootstrap", root / "scripts" / "bootstrap"))
    shutil.copy2(SERVE_SCRIPT.parents[1] / "pyproject.toml", root / "pyproject.toml")
    log = root / "pip.log"
    python = root / ".venv" / "bin" / "python"
    python.write_text(f'#!/bin/sh\n[ "$1" = - ] && exit 0\necho "$*" >> "{log}"\n')  # `-`: a script on stdin
    uv = root / ".venv" / "bin" / "uv"
    uv.write_text(f'#!/bin/sh\necho "uv $*" >> "{log}"\n')
    python.chmod(0o755)
    uv.chmod(0o755)
    return bootstrap, log


def test_bootstrap_fills_the_venv_with_uv_unless_told_pip(tmp_path: Path) -> None:
    bootstrap, log = _bootstrap_checkout(tmp_path)
    subprocess.run([str(bootstrap), "--runtime"], check=True, timeout=60,
                   env={k: v for k, v in os.environ.items() if k != "ACONTEXT_INSTALLER"})
    calls = log.read_text().splitlines()
    assert len(calls) == 1 and calls[0].startswith("uv pip install ") and calls[0].endswith("-e .[embed]")
    assert "--python .venv/bin/python" in calls[0]


def test_bootstrap_installs_once_and_serving_skips_the_dev_extras(tmp_path: Path) -> None:
    bootstrap, log = _bootstrap_checkout(tmp_path)

    def pip_calls(*args: str) -> list[str]:
        before = log.read_text().splitlines() if log.exists() else []
        subprocess.run([str(bootstrap), *args], check=True, timeout=60,
                       env={**os.environ, "ACONTEXT_INSTALLER": "pip"})
        return (log.read_text().splitlines() if log.exists() else [])[len(before):]

    first = pip_calls("--runtime")
    # Serving gets hybrid search with no configuration: the local embedding model, not the dev extras.
    assert len(first) == 1 and first[0].endswith("-e .[embed]") and "[dev]" not in first[0]
    assert pip_calls("--runtime") == [], "a warm start ran pip"
    assert [call.endswith('-e .[dev]') for call in pip_calls()] == [True]  # tests need the dev extras
    assert pip_calls() == [] and pip_calls("--runtime") == [], "a current dev install serves too"
    with (tmp_path / "pyproject.toml").open("a") as pyproject:
        pyproject.write("\n# a changed dependency\n")
    assert len(pip_calls("--runtime")) == 1, "a changed pyproject.toml did not reinstall"
