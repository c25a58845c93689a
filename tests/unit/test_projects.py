"""Multi-tenant settings and plumbing: token=project pairs, the verifier, the current project, migration 7."""

from __future__ import annotations

import re
from pathlib import Path

import anyio
import pytest
from pydantic import ValidationError

from acontext_mcp import Container, NotFound, Settings
from acontext_mcp.auth import StaticTokenVerifier
from acontext_mcp.cli import main
from acontext_mcp.demo import load_demo
from acontext_mcp.projects import current_project, use_project
from acontext_mcp.store.database import utc_now
from acontext_mcp.store.engines import open_database
from acontext_mcp.store.migrations import MIGRATIONS, migrate

pytestmark = pytest.mark.anyio


def test_token_pairs_map_tokens_to_projects() -> None:
    settings = Settings.load({"ACONTEXT_MCP_TOKENS": " tok-a = acme ,tok-b=globex", "ACONTEXT_MCP_TOKEN": "solo"})
    assert settings.project_tokens == {"tok-a": "acme", "tok-b": "globex", "solo": "default"}
    assert Settings.load({"ACONTEXT_MCP_TOKEN": "solo", "ACONTEXT_PROJECT": "mine"}).project_tokens == {"solo": "mine"}
    assert Settings.load({}).project_tokens == {}
    assert "tok-a" not in repr(settings)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("tok-a", "pair 1 is not token=project"),
        ("tok-a=", "pair 1 is not token=project"),
        ("=acme", "pair 1 is not token=project"),
        ("tok-a=acme,", "pair 2 is not token=project"),
        ("tok-a=acme,,tok-b=globex", "pair 2 is not token=project"),
        ("tok-a=acme,tok-a=globex", "pair 2 repeats the token of an earlier pair"),
        ("tok a=acme", "a token has no spaces"),
        (f"tok-a={'p' * 201}", "at most 200 characters"),
    ],
)
def test_malformed_token_pairs_are_refused_without_echoing_tokens(value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as raised:
        Settings.load({"ACONTEXT_MCP_TOKENS": value})
    assert "tok-a" not in raised.value.errors()[0]["msg"]


def test_the_single_token_cannot_also_be_a_project_token() -> None:
    with pytest.raises(ValidationError, match="ACONTEXT_MCP_TOKEN is also listed in ACONTEXT_MCP_TOKENS"):
        Settings.load({"ACONTEXT_MCP_TOKENS": "tok-a=acme", "ACONTEXT_MCP_TOKEN": "tok-a"})


def test_the_cli_names_a_bad_pair_and_exits(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    monkeypatch.setenv("ACONTEXT_MCP_TOKENS", "secret-one=acme,secret-two")
    assert main(["migrate", "--data-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "invalid setting tokens: Value error, pair 2 is not token=project" in error
    assert "secret" not in error
    assert not (tmp_path / "acontext.db").exists()


async def test_the_verifier_names_the_project_of_each_token() -> None:
    verifier = StaticTokenVerifier({"tok-a": "acme", "tok-b": "globex"})
    assert (await verifier.verify_token("tok-b")).client_id == "globex"  # type: ignore[union-attr]
    assert (await verifier.verify_token("tok-a")).client_id == "acme"  # type: ignore[union-attr]
    for wrong in ("tok-c", "tok-", "tok-aa", ""):
        assert await verifier.verify_token(wrong) is None


def test_use_project_nests_and_restores() -> None:
    assert current_project() == "default"
    with use_project("acme"):
        with use_project("globex"):
            assert current_project() == "globex"
        assert current_project() == "acme"
    assert current_project() == "default"


async def test_records_written_before_projects_existed_join_the_default_project(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    now = utc_now()
    async with open_database(settings.database) as db:
        await migrate(db, MIGRATIONS[:6])
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO sessions (id, created_at, updated_at) VALUES ('old-session', ?, ?)",
                             (now, now))
            await tx.execute("INSERT INTO disks (id, created_at) VALUES ('old-disk', ?)", (now,))
            await tx.execute("INSERT INTO spaces (id, created_at, updated_at) VALUES ('old-space', ?, ?)", (now, now))
    async with Container.open(settings, background=False) as service:
        assert [s.id for s in (await service.sessions.list_sessions()).items] == ["old-session"]
        assert [d.id for d in (await service.disks.list_disks()).items] == ["old-disk"]
        assert (await service.spaces.get_space("old-space")).id == "old-space"
        with use_project("acme"):
            assert (await service.sessions.list_sessions()).items == []
            with pytest.raises(NotFound, match="space 'old-space' not found"):
                await service.spaces.get_space("old-space")


def test_the_reindex_command_counts_every_projects_blocks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def seed() -> None:
        async with Container.open(Settings(data_dir=tmp_path), background=False) as service:
            with use_project("acme"):
                await load_demo(service)

    anyio.run(seed)
    assert main(["reindex", "--data-dir", str(tmp_path)]) == 0
    assert re.search(r"indexed [1-9]\d* blocks", capsys.readouterr().out)
