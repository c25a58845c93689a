"""A seeded data dir for the dashboard tests, written through the service layer."""

from __future__ import annotations

import base64
import os
import struct
import zlib
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import anyio

from acontext_mcp import Container, Settings

XSS_TEXT = "<script>alert('xss')</script>"
XSS_HTML = '<img src=x onerror="alert(2)">'
T = TypeVar("T")
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "dashboard"


def png(width: int, height: int, noise: bool = False) -> bytes:
    """A valid RGB PNG; with `noise` the pixels are random, so it does not compress."""
    row = (lambda: os.urandom(width * 3)) if noise else (lambda: bytes((200, 60, 30)) * width)
    raw = b"".join(b"\x00" + row() for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


SMALL_PNG = png(8, 8)
LARGE_PNG = png(160, 160, noise=True)  # over the default 64 KiB blob threshold: stored as a blob
WAV = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36, b"WAVE", b"fmt ", 16, 1, 1, 8000, 8000, 1, 8, b"data", 0)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(3)</script></svg>'


def data_url(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


WEATHER = [
    {"role": "system", "content": "You are a weather agent."},
    {"role": "user", "content": [
        {"type": "text", "text": "What is the weather in Paris? Here is the sky."},
        {"type": "image_url", "image_url": {"url": data_url("image/png", LARGE_PNG)}},
        {"type": "image_url", "image_url": {"url": data_url("image/png", SMALL_PNG)}},
    ]},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "lookup_weather", "arguments": '{"city": "Paris", "units": "metric"}'}},
    ]},
    {"role": "tool", "tool_call_id": "call_1", "content": "18°C, light rain"},
    {"role": "assistant", "content": "It is 18°C with light rain in Paris."},
    {"role": "user", "content": [
        {"type": "text", "text": "Attached: my trip plan and a drawing."},
        {"type": "file", "file": {"filename": "plan.pdf", "file_data": data_url("application/pdf", b"%PDF-1.4 plan")}},
        {"type": "image_url", "image_url": {"url": data_url("image/svg+xml", SVG)}},
        {"type": "input_audio", "input_audio": {"data": base64.b64encode(WAV).decode(), "format": "wav"}},
    ]},
]
THINKING = {"role": "assistant", "content": [
    {"type": "thinking", "thinking": "The user wants a summary.", "signature": "sig"},
    {"type": "text", "text": "Summary: rain in Paris."},
]}


@dataclass(frozen=True)
class Seeded:
    weather: str
    xss: str
    filler: list[str]


async def seed(service: Container, filler: int = 0) -> Seeded:
    """A weather session (tool call, images, a file, thinking), an XSS session, and `filler` empty ones."""
    extra = [(await service.sessions.create_session(metadata={"n": n})).id for n in range(filler)]
    weather = await service.sessions.create_session(metadata={"agent": "weather-bot", "user": "ada"})
    for message in WEATHER:
        await service.messages.send_message(weather.id, message)
    await service.messages.send_message(weather.id, THINKING, format="anthropic")
    xss = await service.sessions.create_session(metadata={"title": XSS_HTML})
    await service.messages.send_message(xss.id, {"role": "user", "content": XSS_TEXT})
    await service.messages.send_message(xss.id, {"role": "assistant", "content": XSS_HTML})
    return Seeded(weather=weather.id, xss=xss.id, filler=extra)


@dataclass(frozen=True)
class Stores:
    """A space and a disk whose titles, SOP text, file names and contents try to inject HTML."""

    space: str
    page_path: str
    disk: str
    xss_file: str


XSS_SOP = {
    "use_when": XSS_TEXT,
    "preferences": XSS_HTML,
    "tool_sops": [{"tool_name": "open_page", "action": XSS_HTML}, {"tool_name": XSS_TEXT, "action": "second step"}],
}
BINARY = bytes(range(256))


async def seed_stores(service: Container) -> Stores:
    space = await service.spaces.create_space(name=XSS_HTML)
    await service.spaces.create_block(space.id, "/", "folder", "web")
    await service.spaces.create_block(space.id, "/web", "page", XSS_HTML)
    page_path = f"/web/{XSS_HTML}"
    await service.spaces.create_block(space.id, page_path, "text", XSS_TEXT, {"text": XSS_TEXT})
    await service.spaces.create_block(space.id, page_path, "sop", XSS_HTML, XSS_SOP)
    disk = await service.disks.create_disk(name=XSS_HTML)
    files = [("/notes/", f"{XSS_HTML}.txt", XSS_TEXT, "utf-8"),
             ("/pics/", "red.png", base64.b64encode(SMALL_PNG).decode(), "base64"),
             ("/pics/", "drawing.svg", SVG.decode(), "utf-8"),
             ("/", "data.bin", base64.b64encode(BINARY).decode(), "base64")]
    for folder, name, content, encoding in files:
        await service.disks.upsert_artifact(disk.id, folder, name, content, encoding=encoding)  # type: ignore[arg-type]
    return Stores(space=space.id, page_path=page_path, disk=disk.id, xss_file=f"/notes/{XSS_HTML}.txt")


def with_service(data_dir: Path, work: Callable[[Container], Awaitable[T]]) -> T:
    """Run `work` on a service opened on `data_dir`, from synchronous code, as another process would.

    It runs in its own thread, so it works beside Playwright's sync API (which runs an event loop).
    """

    async def run() -> T:
        async with Container.open(Settings(data_dir=data_dir)) as service:
            return await work(service)

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, run).result()


def seed_dir(data_dir: Path, filler: int = 0) -> Seeded:
    return with_service(data_dir, lambda service: seed(service, filler))


@dataclass(frozen=True)
class Pending:
    space: str
    experiences: list[str]  # ids, oldest first: the star SOP for /github/basic_ops, then the XSS one for /web


STAR_SOP = {
    "use_when": "the user asks to star a GitHub repository",
    "preferences": "star only repositories the user names",
    "tool_sops": [{"tool_name": "github_search_repos", "action": "find the repository by owner/name"},
                  {"tool_name": "github_star_repo", "action": "star it and confirm"}],
}


def seed_pending(data_dir: Path, database_url: str | None = None) -> Pending:
    """Two learned SOPs held for confirmation: the real learner, scripted, in a confirm_before_learning space."""
    from acontext_mcp.services.spaces.models import SpaceSettings
    from tests.fakes.openai_server import ScriptedOpenAI
    from tests.support.llm import Router

    router = Router()
    router.calls("extract", [("submit_sop", STAR_SOP)], match="Star")
    router.calls("extract", [("submit_sop", XSS_SOP)], match="XSS")
    router.calls("place", [("create_folder", {"parent_path": "/", "title": "github"}),
                           ("create_page", {"parent_path": "/github", "title": "basic_ops"}),
                           ("place_sop", {"page_path": "/github/basic_ops"})], match="star")
    router.calls("place", [("create_page", {"parent_path": "/", "title": "web"}),
                           ("place_sop", {"page_path": "/web"})], match="open_page")

    async def work(service: Container) -> Pending:
        space = await service.spaces.create_space("learning", SpaceSettings(confirm_before_learning=True))
        for description in ("Star the acontext repo", f"XSS {XSS_TEXT}"):
            session = await service.sessions.create_session(space_id=space.id)
            board = await service.tasks.load_board(session.id)
            board.insert(0, description)
            board.update(1, "success")
            async with service.db.transaction() as tx:
                await board.save(tx)
            service.tasks.learnable()
            await service.learner.flush(None, session.id, timeout_s=20)
        pending = await service.learner.list_pending(space.id)
        return Pending(space.id, [item.id for item in pending.items])

    async def run() -> Pending:
        with ScriptedOpenAI(responder=router) as fake:
            settings = Settings(data_dir=data_dir, database_url=database_url, openai_base_url=fake.base_url,
                                llm_max_retries=0, observer_idle_s=1000, learner_max_attempts=1)
            async with Container.open(settings) as service:
                return await work(service)

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, run).result()
