"""The `acontext-mcp` command line, run as the installed console script."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from acontext_mcp import __version__
from tests.support.servers import COMMAND, free_port, serve_script, server_env

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


def test_serve_script_keeps_http_when_given_flags(tmp_path: Path) -> None:
    """`scripts/serve --port N` (the README's start command plus a flag) still serves HTTP."""
    with serve_script(tmp_path / "data") as server:  # serve_script passes --port N
        assert httpx.get(f"{server.base_url}/health").status_code == 200
