"""The seed scenario: an agent building an iPhone 15 Pro Max landing page, in 8 OpenAI-format messages.

`SCRIPT(ids)` is what a good task agent would answer for them: three tasks, the first done with
two progress lines and one user preference, two still pending.
"""

from __future__ import annotations

import base64
import json
from typing import Any

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
SCREENSHOT = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 400).decode()  # ~100 KB, goes to a blob

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


def script(message_ids: list[str]) -> list[list[tuple[str, dict[str, Any]]]]:
    """The task agent's tool calls, one list per model turn."""
    return [
        [("insert_task", {"after_task_order": i, "task_description": d}) for i, d in enumerate(TASKS)],
        [
            ("update_task", {"task_order": 1, "status": "success", "task_description": None}),
            *[("append_task_progress", {"task_order": 1, "progress": p}) for p in PROGRESSES],
            ("append_user_preference", {"task_order": 1, "preference": PREFERENCE}),
            ("link_messages", {"task_order": 1, "message_ids": message_ids[:7]}),
        ],
        [("finish", {})],
    ]


EXPECTED = [
    {"order": 1, "status": "success",
     "data": {"task_description": TASKS[0], "progresses": PROGRESSES, "user_preferences": [PREFERENCE]}},
    {"order": 2, "status": "pending", "data": {"task_description": TASKS[1], "progresses": [], "user_preferences": []}},
    {"order": 3, "status": "pending", "data": {"task_description": TASKS[2], "progresses": [], "user_preferences": []}},
]
