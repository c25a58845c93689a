"""The seed scenario, loadable without an LLM: `acontext-mcp demo` (and `scripts/serve` on a fresh data dir).

An agent builds an iPhone 15 Pro Max landing page in 8 OpenAI-format messages; the observer's
answer for them is three tasks, the first done with two progress lines and one user preference.
`load_demo` writes what a full run would leave behind: a space "demo", the session attached to it
with its messages and tasks, the SOP the learner would draw from task 1, a disk with the page,
and a few earlier days of task outcomes for the success-rate chart. Tests reuse the data here.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from acontext_mcp.container import Container
from acontext_mcp.services.learner import record_learned
from acontext_mcp.services.observer.service import acknowledge_all
from acontext_mcp.services.observer.tasks import TaskBoard

HERO_HTML = (
    "<!doctype html><html><head><script src=\"https://cdn.tailwindcss.com\"></script>"
    "<title>iPhone 15 Pro Max</title></head><body class=\"bg-gradient-to-b from-slate-900 to-black\">"
    + "".join(
        f"<section id=\"s{i}\" class=\"py-24 text-center text-white\"><h2 class=\"text-5xl font-semibold\">"
        f"Titanium. So strong. So light. So Pro. ({i})</h2><p class=\"mt-4 text-xl text-gray-400\">"
        "A17 Pro chip, 48MP main camera, 5x telephoto, USB-C.</p></section>"
        for i in range(20)
    )
    + "</body></html>"
)
DOM_DUMP = "\n".join(f"<div class=\"node-{i}\">rendered node {i}: section > h2 > span</div>" for i in range(150))


def _screenshot(width: int = 240, height: int = 142) -> bytes:
    """A real PNG of the page as the user saw it: a white browser bar over a gradient hero with a title bar.
    Stored uncompressed (about 100 KB), so it goes to a blob as a real screenshot would."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = []
    for y in range(height):
        row = bytearray(b"\x00")  # filter: none
        for x in range(width):
            if y < 14:
                pixel = (236, 236, 240) if not (4 <= y < 10 and 30 <= x < width - 30) else (255, 255, 255)
            elif 60 <= y < 72 and width // 4 <= x < 3 * width // 4:
                pixel = (240, 240, 245)
            else:
                shade = 60 - (y * 50) // height
                pixel = (shade // 2, shade // 2, shade)
            row += bytes(pixel)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 0)) \
        + chunk(b"IEND", b"")


SCREENSHOT = base64.b64encode(_screenshot()).decode()

MESSAGES: list[dict[str, Any]] = [
    {"role": "user", "content": "Build a landing page for the iPhone 15 Pro Max: a hero section, a specs section "
     "and a pre-order button. Use Tailwind CSS in a single index.html."},
    {"role": "assistant", "content": "I'll scaffold index.html with the hero section first.", "tool_calls": [
        {"id": "call_write", "type": "function",
         "function": {"name": "write_file", "arguments": json.dumps({"path": "index.html", "content": HERO_HTML})}}]},
    {"role": "tool", "tool_call_id": "call_write", "content": f"wrote {len(HERO_HTML)} bytes to index.html"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_open", "type": "function",
         "function": {"name": "open_browser", "arguments": json.dumps({"url": "file:///work/site/index.html"})}}]},
    {"role": "tool", "tool_call_id": "call_open", "content": DOM_DUMP},
    {"role": "user", "content": [
        {"type": "text", "text": "Looks good, but make the hero background plain black, no gradient."},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{SCREENSHOT}"}}]},
    {"role": "assistant", "content": "Done: the hero background is now plain black. Next I'll add the specs "
     "section and then the pre-order button."},
    {"role": "user", "content": "Great, keep going."},
]

TASKS = [
    "Build the hero section of the iPhone 15 Pro Max landing page",
    "Add the specs section",
    "Add the pre-order button",
]
PROGRESSES = [
    "I have written index.html with Tailwind CSS and the hero section",
    "I have changed the hero background to plain black",
]
PREFERENCE = "Plain black hero background, no gradient"

SPACE_NAME = "demo"
SOP_FOLDER = "/web/landing_pages"
SOP_PAGE = "build_product_landing_page"
SOP_PATH = f"{SOP_FOLDER}/{SOP_PAGE}"
SOP_TITLE = "Build a product landing page"
SOP: dict[str, Any] = {
    "use_when": "Building a landing page for a product with Tailwind CSS in a single index.html",
    "preferences": PREFERENCE,
    "tool_sops": [
        {"tool_name": "write_file", "action": "write index.html with the Tailwind CDN script and a hero section"},
        {"tool_name": "open_browser", "action": "open file:///.../index.html and check the rendered sections"},
        {"tool_name": "write_file", "action": "apply the user's changes (plain black hero background), then add "
         "the specs section and the pre-order button"},
    ],
}
SOP_NOTE = "Learned from the demo session's first task: the hero section of the iPhone 15 Pro Max page."
# Earlier task outcomes, (days ago, statuses), so the success-rate chart has a history.
HISTORY: list[tuple[int, list[str]]] = [
    (6, ["success", "failed"]),
    (5, ["success", "success", "failed"]),
    (4, ["failed", "failed", "success"]),
    (3, ["success", "success", "success", "failed"]),
    (2, ["success", "success"]),
    (1, ["success", "failed", "success", "success"]),
]


@dataclass(frozen=True)
class Demo:
    space_id: str
    session_id: str
    history_session_id: str
    disk_id: str
    sop_block_id: str


async def load_demo(service: Container, today: datetime | None = None) -> Demo:
    """Write the seed scenario through the services (no LLM involved); see the module docstring."""
    now = today or datetime.now(UTC)
    space = await service.spaces.create_space(name=SPACE_NAME)
    parent = "/"
    for title in SOP_FOLDER.strip("/").split("/"):
        await service.spaces.create_block(space.id, parent, "folder", title)
        parent = f"{parent.rstrip('/')}/{title}"
    await service.spaces.create_block(space.id, SOP_FOLDER, "page", SOP_PAGE)
    await service.spaces.create_block(space.id, SOP_PATH, "text", "Where this came from", {"text": SOP_NOTE})
    sop = await service.spaces.create_block(space.id, SOP_PATH, "sop", SOP_TITLE, SOP)

    session = await service.sessions.create_session(
        space_id=space.id, metadata={"demo": "iPhone 15 Pro Max landing page", "agent": "web-builder"}
    )
    ids = [(await service.messages.send_message(session.id, m)).id for m in MESSAGES]
    board = await service.tasks.load_board(session.id)
    for order, description in enumerate(TASKS):
        board.insert(order, description)
    board.update(1, "success")
    for progress in PROGRESSES:
        board.append_progress(1, progress)
    board.append_preference(1, PREFERENCE)
    board.link(1, ids[:7])
    await _save(service, board, now, learned=sop.id)

    history = await service.sessions.create_session(metadata={"demo": "earlier tasks"})  # no space: nothing to learn
    for days_ago, statuses in HISTORY:
        board = await service.tasks.load_board(history.id)
        start = len(board.tasks)
        for n, status in enumerate(statuses, start + 1):
            board.insert(n - 1, f"Earlier task {n} ({days_ago} days ago)")
            board.update(n, status)
        await _save(service, board, now - timedelta(days=days_ago))

    disk = await service.disks.create_disk(name="demo site")
    await service.disks.upsert_artifact(disk.id, "/site/", "index.html", HERO_HTML, meta={"session": session.id})
    return Demo(space.id, session.id, history.id, disk.id, sop.id)


async def _save(service: Container, board: TaskBoard, at: datetime, learned: str | None = None) -> None:
    """Save a board as the observer would, acknowledging the session's queued messages with it; the task
    that succeeded is recorded as learned into the `learned` SOP block, as the learner would have.
    """
    stamp = at.isoformat(timespec="microseconds")
    async with service.db.transaction() as tx:
        await board.save(tx, now=stamp)
        await acknowledge_all(tx, board.session_id)
        await record_learned(tx, board.session_id, learned, stamp)


async def has_sessions(service: Container) -> bool:
    return bool((await service.sessions.list_sessions(limit=1)).items)
