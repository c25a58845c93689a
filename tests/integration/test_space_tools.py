"""Spaces through the MCP client: the seed's /github tree, its resources, search, the prompt, and bad input."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from tests.support.mcp import call, call_error
from tests.support.sops import SOPS, seed_over_mcp

pytestmark = pytest.mark.anyio

STAR = {
    "use_when": "the user asks to star a GitHub repository",
    "preferences": "star only repositories the user names",
    "tool_sops": [
        {"tool_name": "github_search_repos", "action": "find the repository by owner/name"},
        {"tool_name": "github_star_repo", "action": "star it and confirm"},
    ],
}
PR = {"use_when": "open a pull request", "preferences": "",
      "tool_sops": [{"tool_name": "github_create_pr", "action": "open it against main"}]}


async def seed_tree(client: Client) -> dict[str, Any]:
    """The seed's tree: /github/GTM (a star SOP and a note) and /github/basic_ops (a PR SOP)."""
    space = await call(client, "create_space", name="agent skills")
    sid = space["id"]
    ids = {"space": sid}
    for parent, type, title, data in [
        ("/", "folder", "github", None),
        ("/github", "page", "GTM", None),
        ("/github", "page", "basic_ops", None),
        ("/github/GTM", "sop", "Star a repo", STAR),
        ("/github/GTM", "text", "Why", {"text": "Stars help the **launch**."}),
        ("/github/basic_ops", "sop", "Open a PR", PR),
    ]:
        block = await call(client, "create_block", space_id=sid, parent_path=parent, type=type, title=title,
                           **({"data": data} if data else {}))
        ids[title] = block["id"]
    return ids


async def read(client: Client, uri: str) -> str:
    result = await client.read_resource(uri)
    return result.contents[0].text  # type: ignore[union-attr]


async def test_build_list_and_get_the_seed_tree(client: Client) -> None:
    ids = await seed_tree(client)
    tree = await call(client, "list_space", space_id=ids["space"])
    assert [(e["path"], e["type"], e["title"]) for e in tree["entries"]] == [
        ("/github", "folder", "github"),
        ("/github/GTM", "page", "GTM"),
        ("/github/GTM", "sop", "Star a repo"),
        ("/github/GTM", "text", "Why"),
        ("/github/basic_ops", "page", "basic_ops"),
        ("/github/basic_ops", "sop", "Open a PR"),
    ]
    assert tree["truncated"] is False
    block = await call(client, "get_block", space_id=ids["space"], block_id=ids["Star a repo"])
    assert (block["path"], block["data"], block["parent_id"]) == ("/github/GTM", STAR, ids["GTM"])
    spaces = await call(client, "list_spaces")
    assert [(s["id"], s["name"], s["settings"]) for s in spaces["items"]] == [
        (ids["space"], "agent skills", {"confirm_before_learning": False})
    ]


async def test_pages_render_as_markdown_resources(client: Client) -> None:
    ids = await seed_tree(client)
    sid = ids["space"]
    page = await read(client, f"space://{sid}/github/GTM")
    assert page == (
        "# GTM\n\n_Page /github/GTM_\n\n"
        "## Star a repo\n\n"
        "**Use when:** the user asks to star a GitHub repository\n"
        "**Preferences:** star only repositories the user names\n\n"
        "1. `github_search_repos`: find the repository by owner/name\n"
        "2. `github_star_repo`: star it and confirm\n\n"
        "## Why\n\nStars help the **launch**.\n"
    )
    folder = await read(client, f"space://{sid}/github")
    assert f"- [GTM](space://{sid}/github/GTM) (page)" in folder
    assert f"- [basic_ops](space://{sid}/github/basic_ops) (page)" in folder
    root = await read(client, f"space://{sid}/")
    assert f"- [github](space://{sid}/github) (folder)" in root

    listed = await client.list_resources()
    uris = {str(r.uri): r for r in listed.resources}
    assert {f"space://{sid}/github/GTM", f"space://{sid}/github/basic_ops"} <= set(uris)
    assert uris[f"space://{sid}/github/GTM"].mime_type == "text/markdown"
    templates = await client.list_resource_templates()
    assert "space://{space_id}/{+path}" in [t.uri_template for t in templates.resource_templates]

    with pytest.raises(MCPError, match="path '/github/nope' not found"):
        await read(client, f"space://{sid}/github/nope")
    with pytest.raises(MCPError, match="space 'missing' not found"):
        await read(client, "space://missing/github")


async def test_titles_with_spaces_and_symbols_round_trip_as_uris(client: Client) -> None:
    sid = (await call(client, "create_space"))["id"]
    await call(client, "create_block", space_id=sid, parent_path="/", type="folder", title="Ops & Infra")
    await call(client, "create_block", space_id=sid, parent_path="/Ops & Infra", type="page", title="Deploy #1?")
    listed = [str(r.uri) for r in (await client.list_resources()).resources]
    uri = f"space://{sid}/{quote('Ops & Infra', safe='')}/{quote('Deploy #1?', safe='')}"
    assert uri in listed
    assert (await read(client, uri)).startswith("# Deploy #1?\n\n_Page /Ops & Infra/Deploy #1?_")


async def test_use_skills_prompt_injects_the_top_sops(client: Client) -> None:
    ids = await seed_tree(client)
    prompts = await client.list_prompts()
    [prompt] = [p for p in prompts.prompts if p.name == "use_skills"]
    assert {a.name for a in prompt.arguments or []} == {"space_id", "task"}
    result = await client.get_prompt("use_skills", {"space_id": ids["space"], "task": "star the acontext repo"})
    text = result.messages[0].content.text  # type: ignore[union-attr]
    assert text.startswith("Task: star the acontext repo")
    assert "### Star a repo" in text
    assert "1. `github_search_repos`: find the repository by owner/name" in text
    assert f"_From /github/GTM (block {ids['Star a repo']})_" in text
    assert "Why" not in text  # only SOPs, not text blocks

    empty = await client.get_prompt("use_skills", {"space_id": ids["space"], "task": "bake sourdough bread"})
    assert "no learned procedure" in empty.messages[0].content.text  # type: ignore[union-attr]
    with pytest.raises(MCPError, match="space 'missing' not found"):
        await client.get_prompt("use_skills", {"space_id": "missing", "task": "x"})


async def test_experience_search_through_the_tools(client: Client) -> None:
    ids = await seed_tree(client)
    found = await call(client, "experience_search", space_id=ids["space"], query="please star this repository")
    first = found["cited_blocks"][0]
    assert (first["block_id"], first["path"], first["title"], first["type"], first["data"]) == (
        ids["Star a repo"], "/github/GTM", "Star a repo", "sop", STAR
    )
    assert "note" not in found or found["note"] is None
    agentic = await call(client, "experience_search", space_id=ids["space"], query="open a pull request",
                         mode="agentic", limit=1)
    assert [b["title"] for b in agentic["cited_blocks"]] == ["Open a PR"]
    assert "fast" in agentic["note"] and "LLM" in agentic["note"]

    await call(client, "move_block", space_id=ids["space"], block_id=ids["Open a PR"], new_parent_path="/github/GTM",
               position=0)
    moved = await call(client, "experience_search", space_id=ids["space"], query="pull request", limit=1)
    assert moved["cited_blocks"][0]["path"] == "/github/GTM"
    rebuilt = await call(client, "rebuild_search_index")
    assert rebuilt == {"space_id": None, "indexed_blocks": 5}


async def test_update_move_delete_through_the_tools(client: Client) -> None:
    ids = await seed_tree(client)
    sid = ids["space"]
    updated = await call(client, "update_block", space_id=sid, block_id=ids["GTM"], title="go_to_market")
    assert updated["path"] == "/github/go_to_market"
    moved = await call(client, "move_block", space_id=sid, block_id=ids["Why"], new_parent_path="/github/basic_ops",
                       position=0)
    assert (moved["path"], moved["sort_order"]) == ("/github/basic_ops", 0)
    assert "not empty" in await call_error(client, "delete_block", space_id=sid, block_id=ids["github"])
    deleted = await call(client, "delete_block", space_id=sid, block_id=ids["github"], recursive=True)
    assert len(deleted["block_ids"]) == 6
    assert (await call(client, "list_space", space_id=sid))["entries"] == []
    assert await call(client, "delete_space", space_id=sid) == {"id": sid, "deleted": True}
    assert (await call(client, "list_spaces"))["items"] == []


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("list_space", {"space_id": "missing"}, "space 'missing' not found"),
        ("get_block", {"block_id": "missing"}, "block 'missing' not found"),
        ("list_space", {"path": "/nowhere"}, "path '/nowhere' not found"),
        ("create_block", {"parent_path": "/github", "type": "sop", "title": "x", "data": PR},
         "folder '/github' cannot hold a sop block"),
        ("create_block", {"parent_path": "/github/GTM", "type": "folder", "title": "x"},
         "page '/github/GTM' cannot hold a folder block"),
        ("create_block", {"parent_path": "/github/GTM", "type": "sop", "title": "x",
                          "data": {"use_when": "x", "tool_sops": [{"tool": "t"}]}}, "invalid sop data"),
        ("create_block", {"parent_path": "/github/GTM", "type": "widget", "title": "x"}, "type"),
        ("create_block", {"parent_path": "/", "type": "folder", "title": "github"}, "already exists"),
        ("move_block", {"block_id": "@github", "new_parent_path": "/github"}, "itself or inside it"),
        ("move_block", {"block_id": "@Why", "new_parent_path": "/github"}, "folder '/github' cannot hold a text block"),
        ("move_block", {"block_id": "@Why", "new_parent_path": "/github/GTM", "position": 9}, "out of range"),
        ("update_block", {"block_id": "@Star a repo", "data": {"use_when": ""}}, "invalid sop data"),
        ("experience_search", {"query": ""}, "query is empty"),
        ("experience_search", {"query": "x" * 100_000}, "over the limit"),
        ("experience_search", {"query": "star", "mode": "deep"}, "mode"),
        ("delete_block", {"block_id": "@GTM"}, "recursive=true"),
    ],
)
async def test_bad_input_gets_a_clear_error_and_writes_nothing(
    client: Client, tool: str, arguments: dict[str, Any], expected: str
) -> None:
    ids = await seed_tree(client)
    arguments = {k: ids[v[1:]] if isinstance(v, str) and v.startswith("@") else v for k, v in arguments.items()}
    before = await call(client, "list_space", space_id=ids["space"])
    error = await call_error(client, tool, **{"space_id": ids["space"], **arguments})
    assert expected in error
    assert await call(client, "list_space", space_id=ids["space"]) == before


async def test_the_corpus_is_searchable_over_mcp(client: Client) -> None:
    sid = (await call(client, "create_space"))["id"]
    await seed_over_mcp(client, sid, SOPS[:10])
    found = await call(client, "experience_search", space_id=sid, query="merge the reviewed change into main")
    assert found["cited_blocks"][0]["title"] == "Merge a pull request"
