"""DiskService on a real SQLite file, with artifact bytes on the local filesystem and on memory://."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import anyio
import fsspec
import pytest
from fsspec.core import url_to_fs
from fsspec.implementations.memory import MemoryFileSystem

from acontext_mcp import Container, InvalidArgument, NotFound, PayloadTooLarge, Settings
from acontext_mcp.errors import InvalidToken, NotFound
from acontext_mcp.services.disks import service as disks_module
from acontext_mcp.services.disks.public_urls import UrlSigner
from acontext_mcp.services.disks.service import DiskService

pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


@pytest.fixture(params=["local", "memory"])
def disk_settings(request: pytest.FixtureRequest, data_dir: Path) -> Settings:
    url = f"memory://acx-test-{uuid4().hex}" if request.param == "memory" else None
    return Settings(data_dir=data_dir, artifact_url=url, max_artifact_bytes=100_000)


@pytest.fixture
async def acx(disk_settings: Settings) -> AsyncIterator[Container]:
    async with Container.open(disk_settings) as opened:
        yield opened


@pytest.fixture
def disks(acx: Container) -> DiskService:
    return acx.disks


def stored_files(settings: Settings) -> list[str]:
    """Every file under the artifact store's root, temporary ones included."""
    fs, root = url_to_fs(settings.artifacts_url)
    return fs.find(root) if fs.exists(root) else []


async def test_text_and_binary_round_trip(disks: DiskService) -> None:
    disk = await disks.create_disk("notes")
    text = await disks.upsert_artifact(disk.id, "/todo/", "todo.md", "- [ ] write tests\n", meta={"by": "agent"})
    assert (text.file_path, text.filename, text.size, text.mime_type) == ("/todo/", "todo.md", 18, "text/markdown")
    assert text.sha256 == hashlib.sha256(b"- [ ] write tests\n").hexdigest()
    await disks.upsert_artifact(disk.id, "todo/img", "shot.png", base64.b64encode(PNG).decode(), "base64")

    got = await disks.get_artifact(disk.id, "todo", "todo.md")
    assert (got.content, got.encoding, got.meta, got.id) == ("- [ ] write tests\n", "utf-8", {"by": "agent"}, text.id)
    image = await disks.get_artifact(disk.id, "/todo/img/", "shot.png")
    assert (image.encoding, image.mime_type, base64.b64decode(image.content or "")) == ("base64", "image/png", PNG)
    bare = await disks.get_artifact(disk.id, "/todo/", "todo.md", with_content=False)
    assert bare.content is None and bare.sha256 == text.sha256

    root = await disks.list_artifacts(disk.id)
    assert (root.path, root.folders, root.files) == ("/", ["/todo/"], [])
    todo = await disks.list_artifacts(disk.id, "/todo/")
    assert todo.folders == ["/todo/img/"] and [f.filename for f in todo.files] == ["todo.md"]
    assert (await disks.list_disks()).items[0].artifact_count == 2


async def test_upsert_replaces_content_and_drops_old_bytes(disks: DiskService, disk_settings: Settings) -> None:
    disk = await disks.create_disk()
    first = await disks.upsert_artifact(disk.id, "/", "a.txt", "one")
    second = await disks.upsert_artifact(disk.id, "/", "a.txt", "two", meta={"v": 2})
    assert (second.id, second.created_at) == (first.id, first.created_at)
    assert second.updated_at > first.updated_at
    assert (await disks.get_artifact(disk.id, "/", "a.txt")).content == "two"
    assert len(stored_files(disk_settings)) == 1


async def test_move_delete_and_delete_disk(disks: DiskService, disk_settings: Settings) -> None:
    disk = await disks.create_disk()
    await disks.upsert_artifact(disk.id, "/todo/", "a.md", "A")
    await disks.upsert_artifact(disk.id, "/done/", "b.md", "B")
    moved = await disks.move_artifact(disk.id, "/todo/", "a.md", "/done/", "a.md")
    assert (moved.file_path, moved.filename) == ("/done/", "a.md")
    assert (await disks.get_artifact(disk.id, "/done/", "a.md")).content == "A"
    with pytest.raises(NotFound, match="artifact '/todo/a.md' not found"):
        await disks.get_artifact(disk.id, "/todo/", "a.md")
    with pytest.raises(InvalidArgument, match="/done/b.md already exists"):
        await disks.move_artifact(disk.id, "/done/", "a.md", "/done/", "b.md")
    with pytest.raises(InvalidArgument, match="new_file_path"):
        await disks.move_artifact(disk.id, "/done/", "a.md", "/../", "b.md")

    await disks.delete_artifact(disk.id, "/done/", "a.md")
    assert [f.filename for f in (await disks.list_artifacts(disk.id, "/done/")).files] == ["b.md"]
    assert len(stored_files(disk_settings)) == 1
    with pytest.raises(NotFound, match="artifact '/done/a.md'"):
        await disks.delete_artifact(disk.id, "/done/", "a.md")

    await disks.delete_disk(disk.id)
    assert stored_files(disk_settings) == []
    assert (await disks.list_disks()).items == []
    with pytest.raises(NotFound, match="disk .* not found; call list_disks"):
        await disks.list_artifacts(disk.id)


async def test_glob(disks: DiskService) -> None:
    disk = await disks.create_disk()
    for folder, name in [("/", "readme.md"), ("/todo/", "todo.md"), ("/todo/deep/", "x.md"), ("/todo/", "a.txt")]:
        await disks.upsert_artifact(disk.id, folder, name, "x")
    found = await disks.glob_artifacts(disk.id, "**/*.md")
    assert [f"{a.file_path}{a.filename}" for a in found.items] == ["/readme.md", "/todo/todo.md", "/todo/deep/x.md"]
    assert [a.filename for a in (await disks.glob_artifacts(disk.id, "/todo/*")).items] == ["a.txt", "todo.md"]


async def test_grep(disks: DiskService) -> None:
    disk = await disks.create_disk()
    await disks.upsert_artifact(disk.id, "/todo/", "todo.md", "# Todo\n- [ ] tests\n- [x] code\n- [ ] docs\n")
    await disks.upsert_artifact(disk.id, "/notes/", "n.txt", "nothing to do\n- [ ] elsewhere\n")
    await disks.upsert_artifact(disk.id, "/todo/", "bin.dat", base64.b64encode(b"\x00- [ ] x\xff").decode(), "base64")

    result = await disks.grep_artifacts(disk.id, r"^- \[ \]", path="/todo/")
    assert [(m.filename, m.line_number, m.line) for m in result.matches] == [
        ("todo.md", 2, "- [ ] tests"), ("todo.md", 4, "- [ ] docs")
    ]
    assert (result.truncated, result.files_scanned) == (False, 1)
    everywhere = await disks.grep_artifacts(disk.id, r"\[ \]", limit=2)
    assert [(m.file_path, m.line_number) for m in everywhere.matches] == [("/notes/", 2), ("/todo/", 2)]
    assert everywhere.truncated and "limit=2" in (everywhere.note or "")

    with pytest.raises(InvalidArgument, match="not a valid regular expression"):
        await disks.grep_artifacts(disk.id, "([")
    with pytest.raises(InvalidArgument, match="over the limit of 1000"):
        await disks.grep_artifacts(disk.id, "a" * 1001)
    with pytest.raises(InvalidArgument, match="limit must be between"):
        await disks.grep_artifacts(disk.id, "a", limit=0)


async def test_grep_refuses_a_runaway_pattern(disks: DiskService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disks_module, "GREP_TIMEOUT_SECONDS", 0.3)
    disk = await disks.create_disk()
    await disks.upsert_artifact(disk.id, "/", "a.txt", "a" * 40 + "!\n")
    with anyio.fail_after(5):
        with pytest.raises(InvalidArgument, match="pattern ran longer than 0.3 s"):
            await disks.grep_artifacts(disk.id, r"(a|aa)+$")


async def test_grep_stops_at_the_scan_budget(disks: DiskService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disks_module, "MAX_GREP_SCAN_BYTES", 25)
    disk = await disks.create_disk()
    for name in ["a.txt", "b.txt", "c.txt"]:
        await disks.upsert_artifact(disk.id, "/", name, "match me\n")  # 9 bytes each
    result = await disks.grep_artifacts(disk.id, "match")
    assert [m.filename for m in result.matches] == ["a.txt", "b.txt"]
    assert result.truncated and "narrow `path`" in (result.note or "")
    monkeypatch.setattr(disks_module, "MAX_GREP_SCAN_BYTES", 5)  # a first file over budget is still searched
    assert [m.filename for m in (await disks.grep_artifacts(disk.id, "match")).matches] == ["a.txt"]


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"content": "not base64!", "encoding": "base64"}, InvalidArgument, "not valid base64"),
        ({"content": "QUJ", "encoding": "base64"}, InvalidArgument, "not valid base64"),
        ({"content": "x" * 100_001}, PayloadTooLarge, "ACONTEXT_MAX_ARTIFACT_BYTES"),
        ({"content": base64.b64encode(b"x" * 100_001).decode(), "encoding": "base64"}, PayloadTooLarge, "100000"),
        ({"content": "\ud800"}, InvalidArgument, "not valid Unicode"),
        ({"content": "x", "meta": {"bad": float("nan")}}, InvalidArgument, "meta must be JSON-serialisable"),
        ({"content": "x", "disk_id": "missing"}, NotFound, "disk 'missing' not found"),
        ({"content": "x", "file_path": "/a/../b/"}, InvalidArgument, "'..'"),
        ({"content": "x", "filename": "a/b"}, InvalidArgument, "put folders in file_path"),
    ],
    ids=["bad-base64", "bad-padding", "oversize-text", "oversize-base64", "surrogate", "bad-meta", "missing-disk",
         "traversal", "slash-in-name"],
)
async def test_bad_upserts_write_nothing(
    disks: DiskService, disk_settings: Settings, arguments: dict, error: type[Exception], message: str
) -> None:
    disk = await disks.create_disk()
    call = {"disk_id": disk.id, "file_path": "/", "filename": "f.txt", **arguments}
    with pytest.raises(error, match=message):
        await disks.upsert_artifact(**call)
    assert stored_files(disk_settings) == []
    assert (await disks.list_disks()).items[0].artifact_count == 0


async def test_concurrent_upserts_of_one_path_keep_one_writers_bytes(
    disks: DiskService, disk_settings: Settings
) -> None:
    disk = await disks.create_disk()
    contents = {bytes([0, i]) * 45_000 for i in range(1, 9)}  # binary: NUL bytes

    async def write(data: bytes) -> None:
        await disks.upsert_artifact(disk.id, "/race/", "f.bin", base64.b64encode(data).decode(), "base64")

    async with anyio.create_task_group() as tg:
        for data in contents:
            tg.start_soon(write, data)
    final = await disks.get_artifact(disk.id, "/race/", "f.bin")
    data = base64.b64decode(final.content or "")
    assert data in contents
    assert final.sha256 == hashlib.sha256(data).hexdigest() and final.size == len(data)
    assert len(stored_files(disk_settings)) == 1


async def test_reads_during_overwrites_always_see_whole_versions(disks: DiskService) -> None:
    disk = await disks.create_disk()
    versions = [f"version {i}\n".encode() * 500 for i in range(20)]
    await disks.upsert_artifact(disk.id, "/", "f.txt", versions[0].decode())
    seen: set[bytes] = set()

    async def read_until_done(done: anyio.Event) -> None:
        while not done.is_set():
            artifact, data = await disks.read_artifact(disk.id, "/", "f.txt")
            assert hashlib.sha256(data).hexdigest() == artifact.sha256
            seen.add(data)

    done = anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(read_until_done, done)
        for version in versions[1:]:
            await disks.upsert_artifact(disk.id, "/", "f.txt", version.decode())
        done.set()
    assert seen <= set(versions) and seen


async def test_lost_bytes_give_a_clear_error(disks: DiskService, disk_settings: Settings) -> None:
    disk = await disks.create_disk()
    await disks.upsert_artifact(disk.id, "/", "a.txt", "hello")
    fs, _ = url_to_fs(disk_settings.artifacts_url)
    fs.rm_file(stored_files(disk_settings)[0])
    with pytest.raises(NotFound, match="lost or changed them; upsert the file again"):
        await disks.get_artifact(disk.id, "/", "a.txt")


async def test_public_url_needs_an_http_server(disks: DiskService) -> None:
    disk = await disks.create_disk()
    await disks.upsert_artifact(disk.id, "/", "a.txt", "hello")
    got = await disks.get_artifact(disk.id, "/", "a.txt", with_public_url=True)
    assert got.public_url is None and "stdio" in (got.note or "") and got.content == "hello"


async def test_public_url_round_trip(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, transport="http", port=9999)
    async with Container.open(settings) as acx:
        disk = await acx.disks.create_disk()
        await acx.disks.upsert_artifact(disk.id, "/", "a.txt", "hello")
        got = await acx.disks.get_artifact(disk.id, "/", "a.txt", with_content=False, with_public_url=True)
        assert got.public_url and got.public_url.startswith("http://127.0.0.1:9999/artifacts/")
        token = got.public_url.rsplit("/", 1)[1]
        artifact, data = await acx.disks.read_public(token)
        assert (artifact.id, data) == (got.id, b"hello")
        with pytest.raises(InvalidToken):
            await acx.disks.read_public(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
        await acx.disks.upsert_artifact(disk.id, "/", "a.txt", "changed")  # a link shares one version, not the path
        with pytest.raises(NotFound, match="changed after this URL was made"):
            await acx.disks.read_public(token)
    assert (data_dir / "url_secret").stat().st_mode & 0o777 == 0o600


def test_signer_refuses_expired_and_forged_tokens() -> None:
    now = [1_000_000.0]
    signer = UrlSigner(b"s" * 32, "http://h", clock=lambda: now[0])
    url, expires = signer.url("disk", "art", 60)
    token = url.rsplit("/", 1)[1]
    assert expires == 1_000_060 and signer.verify(token) == ("disk", "art", "")
    assert b"disk" not in base64.urlsafe_b64decode(token.partition(".")[0] + "==")  # the ids are not readable
    payload, _, signature = token.partition(".")
    forged_payload = base64.urlsafe_b64encode(b"x" * 12 + b"disk.other..1000060").rstrip(b"=").decode()
    for bad in [f"{forged_payload}.{signature}", f"{payload}.", "garbage", "é.é", "", f"{payload}.é", "AAAA.é"]:
        with pytest.raises(InvalidToken):
            signer.verify(bad)
    with pytest.raises(InvalidToken):
        UrlSigner(b"t" * 32, "http://h", clock=lambda: now[0]).verify(token)
    now[0] += 61
    with pytest.raises(InvalidToken, match="expired"):
        signer.verify(token)


class SigningMemoryFileSystem(MemoryFileSystem):
    """memory:// that presigns URLs, as s3fs and gcsfs do."""

    protocol = "signing-memory"

    def sign(self, path: str, expiration: int = 100, **kwargs: object) -> str:
        return f"https://store.example/{path}?expires_in={expiration}"


async def test_presigned_url_where_the_store_offers_one(data_dir: Path) -> None:
    fsspec.register_implementation("signing-memory", SigningMemoryFileSystem, clobber=True)
    settings = Settings(data_dir=data_dir, artifact_url=f"signing-memory://acx-{uuid4().hex}",
                        public_url_ttl_seconds=120)
    async with Container.open(settings) as acx:
        disk = await acx.disks.create_disk()
        await acx.disks.upsert_artifact(disk.id, "/", "a.txt", "hello")
        got = await acx.disks.get_artifact(disk.id, "/", "a.txt", with_content=False, with_public_url=True)
    assert got.public_url and got.public_url.startswith("https://store.example/") and disk.id in got.public_url
    assert got.public_url.endswith("?expires_in=120") and got.note is None and got.public_url_expires_at


async def test_presigning_can_be_turned_off(data_dir: Path) -> None:
    fsspec.register_implementation("signing-memory", SigningMemoryFileSystem, clobber=True)
    settings = Settings(data_dir=data_dir, artifact_url=f"signing-memory://acx-{uuid4().hex}", presign_urls=False,
                        public_url="https://ctx.example", url_secret="s" * 32)
    async with Container.open(settings) as acx:
        disk = await acx.disks.create_disk()
        await acx.disks.upsert_artifact(disk.id, "/", "a.txt", "hello")
        got = await acx.disks.get_artifact(disk.id, "/", "a.txt", with_content=False, with_public_url=True)
        assert got.public_url and got.public_url.startswith("https://ctx.example/artifacts/")
        artifact, data = await acx.disks.read_public(got.public_url.rsplit("/", 1)[1])
    assert (artifact.filename, data) == ("a.txt", b"hello")


async def test_reads_while_many_clients_overwrite_never_fail(disks: DiskService) -> None:
    """Readers racing several writers of one file get some whole version, never "lost" (issue 24)."""
    disk = await disks.create_disk()
    versions = [f"v{i}\n".encode() * 2000 for i in range(80)]
    await disks.upsert_artifact(disk.id, "/", "hot.txt", versions[0].decode())
    seen: set[bytes] = set()

    async def write(offset: int) -> None:
        for version in versions[offset::4]:
            await disks.upsert_artifact(disk.id, "/", "hot.txt", version.decode())

    async def read_until_done(done: anyio.Event) -> None:
        while not done.is_set():
            artifact, data = await disks.read_artifact(disk.id, "/", "hot.txt")
            assert hashlib.sha256(data).hexdigest() == artifact.sha256
            seen.add(data)

    done = anyio.Event()
    async with anyio.create_task_group() as readers:
        for _ in range(3):
            readers.start_soon(read_until_done, done)
        async with anyio.create_task_group() as writers:
            for offset in range(4):
                writers.start_soon(write, offset)
        done.set()
    assert seen and seen <= set(versions)
