"""SearchService: relevance, scoping, the index kept in step with SQLite, repair, and bad queries."""

from __future__ import annotations

import shutil
from collections.abc import Sequence

import pytest

from acontext_mcp import Container, InvalidArgument, NotFound, Settings
from acontext_mcp.queue.leases import Leases
from acontext_mcp.services.spaces.index import SearchIndex
from acontext_mcp.services.spaces.models import Space
from acontext_mcp.services.spaces.search import AGENTIC_FALLBACK_NOTE, SearchService
from acontext_mcp.services.spaces.service import SpaceService
from acontext_mcp.store.vectors import BlockIndex, IndexedBlock
from tests.support.sops import SOPS, Sop, seed

pytestmark = pytest.mark.anyio


@pytest.fixture
async def space(service: Container) -> Space:
    return await service.spaces.create_space("skills")


async def titles(service: Container, space_id: str, query: str, limit: int = 5) -> list[str]:
    found = await service.search.experience_search(space_id, query, limit=limit)
    return [block.title for block in found.cited_blocks]


async def test_the_right_sop_comes_first(service: Container, space: Space) -> None:
    await seed(service.spaces, space.id)
    cases = {
        "please star the acontext repository for me": "Star a repository",
        "open a PR for my branch": "Create a pull request",
        "file a bug report on the repo": "Open an issue",
        "DM alice on slack": "Send a direct message",
        "roll back the bad release in production": "Roll back a deployment",
        "zip up the logs directory": "Compress a folder",
        "bill acme for march consulting with an invoice": "Send an invoice",
        "turn this doc into a pdf": "Convert a document to PDF",
    }
    for query, expected in cases.items():
        assert (await titles(service, space.id, query))[0] == expected, query


async def test_recall_at_3_on_paraphrases(service: Container, space: Space) -> None:
    # benchmarks/search.py reports the same number; this guards it against regressions.
    await seed(service.spaces, space.id)
    hits = 0
    for sop in SOPS:
        for query in sop.queries:
            found = await service.search.experience_search(space.id, query, limit=3, types=["sop"])
            hits += sop.title in [block.title for block in found.cited_blocks]
    # BM25 finds 51-54 of the 80: equal scores come back in the table's row order, which differs between builds.
    assert hits / (2 * len(SOPS)) >= 0.6


async def test_results_carry_the_block(service: Container, space: Space) -> None:
    ids = await seed(service.spaces, space.id, SOPS[:3])
    found = await service.search.experience_search(space.id, "star the repository", limit=1)
    [block] = found.cited_blocks
    assert (block.block_id, block.type, block.path, block.title) == (
        ids["Star a repository"], "sop", "/github/GTM", "Star a repository"
    )
    assert block.data == SOPS[0].data
    assert block.score > 0
    assert found.note is None and found.final_answer is None


async def test_search_is_scoped_to_the_space(service: Container) -> None:
    a = await service.spaces.create_space("a")
    b = await service.spaces.create_space("b")
    await seed(service.spaces, a.id, SOPS[:1])
    assert await titles(service, b.id, "star a repository") == []
    await seed(service.spaces, b.id, SOPS[:2])
    found = await service.search.experience_search(b.id, "star a repository")
    assert {blk.block_id for blk in found.cited_blocks} <= {e.id for e in
                                                             (await service.spaces.list_space(b.id)).entries}
    assert found.cited_blocks


async def test_index_follows_update_move_and_delete(service: Container, space: Space) -> None:
    ids = await seed(service.spaces, space.id, SOPS[:4])
    star = ids["Star a repository"]
    await service.spaces.update_block(space.id, star, title="Bookmark a project", data={
        "use_when": "the user wants to bookmark a codebase", "tool_sops": [{"tool_name": "bookmark", "action": "save"}]
    })
    assert await titles(service, space.id, "bookmark a codebase") == ["Bookmark a project"]
    assert "Bookmark a project" not in await titles(service, space.id, "star")

    await service.spaces.create_block(space.id, "/", "folder", "archive")
    await service.spaces.create_block(space.id, "/archive", "page", "old")
    await service.spaces.move_block(space.id, star, "/archive/old")
    [moved] = (await service.search.experience_search(space.id, "bookmark a codebase", limit=1)).cited_blocks
    assert moved.path == "/archive/old"

    # Renaming a folder re-indexes the blocks under it: their path words change.
    await service.spaces.update_block(space.id, (await service.spaces.list_space(space.id, "/archive")).entries[0].id,
                                      title="legacyshelf")
    assert "Bookmark a project" in await titles(service, space.id, "legacyshelf")

    await service.spaces.delete_block(space.id, star)
    assert await titles(service, space.id, "bookmark a codebase") == []
    github = [e for e in (await service.spaces.list_space(space.id)).entries if e.path == "/github"][0]
    await service.spaces.delete_block(space.id, github.id, recursive=True)
    assert await titles(service, space.id, "pull request release launch") == []
    assert await index_rows(service, space.id, "pull request release launch bookmark") == []  # nothing stale


async def index_rows(service: Container, space_id: str, query: str) -> list[str]:
    """What the index on disk holds for a query, read by a separate handle."""
    index = BlockIndex(service.settings.search_index_uri)
    assert await index.is_current()
    return [hit.block_id for hit in await index.search(space_id, query, 50)]


async def test_deleting_a_space_removes_its_rows(service: Container, space: Space) -> None:
    await seed(service.spaces, space.id, SOPS[:2])
    await service.index.settle()  # what the background worker does a moment later
    assert len(await index_rows(service, space.id, "star repository github")) == 3  # 2 SOPs and their page
    await service.spaces.delete_space(space.id)
    await service.index.settle()
    assert await index_rows(service, space.id, "star repository github") == []


async def test_rebuilds_from_sqlite_when_the_index_is_gone(settings: Settings) -> None:
    async with Container.open(settings) as service:
        space = await service.spaces.create_space()
        await seed(service.spaces, space.id, SOPS[:5])
        await service.index.settle()
    shutil.rmtree(settings.search_index_uri)
    async with Container.open(settings) as service:
        assert (await titles(service, space.id, "open a PR for my branch"))[0] == "Create a pull request"
        rebuilt = await service.search.rebuild()
        assert rebuilt.indexed_blocks == 5 + 2  # the SOPs and the pages GTM and basic_ops
        one = await service.search.rebuild(space.id)
        assert (one.space_id, one.indexed_blocks) == (space.id, 7)
        assert (await titles(service, space.id, "open a PR for my branch"))[0] == "Create a pull request"
        with pytest.raises(NotFound):
            await service.search.rebuild("missing")


class FlakyIndex(BlockIndex):
    """A real index whose next `failures` writes fail, as a full disk or lost bucket would."""

    failures = 0

    async def replace(self, block_ids: Sequence[str], rows: Sequence[IndexedBlock]) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError("disk full")
        await super().replace(block_ids, rows)


async def queued(service: Container) -> list[tuple[str, str]]:
    rows = await service.db.fetch_all("SELECT space_id, block_id FROM search_outbox ORDER BY seq")
    return [(row["space_id"], row["block_id"]) for row in rows]


NGINX = Sop("/github/GTM", "Restart nginx", "restart the web server", (("shell_run", "restart nginx"),), ("", ""))


async def test_a_failed_index_write_keeps_sqlite_and_is_retried(service: Container, space: Space) -> None:
    index = FlakyIndex(service.settings.search_index_uri)
    indexed = SearchIndex(service.db, index, Leases(service.db))
    search = SearchService(service.db, indexed)
    spaces = SpaceService(service.db, indexed, max_data_bytes=1 << 20)
    await seed(spaces, space.id, SOPS[:1])
    assert await queued(service) == []
    index.failures = 1
    block = await spaces.create_block(space.id, NGINX.page, "sop", NGINX.title, NGINX.data)
    assert (await spaces.get_block(space.id, block.id)).title == "Restart nginx"  # SQLite kept it
    assert await index_rows(service, space.id, "nginx") == []  # the index missed it
    assert await queued(service) == [(space.id, block.id)]  # and it stays queued

    # The next use applies what is queued, so the block missed by the failed write is found.
    found = await search.experience_search(space.id, "restart the nginx web server")
    assert [b.title for b in found.cited_blocks][:1] == ["Restart nginx"]
    assert await queued(service) == []


async def test_changes_queued_by_a_dead_process_are_applied(settings: Settings) -> None:
    async with Container.open(settings, background=False) as service:  # no outbox worker: a write syncs itself
        space = await service.spaces.create_space("skills")
        await seed(service.spaces, space.id, SOPS[:1])
        # A process that committed a block and died before updating the index leaves it queued.
        dying = FlakyIndex(service.settings.search_index_uri)
        dying.failures = 10
        spaces = SpaceService(service.db, SearchIndex(service.db, dying, Leases(service.db)), max_data_bytes=1 << 20)
        block = await spaces.create_block(space.id, NGINX.page, "sop", NGINX.title, NGINX.data)
        assert await queued(service) == [(space.id, block.id)]
        # Another process (here: the service's own SearchIndex, already open) catches up on its next write.
        await service.spaces.create_block(space.id, "/", "page", "other")
        assert await queued(service) == []
        assert await index_rows(service, space.id, "nginx") == [block.id]


@pytest.mark.parametrize(
    ("query", "arguments", "error"),
    [
        ("", {}, "query is empty"),
        ("   ", {}, "query is empty"),
        ("x" * 100_000, {}, "over the limit of 2000"),
        ("star", {"limit": 0}, "limit must be between 1 and 50"),
        ("star", {"limit": 51}, "limit must be between 1 and 50"),
        ("star", {"mode": "deep"}, "unknown search mode 'deep'"),
    ],
)
async def test_bad_queries(service: Container, space: Space, query: str, arguments: dict, error: str) -> None:
    with pytest.raises(InvalidArgument, match=error):
        await service.search.experience_search(space.id, query, **arguments)


async def test_unknown_space(service: Container) -> None:
    with pytest.raises(NotFound, match="space 'missing' not found"):
        await service.search.experience_search("missing", "star")


async def test_agentic_falls_back_to_fast_without_an_llm(service: Container, space: Space) -> None:
    await seed(service.spaces, space.id, SOPS[:3])
    fast = await service.search.experience_search(space.id, "star the repository")
    agentic = await service.search.experience_search(space.id, "star the repository", mode="agentic")
    assert agentic.note == AGENTIC_FALLBACK_NOTE
    assert agentic.cited_blocks == fast.cited_blocks


async def test_queries_with_search_syntax_are_plain_text(service: Container, space: Space) -> None:
    await seed(service.spaces, space.id, SOPS[:1])
    for query in ['star "repo', "star AND (repo OR", "star*", "star space_id = 'x' OR 1=1", "star'; drop"]:
        found = await service.search.experience_search(space.id, query)
        assert [b.title for b in found.cited_blocks] == ["Star a repository"], query


async def test_a_failed_rebuild_is_reported_and_retried(service: Container, space: Space) -> None:
    from acontext_mcp import SearchUnavailable

    index = FlakyIndex(service.settings.search_index_uri)
    indexed = SearchIndex(service.db, index, Leases(service.db))
    search = SearchService(service.db, indexed)
    spaces = SpaceService(service.db, indexed, max_data_bytes=1 << 20)
    await seed(spaces, space.id, SOPS[:2])
    index.failures = 1
    with pytest.raises(SearchUnavailable, match="rebuilding the index failed: disk full.*rebuild_search_index"):
        await search.rebuild(space.id)  # it had already dropped the space's rows when it failed
    assert await queued(service) == [(space.id, "")]  # the whole space stays queued
    found = await search.experience_search(space.id, "star a repository")
    assert found.cited_blocks[0].title == "Star a repository"
    assert await queued(service) == []


async def test_an_unknown_embedding_provider_is_named_in_the_error(settings: Settings) -> None:
    async with Container.open(settings.model_copy(update={"embedding": "nope"})) as service:
        space = await service.spaces.create_space()
        ids = await seed(service.spaces, space.id, SOPS[:1])  # writes still land in SQLite
        assert (await service.spaces.get_block(space.id, ids["Star a repository"])).data == SOPS[0].data
        with pytest.raises(InvalidArgument, match="ACONTEXT_EMBEDDING='nope' is not a LanceDB embedding provider"):
            await service.search.experience_search(space.id, "star")


async def test_each_cited_skill_is_named_once_in_the_order_first_cited(service: Container, space: Space) -> None:
    # Two pages titled GTM (the second's name is made unique) and one whose data names it.
    await seed(service.spaces, space.id, SOPS[:2])  # both on /github/GTM
    await service.spaces.create_block(space.id, "/", "folder", "gitlab")
    await service.spaces.create_block(space.id, "/gitlab", "page", "GTM")
    await service.spaces.create_block(space.id, "/gitlab/GTM", "sop", "Star a project", SOPS[0].data)
    await service.spaces.create_block(space.id, "/", "folder", "notes")
    await service.spaces.create_block(space.id, "/notes", "page", "Stars", {"name": "starring"})
    await service.spaces.create_block(space.id, "/notes/Stars", "text", "Starring etiquette",
                                      {"text": "star a repository only when asked to"})
    found = await service.search.experience_search(space.id, "star a repository", limit=10)
    first_cited: dict[str, str] = {}
    for block in found.cited_blocks:
        first_cited.setdefault(block.path, block.path)
    expected = {"/github/GTM": "gtm", "/gitlab/GTM": "gtm-2", "/notes/Stars": "starring"}
    assert [(skill.path, skill.name) for skill in found.skills] == [(path, expected[path]) for path in first_cited]
    assert [skill.uri for skill in found.skills] == [f"skill://{space.id}/{expected[p]}/SKILL.md" for p in first_cited]
    assert set(first_cited) == set(expected)
