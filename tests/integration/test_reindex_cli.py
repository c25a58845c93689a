"""`acontext-mcp reindex`: rebuild the search index from SQLite with the installed command."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from acontext_mcp import Container, Settings
from tests.support.servers import COMMAND, server_env
from tests.support.sops import SOPS, seed

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def reindex(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COMMAND, "reindex", *args], env=server_env(data_dir, **(env or {})), capture_output=True,
                          text=True, timeout=60)


async def test_reindex_restores_a_deleted_index(settings: Settings, data_dir: Path,
                                                database_env: dict[str, str]) -> None:
    async with Container.open(settings) as service:
        space = await service.spaces.create_space()
        await seed(service.spaces, space.id, SOPS[:4])
        await service.index.settle()  # what the background worker does a moment later
    shutil.rmtree(settings.search_index_uri)

    done = reindex(data_dir, env=database_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{settings.search_index_uri}: indexed 6 blocks"  # 4 SOPs and 2 pages
    assert Path(settings.search_index_uri).is_dir()
    one = reindex(data_dir, "--space", space.id, env=database_env)
    assert one.stdout.strip().endswith(f"indexed 6 blocks of space {space.id}")

    async with Container.open(settings) as service:
        found = await service.search.experience_search(space.id, "open a PR for my branch")
        assert found.cited_blocks[0].title == "Create a pull request"


def test_reindex_of_an_unknown_space_fails_clearly(data_dir: Path) -> None:
    done = reindex(data_dir, "--space", "missing")
    assert done.returncode == 1
    assert "space 'missing' not found" in done.stderr
