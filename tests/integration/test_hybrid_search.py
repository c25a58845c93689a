"""Hybrid search end to end: LanceDB's `openai` embedder against the scripted embeddings endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mcp import Client

from acontext_mcp import Settings
from acontext_mcp.server import build_server
from tests.fakes.openai_server import ScriptedOpenAI
from tests.support.mcp import call
from tests.support.sops import SOPS, seed_over_mcp

pytestmark = pytest.mark.anyio


@pytest.fixture
def fake_openai() -> Iterator[ScriptedOpenAI]:
    with ScriptedOpenAI() as fake:
        # Words the fake embedder treats as meaning the same: vectors can match where BM25 cannot.
        fake.synonyms = {"favourite": "star", "bookmark": "star", "project": "repository", "codebase": "repository"}
        yield fake


def with_embedder(settings: Settings, fake: ScriptedOpenAI, **extra: str) -> Settings:
    """The `openai` embedder (the real `openai` client) on the endpoint and key the LLM settings name."""
    return Settings(**{**settings.model_dump(), "embedding": "openai", "openai_base_url": fake.base_url,
                       "openai_api_key": "test-key", **extra})


async def seed(client: Client, sops: int = 6) -> str:
    sid = (await call(client, "create_space"))["id"]
    await seed_over_mcp(client, sid, SOPS[:sops])
    return sid


async def search(client: Client, sid: str, query: str) -> list[str]:
    found = await call(client, "experience_search", space_id=sid, query=query, limit=3)
    return [block["title"] for block in found["cited_blocks"]]


async def test_hybrid_finds_what_bm25_cannot(settings: Settings, fake_openai: ScriptedOpenAI) -> None:
    hybrid = with_embedder(settings, fake_openai, embedding_model="text-embedding-3-small")
    query = "favourite this codebase"  # no word in common with any SOP
    async with Client(build_server(hybrid)) as client:
        sid = await seed(client)
        other = await seed(client, sops=1)  # another space with the same SOP: never in sid's results
        found = await call(client, "experience_search", space_id=sid, query=query, limit=3)
        assert found["cited_blocks"][0]["title"] == "Star a repository"
        assert all(0 < b["score"] < 1 for b in found["cited_blocks"])  # reciprocal rank fusion scores
        assert (await search(client, sid, "open a PR for my branch"))[0] == "Create a pull request"
        ids = {e["id"] for e in (await call(client, "list_space", space_id=other))["entries"]}
        assert not ids & {b["block_id"] for b in found["cited_blocks"]}
    embedded = [text for body in fake_openai.embedding_requests for text in body["input"]]
    assert query in embedded  # the query was embedded, and so was every SOP
    assert any("the user wants to star a GitHub repository" in text for text in embedded)  # a SOP by its head
    assert {body["model"] for body in fake_openai.embedding_requests} == {"text-embedding-3-small"}

    # The same data without an embedder: the index is rebuilt for BM25 alone, which finds nothing here.
    async with Client(build_server(settings)) as client:
        assert await search(client, sid, query) == []
        assert (await search(client, sid, "open a PR for my branch"))[0] == "Create a pull request"


@pytest.mark.slow  # seconds: LanceDB's embedder backs off between retries before the error
async def test_a_failing_embedder_gives_a_clear_error_and_keeps_the_data(
    settings: Settings, fake_openai: ScriptedOpenAI
) -> None:
    hybrid = with_embedder(settings, fake_openai)
    async with Client(build_server(hybrid)) as client:
        sid = await seed(client, sops=1)
        fake_openai.synonyms = {}
        # The embeddings endpoint goes away: writes still land in SQLite, searches say what failed.
        fake_openai.__exit__()
        block = await call(client, "create_block", space_id=sid, parent_path="/github/GTM", type="text",
                           title="note", data={"text": "kept"})
        assert (await call(client, "get_block", space_id=sid, block_id=block["id"]))["data"] == {"text": "kept"}
        from tests.support.mcp import call_error

        error = await call_error(client, "experience_search", space_id=sid, query="star")
        assert "search failed" in error and "ACONTEXT_EMBEDDING" in error
        assert "rebuilding the index failed" in await call_error(client, "rebuild_search_index")
