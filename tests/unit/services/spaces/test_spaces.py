"""SpaceService: the tree's rules, paths, ordering, moves, deletes, and bad input that writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from acontext_mcp import Conflict, Container, InvalidArgument, NotFound, PayloadTooLarge
from acontext_mcp.services.spaces.models import Space
from acontext_mcp.services.spaces.tree import split_path

pytestmark = pytest.mark.anyio

SOP = {"use_when": "the user asks to star a repo", "preferences": "none",
       "tool_sops": [{"tool_name": "github_star_repo", "action": "star owner/name"}]}


@pytest.fixture
async def space(service: Container) -> Space:
    return await service.spaces.create_space("test")


async def snapshot(service: Container) -> list[tuple[Any, ...]]:
    """Every block row, to show that a failed call wrote nothing."""
    rows = await service.db.fetch_all("SELECT * FROM blocks ORDER BY id")
    return [tuple(row) for row in rows]


async def build(service: Container, space: Space, *specs: tuple[str, str, str]) -> dict[str, str]:
    """Create (parent_path, type, title) blocks in order; return {title: id}."""
    ids = {}
    for parent, type, title in specs:
        data = SOP if type == "sop" else {"text": title} if type == "text" else None
        ids[title] = (await service.spaces.create_block(space.id, parent, type, title, data)).id
    return ids


async def titles_under(service: Container, space: Space, path: str) -> list[str]:
    tree = await service.spaces.list_space(space.id, path)
    return [entry.title for entry in tree.entries if entry.depth == 0]


@pytest.mark.parametrize(
    ("parent_type", "child_type", "allowed"),
    [
        (None, "folder", True), (None, "page", True), (None, "text", False), (None, "sop", False),
        ("folder", "folder", True), ("folder", "page", True), ("folder", "text", False), ("folder", "sop", False),
        ("page", "folder", False), ("page", "page", False), ("page", "text", True), ("page", "sop", True),
    ],
)
async def test_tree_rules(service: Container, space: Space, parent_type: str | None, child_type: str,
                          allowed: bool) -> None:
    await build(service, space, ("/", "folder", "f"), ("/", "page", "p"))
    parent_path = {None: "/", "folder": "/f", "page": "/p"}[parent_type]
    data = SOP if child_type == "sop" else {"text": "x"} if child_type == "text" else None
    before = await snapshot(service)
    if allowed:
        block = await service.spaces.create_block(space.id, parent_path, child_type, "child", data)
        assert block.type == child_type
    else:
        with pytest.raises(InvalidArgument, match=f"cannot hold a {child_type} block"):
            await service.spaces.create_block(space.id, parent_path, child_type, "child", data)
        assert await snapshot(service) == before


async def test_text_and_sop_blocks_hold_nothing(service: Container, space: Space) -> None:
    # They have no path of their own (theirs is their page's), so nothing can be put under them.
    ids = await build(service, space, ("/", "page", "p"), ("/p", "sop", "s"), ("/p", "text", "t"))
    for leaf in ("s", "t"):
        with pytest.raises(NotFound, match=f"path '/p/{leaf}' not found"):
            await service.spaces.create_block(space.id, f"/p/{leaf}", "text", "child", {"text": "x"})
    with pytest.raises(NotFound):
        await service.spaces.move_block(space.id, ids["t"], "/p/s")


async def test_paths_and_tree_listing(service: Container, space: Space) -> None:
    ids = await build(
        service, space,
        ("/", "folder", "github"), ("/github", "page", "GTM"), ("/github", "page", "basic_ops"),
        ("/github/GTM", "sop", "Star a repo"), ("/github/GTM", "text", "Notes"), ("/", "page", "home"),
    )
    tree = await service.spaces.list_space(space.id, "/")
    assert [(e.path, e.type, e.title, e.depth) for e in tree.entries] == [
        ("/github", "folder", "github", 0),
        ("/github/GTM", "page", "GTM", 1),
        ("/github/GTM", "sop", "Star a repo", 2),
        ("/github/GTM", "text", "Notes", 2),
        ("/github/basic_ops", "page", "basic_ops", 1),
        ("/home", "page", "home", 0),
    ]
    sub = await service.spaces.list_space(space.id, "github/")  # leading and trailing slashes are optional
    assert sub.path == "/github"
    assert [e.id for e in sub.entries] == [ids["GTM"], ids["Star a repo"], ids["Notes"], ids["basic_ops"]]
    block = await service.spaces.get_block(space.id, ids["Star a repo"])
    assert (block.path, block.parent_id, block.data) == ("/github/GTM", ids["GTM"], SOP)
    assert (await service.spaces.get_block(space.id, ids["GTM"])).path == "/github/GTM"


@pytest.mark.parametrize(
    ("path", "parts"), [("/", []), ("", []), ("/a/b", ["a", "b"]), ("a/b/", ["a", "b"]), (" /a b/c ", ["a b", "c"])]
)
def test_split_path(path: str, parts: list[str]) -> None:
    assert split_path(path) == parts


async def test_bad_paths(service: Container, space: Space) -> None:
    await build(service, space, ("/", "folder", "github"))
    with pytest.raises(InvalidArgument, match="empty segment"):
        await service.spaces.list_space(space.id, "/github//x")
    with pytest.raises(NotFound, match="path '/github/nope' not found.*list_space"):
        await service.spaces.create_block(space.id, "/github/nope", "page", "x")


async def test_titles_are_unique_per_parent_for_folders_and_pages(service: Container, space: Space) -> None:
    await build(service, space, ("/", "folder", "a"), ("/", "folder", "b"), ("/a", "page", "p"))
    before = await snapshot(service)
    with pytest.raises(Conflict, match="folder titled 'a' already exists"):
        await service.spaces.create_block(space.id, "/", "page", "a")
    assert await snapshot(service) == before
    await service.spaces.create_block(space.id, "/b", "page", "p")  # same title, other parent: fine
    await build(service, space, ("/a/p", "sop", "same"), ("/a/p", "sop", "same"))  # SOP titles may repeat
    assert await titles_under(service, space, "/a/p") == ["same", "same"]


async def test_rename_and_move_conflicts_write_nothing(service: Container, space: Space) -> None:
    ids = await build(service, space, ("/", "folder", "a"), ("/", "folder", "b"), ("/b", "page", "a"))
    before = await snapshot(service)
    with pytest.raises(Conflict, match="folder titled 'a'"):
        await service.spaces.update_block(space.id, ids["b"], title="a")
    page_a = (await service.spaces.list_space(space.id, "/b")).entries[0].id
    with pytest.raises(Conflict, match="folder titled 'a'"):
        await service.spaces.move_block(space.id, page_a, "/")
    assert await snapshot(service) == before


@pytest.mark.parametrize(
    ("type", "title", "data", "error"),
    [
        ("sop", "s", {"use_when": "x"}, None),  # preferences and tool_sops default
        ("sop", "s", {"use_when": ""}, "use_when: String should have at least 1 character"),
        ("sop", "s", {"use_when": "x", "tool_sops": [{"tool_name": "t"}]}, r"tool_sops.0.action: Field required"),
        ("sop", "s", {"use_when": "x", "tool_sops": "steps"}, "tool_sops"),
        ("sop", "s", {"use_when": "x", "extra": 1}, "extra: Extra inputs are not permitted"),
        ("sop", "s", None, "use_when: Field required"),
        ("text", "t", {"text": 3}, "text: Input should be a valid string"),
        ("text", "t", {}, "text: Field required"),
        ("table", "t", None, "unknown block type 'table'"),
        ("sop", "  ", {"use_when": "x"}, "title must not be empty"),
        ("sop", "x" * 201, {"use_when": "x"}, "over the limit of 200"),
    ],
)
async def test_block_validation(service: Container, space: Space, type: str, title: str,
                                data: dict[str, Any] | None, error: str | None) -> None:
    await build(service, space, ("/", "page", "p"))
    before = await snapshot(service)
    if error is None:
        block = await service.spaces.create_block(space.id, "/p", type, title, data)
        assert block.data == {"use_when": "x", "preferences": "", "tool_sops": []}
        return
    with pytest.raises(InvalidArgument, match=error):
        await service.spaces.create_block(space.id, "/p", type, title, data)
    assert await snapshot(service) == before


@pytest.mark.parametrize("title", ["a/b", "..", "."])
async def test_folder_titles_cannot_break_paths(service: Container, space: Space, title: str) -> None:
    with pytest.raises(InvalidArgument, match="titles form paths"):
        await service.spaces.create_block(space.id, "/", "folder", title)
    assert await snapshot(service) == []


async def test_oversized_data_is_refused(service: Container, space: Space) -> None:
    await build(service, space, ("/", "page", "p"))
    before = await snapshot(service)
    with pytest.raises(PayloadTooLarge, match="ACONTEXT_MAX_MESSAGE_BYTES"):
        await service.spaces.create_block(space.id, "/p", "text", "big", {"text": "x" * (9 * 1024 * 1024)})
    assert await snapshot(service) == before


async def test_update_block(service: Container, space: Space) -> None:
    ids = await build(service, space, ("/", "page", "p"), ("/p", "sop", "s"))
    new = {**SOP, "use_when": "starring"}
    updated = await service.spaces.update_block(space.id, ids["s"], title="Star", data=new)
    assert (updated.title, updated.data["use_when"]) == ("Star", "starring")
    assert updated.updated_at > updated.created_at
    before = await snapshot(service)
    with pytest.raises(InvalidArgument, match="use_when"):
        await service.spaces.update_block(space.id, ids["s"], title="other", data={"use_when": ""})
    with pytest.raises(InvalidArgument, match="nothing to update"):
        await service.spaces.update_block(space.id, ids["s"])
    assert await snapshot(service) == before


async def test_move_reorders_and_keeps_positions_dense(service: Container, space: Space) -> None:
    ids = await build(service, space, ("/", "page", "p"), ("/", "page", "q"),
                      *(("/p", "text", name) for name in "abcd"))
    await service.spaces.move_block(space.id, ids["d"], "/p", position=0)
    assert await titles_under(service, space, "/p") == ["d", "a", "b", "c"]
    moved = await service.spaces.move_block(space.id, ids["a"], "/q")
    assert (moved.path, moved.parent_id, moved.sort_order) == ("/q", ids["q"], 0)
    assert await titles_under(service, space, "/p") == ["d", "b", "c"]
    await service.spaces.move_block(space.id, ids["b"], "/q", position=0)
    assert await titles_under(service, space, "/q") == ["b", "a"]
    rows = await service.db.fetch_all("SELECT parent_id, sort_order FROM blocks WHERE type = 'text'")
    orders: dict[str, list[int]] = {}
    for row in rows:
        orders.setdefault(row["parent_id"], []).append(row["sort_order"])
    assert sorted(sorted(order) for order in orders.values()) == [[0, 1], [0, 1]]


async def test_move_rejects_cycles_bad_parents_and_positions(service: Container, space: Space) -> None:
    ids = await build(service, space, ("/", "folder", "a"), ("/a", "folder", "b"), ("/a/b", "page", "p"),
                      ("/a/b/p", "sop", "s"), ("/", "page", "q"))
    before = await snapshot(service)
    with pytest.raises(InvalidArgument, match="itself or inside it"):
        await service.spaces.move_block(space.id, ids["a"], "/a/b")
    with pytest.raises(InvalidArgument, match="itself or inside it"):
        await service.spaces.move_block(space.id, ids["a"], "/a")
    with pytest.raises(InvalidArgument, match="cannot hold a sop block"):
        await service.spaces.move_block(space.id, ids["s"], "/a")
    with pytest.raises(InvalidArgument, match="cannot hold a page block"):
        await service.spaces.move_block(space.id, ids["p"], "/q")
    with pytest.raises(InvalidArgument, match="position 5 is out of range"):
        await service.spaces.move_block(space.id, ids["p"], "/a", position=5)
    assert await snapshot(service) == before
    moved = await service.spaces.move_block(space.id, ids["b"], "/")
    assert (moved.path, moved.sort_order) == ("/b", 2)
    assert (await service.spaces.get_block(space.id, ids["s"])).path == "/b/p"


async def test_delete_block_recursive(service: Container, space: Space) -> None:
    ids = await build(service, space, ("/", "folder", "a"), ("/a", "page", "p"), ("/a/p", "sop", "s"),
                      ("/a/p", "text", "t"), ("/", "page", "keep"))
    before = await snapshot(service)
    for block in ("a", "p"):
        with pytest.raises(InvalidArgument, match="not empty.*recursive=true"):
            await service.spaces.delete_block(space.id, ids[block])
    assert await snapshot(service) == before
    deleted = await service.spaces.delete_block(space.id, ids["t"])
    assert deleted.block_ids == [ids["t"]]
    deleted = await service.spaces.delete_block(space.id, ids["a"], recursive=True)
    assert set(deleted.block_ids) == {ids["a"], ids["p"], ids["s"]}
    tree = await service.spaces.list_space(space.id)
    assert [(e.title, (await service.spaces.get_block(space.id, e.id)).sort_order) for e in tree.entries] == [
        ("keep", 0)
    ]
    with pytest.raises(NotFound, match=f"block '{ids['s']}' not found"):
        await service.spaces.get_block(space.id, ids["s"])


async def test_unknown_ids(service: Container, space: Space) -> None:
    ids = await build(service, space, ("/", "page", "p"))
    other = await service.spaces.create_space("other")
    with pytest.raises(NotFound, match="space 'missing' not found.*list_spaces"):
        await service.spaces.list_space("missing")
    with pytest.raises(NotFound, match="block"):  # a block is reached only through its own space
        await service.spaces.get_block(other.id, ids["p"])
    for call in (
        service.spaces.update_block(space.id, "missing", title="x"),
        service.spaces.move_block(space.id, "missing", "/"),
        service.spaces.delete_block(space.id, "missing"),
    ):
        with pytest.raises(NotFound, match="block 'missing' not found"):
            await call


async def test_spaces_and_cascading_delete(service: Container) -> None:
    from acontext_mcp.services.spaces.models import SpaceSettings

    a = await service.spaces.create_space("a", SpaceSettings(confirm_before_learning=True))
    b = await service.spaces.create_space()
    listed = await service.spaces.list_spaces()
    assert [(s.id, s.name, s.settings.confirm_before_learning) for s in listed.items] == [
        (a.id, "a", True), (b.id, None, False)
    ]
    assert (await service.spaces.get_space(a.id)).settings.confirm_before_learning is True
    await build(service, a, ("/", "folder", "f"), ("/f", "page", "p"), ("/f/p", "sop", "s"))
    await service.spaces.delete_space(a.id)
    assert [s.id for s in (await service.spaces.list_spaces()).items] == [b.id]
    assert await snapshot(service) == []
    with pytest.raises(NotFound):
        await service.spaces.delete_space(a.id)
    with pytest.raises(NotFound, match="list_spaces"):
        await service.spaces.get_space(a.id)


async def test_big_trees_are_listed_in_part(service: Container, space: Space) -> None:
    from acontext_mcp.services.spaces.service import MAX_TREE_ENTRIES
    from acontext_mcp.store.database import new_id, utc_now

    ids = await build(service, space, ("/", "page", "p"))
    now = utc_now()
    async with service.db.transaction() as tx:  # straight into SQLite: only the listing is under test
        await tx.execute_many(
            "INSERT INTO blocks (id, space_id, parent_id, type, title, data, sort_order, created_at, updated_at) "
            "VALUES (?, ?, ?, 'text', ?, '{\"text\": \"\"}', ?, ?, ?)",
            [(new_id(), space.id, ids["p"], f"t{i}", i, now, now) for i in range(MAX_TREE_ENTRIES + 5)],
        )
    tree = await service.spaces.list_space(space.id)
    assert (len(tree.entries), tree.truncated) == (MAX_TREE_ENTRIES, True)
    assert [e.title for e in tree.entries[:3]] == ["p", "t0", "t1"]
    assert (await service.spaces.list_space(space.id, "/p")).truncated is True


@pytest.mark.parametrize("title", ["\x00x", "line\nbreak", "tab\there"])
async def test_titles_with_control_characters_are_refused(service: Container, title: str) -> None:
    space = await service.spaces.create_space("s")
    with pytest.raises(InvalidArgument, match="control character"):
        await service.spaces.create_block(space.id, "/", "folder", title)
    assert (await service.spaces.list_space(space.id)).entries == []


async def test_space_names_are_bounded(service: Container) -> None:
    with pytest.raises(InvalidArgument, match="over the limit"):
        await service.spaces.create_space("n" * 10_000)
    assert (await service.spaces.list_spaces()).items == []
