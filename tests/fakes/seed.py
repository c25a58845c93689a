"""The seed scenario (its data lives in acontext_mcp/demo.py), with the task agent's scripted answer.

`SCRIPT(ids)` is what a good task agent would answer for them: three tasks, the first done with
two progress lines and one user preference, two still pending.
"""

from __future__ import annotations

from typing import Any

from acontext_mcp.demo import (
    DOM_DUMP,
    HERO_HTML,
    MESSAGES,
    PREFERENCE,
    PROGRESSES,
    SCREENSHOT,
    TASKS,
)

__all__ = ["DOM_DUMP", "EXPECTED", "HERO_HTML", "MESSAGES", "PREFERENCE", "PROGRESSES", "SCREENSHOT", "TASKS",
           "script"]


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
