"""Disk tools and the disk:// resource through an in-process MCP client on a real SQLite file."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from mcp import Client, MCPError

from acontext_mcp import Settings
from tests.support.mcp import call, call_error

pytestmark = pytest.mark.anyio


@pytest.fixture
async def disk_id(client: Client) -> str:
    return (await call(client, "create_disk", name="work"))["id"]


def artifact_files(settings: Settings) -> list[Path]:
    root = settings.data_dir / "artifacts"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


async def test_todo_flow(client: Client, disk_id: str) -> None:
    """What an agent does: write /todo/todo.md, list /todo/, grep it, read it back through the resource."""
    todo = "# Todo\n- [ ] ship disks\n- [x] design\n"
    written = await call(client, "upsert_artifact", disk_id=disk_id, file_path="/todo/", filename="todo.md",
                         content=todo, meta={"owner": "agent"})
    assert written["mime_type"] == "text/markdown" and written["size"] == len(todo)

    listing = await call(client, "list_artifacts", disk_id=disk_id, path="/todo/")
    assert [f["filename"] for f in listing["files"]] == ["todo.md"] and listing["folders"] == []
    assert (await call(client, "list_artifacts", disk_id=disk_id))["folders"] == ["/todo/"]

    grep = await call(client, "grep_artifacts", disk_id=disk_id, pattern=r"- \[ \]")
    assert grep["matches"] == [{"file_path": "/todo/", "filename": "todo.md", "line_number": 2,
                                "line": "- [ ] ship disks"}]
    globbed = await call(client, "glob_artifacts", disk_id=disk_id, pattern="**/*.md")
    assert [a["filename"] for a in globbed["items"]] == ["todo.md"]

    read = await client.read_resource(f"disk://{disk_id}/todo/todo.md")
    assert read.contents[0].text == todo  # type: ignore[union-attr]
    assert read.contents[0].mime_type == "text/markdown"
    got = await call(client, "get_artifact", disk_id=disk_id, file_path="/todo/", filename="todo.md")
    assert (got["content"], got["encoding"], got["meta"]) == (todo, "utf-8", {"owner": "agent"})


async def test_binary_resource_and_resource_list(client: Client, disk_id: str) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x01"
    await call(client, "upsert_artifact", disk_id=disk_id, file_path="/shots/", filename="a b.png",
               content=base64.b64encode(png).decode(), encoding="base64")
    await call(client, "upsert_artifact", disk_id=disk_id, file_path="/", filename="notes.txt", content="n")

    listed = {r.name: r for r in (await client.list_resources()).resources}
    assert set(listed) == {"/shots/a b.png", "/notes.txt"}
    image = listed["/shots/a b.png"]
    assert (str(image.uri), image.mime_type, image.size) == (f"disk://{disk_id}/shots/a%20b.png", "image/png", 10)

    read = await client.read_resource(str(image.uri))
    assert base64.b64decode(read.contents[0].blob) == png  # type: ignore[union-attr]
    assert read.contents[0].mime_type == "image/png"
    templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
    assert "disk://{disk_id}/{+path}" in templates


@pytest.mark.parametrize(
    ("uri_path", "expected"),
    [("../etc/passwd", "'..'"), ("todo/", "names a folder"), ("todo/missing.md", "not found"),
     ("a%00b/c.md", "NUL"), ("a%5C..%5Cb/c", "backslash")],
    ids=["dotdot", "folder", "missing", "nul", "backslash"],
)
async def test_resource_read_errors(client: Client, disk_id: str, uri_path: str, expected: str) -> None:
    with pytest.raises(MCPError, match=expected):
        await client.read_resource(f"disk://{disk_id}/{uri_path}")


HOSTILE = {
    "dotdot": ("../", "x.md", "'..'"),
    "dotdot-deep": ("/todo/../../../etc/", "passwd", "'..'"),
    "dot": ("/./", "x.md", "'.'"),
    "unc": ("//server/share/", "x.md", "empty name"),
    "file-url": ("file:///etc/", "passwd", "empty name"),
    "backslash-dotdot": ("..\\..\\", "x.md", "backslash"),
    "windows-drive": ("C:\\Windows\\", "x.md", "backslash"),
    "nul-in-folder": ("/to\x00do/", "x.md", "NUL"),
    "newline-in-folder": ("/todo\n/", "x.md", "U+000A"),
    "bidi-override": ("/\u202etxt.exe/", "x.md", "U+202E"),
    "long-segment": ("/" + "a" * 300 + "/", "x.md", "over the limit of 255"),
    "long-total": ("/" + "/".join(["abcdefgh"] * 130) + "/", "x.md", "over the limit of 1024"),
    "empty-filename": ("/todo/", "", "empty name"),
    "dotdot-filename": ("/todo/", "..", "'..'"),
    "slash-filename": ("/todo/", "../../x.md", "put folders in file_path"),
    "nul-filename": ("/todo/", "x\x00.md", "NUL"),
    "blank-filename": ("/todo/", "   ", "whitespace"),
    "long-filename": ("/todo/", "é" * 200 + ".md", "over the limit of 255"),
}


@pytest.mark.parametrize(("file_path", "filename", "expected"), HOSTILE.values(), ids=HOSTILE.keys())
async def test_hostile_paths_are_refused_and_write_nothing(
    client: Client, settings: Settings, disk_id: str, file_path: str, filename: str, expected: str
) -> None:
    error = await call_error(client, "upsert_artifact", disk_id=disk_id, file_path=file_path, filename=filename,
                             content="pwned")
    assert expected in error
    assert "file_path" in error or "filename" in error
    assert (await call(client, "list_disks"))["items"][0]["artifact_count"] == 0
    assert artifact_files(settings) == []
    assert not any(p.name in ("passwd", "x.md") for p in settings.data_dir.parent.rglob("*"))


async def test_bad_content_and_missing_disk_write_nothing(client: Client, settings: Settings, disk_id: str) -> None:
    base = {"disk_id": disk_id, "file_path": "/", "filename": "f.bin"}
    assert "not valid base64" in await call_error(client, "upsert_artifact", **base, content="%%%", encoding="base64")
    assert "encoding" in await call_error(client, "upsert_artifact", **base, content="x", encoding="latin-1")
    missing = await call_error(client, "upsert_artifact", **{**base, "disk_id": "nope"}, content="x")
    assert "disk 'nope' not found; call list_disks" in missing
    assert artifact_files(settings) == []
    assert (await call(client, "list_disks"))["items"][0]["artifact_count"] == 0


async def test_public_url_over_stdio_is_null_with_a_note(client: Client, disk_id: str) -> None:
    await call(client, "upsert_artifact", disk_id=disk_id, file_path="/", filename="a.txt", content="hi")
    got = await call(client, "get_artifact", disk_id=disk_id, file_path="/", filename="a.txt", with_public_url=True)
    assert got["public_url"] is None and "stdio" in got["note"] and got["content"] == "hi"


async def test_move_and_delete_tools(client: Client, disk_id: str) -> None:
    await call(client, "upsert_artifact", disk_id=disk_id, file_path="/todo/", filename="a.md", content="a")
    moved = await call(client, "move_artifact", disk_id=disk_id, file_path="/todo/", filename="a.md",
                       new_file_path="/done/", new_filename="a.md")
    assert moved["file_path"] == "/done/"
    deleted = await call(client, "delete_artifact", disk_id=disk_id, file_path="/done/", filename="a.md")
    assert deleted == {"id": moved["id"], "deleted": True}
    assert "not found" in await call_error(client, "get_artifact", disk_id=disk_id, file_path="/done/",
                                           filename="a.md")
    assert await call(client, "delete_disk", disk_id=disk_id) == {"id": disk_id, "deleted": True}
    assert (await call(client, "list_disks"))["items"] == []
