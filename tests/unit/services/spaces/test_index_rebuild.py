"""Rebuilding the shared search index (issue 22, item 2): other projects' searches go on, old versions go away."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from acontext_mcp import Container
from acontext_mcp.projects import use_project
from tests.support.sops import SOPS, Sop, seed

pytestmark = pytest.mark.anyio


def blocks(sops: tuple[Sop, ...]) -> int:
    """The searchable blocks `seed` makes: the SOPs and their pages."""
    return len(sops) + len({sop.page for sop in sops})


def size_mb(path: str) -> float:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 2**20


async def search_while(service: Container, space_id: str, rebuild: object) -> tuple[int, list[str]]:
    """Search the `globex` space over and over while `rebuild` (an async callable) runs in `acme`."""
    errors: list[str] = []
    searches = 0
    done = anyio.Event()

    async def searching() -> None:
        nonlocal searches
        with use_project("globex"):
            while not done.is_set():
                try:
                    found = await service.search.experience_search(space_id, "open a PR for my branch")
                    assert found.cited_blocks[0].title == "Create a pull request"
                except Exception as exc:  # every failure is the finding
                    errors.append(repr(exc))
                searches += 1
                await anyio.sleep(0)

    async with anyio.create_task_group() as tg:
        tg.start_soon(searching)
        with use_project("acme"):
            await rebuild()  # type: ignore[operator]
        done.set()
    return searches, errors


@pytest.mark.parametrize("all_projects", [False, True], ids=["tenant", "operator"])
async def test_another_projects_searches_never_fail_during_a_rebuild(service: Container, all_projects: bool) -> None:
    with use_project("globex"):
        theirs = await service.spaces.create_space("theirs")
        await seed(service.spaces, theirs.id, SOPS[:10])
    with use_project("acme"):
        mine = await service.spaces.create_space("mine")
        await seed(service.spaces, mine.id, SOPS)

    async def rebuild() -> None:
        for _ in range(8):
            done = await service.search.rebuild(all_projects=all_projects)
            # A tenant's rebuild touches and counts its own project's blocks only.
            assert done.indexed_blocks == (blocks(SOPS) + blocks(SOPS[:10]) if all_projects else blocks(SOPS))

    searches, errors = await search_while(service, theirs.id, rebuild)
    assert searches > 8 and errors == []
    with use_project("acme"):
        found = await service.search.experience_search(mine.id, "squash and land the approved PR")
        assert found.cited_blocks[0].title == "Merge a pull request"


async def test_rebuilds_do_not_grow_the_index(service: Container) -> None:
    space = await service.spaces.create_space("skills")
    await seed(service.spaces, space.id, SOPS)
    await service.search.rebuild()
    first = size_mb(service.settings.search_index_uri)
    for i in range(30):
        await service.search.rebuild(all_projects=i % 2 == 1)  # a tenant's rebuild, then an operator's
    assert size_mb(service.settings.search_index_uri) < first * 1.3 + 0.2
    found = await service.search.experience_search(space.id, "open a PR for my branch")
    assert found.cited_blocks[0].title == "Create a pull request"
