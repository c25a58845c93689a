"""Texts to measure the token estimate against tiktoken: chat turns, prose, code, JSON, logs.

Shared by tests/unit/test_tokens.py and benchmarks/tokens.py. Everything is fixed or read from
this repository, so the measured error is reproducible.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHAT = [
    "hi",
    "You are terse.",
    "Prefer tools.",
    "Sure.",
    "Let me look.",
    "I can't.",
    "3 results",
    "What's the weather in Paris tomorrow? I'm packing for a three-day trip and can't decide on a coat.",
    "Tomorrow in Paris: 14°C, light rain in the morning, clearing by 3pm. A light waterproof jacket should do.",
    "Can you summarise the last meeting's action items and assign owners? We're behind on the Q3 roadmap.",
    "I've found 12 matching files; the failing test is tests/unit/test_cursor.py::test_decode_rejects_garbage.",
    "Please refactor the `MessageService.get_messages` method so paging and editing don't duplicate logic.",
]

PROSE = [
    (
        "Agents forget. Every new conversation starts from nothing unless someone hands the model what "
        "happened before, and the model's context window is finite, so what gets handed over has to be "
        "chosen with care. Old tool results are usually the first thing to go: a directory listing from "
        "forty turns ago rarely matters, while the user's original request almost always does."
    ),
    (
        "The committee met on Tuesday, 14 March 2023, to review the budget. After a lengthy discussion, "
        "members agreed to postpone the decision until the auditors' report is available. Mrs. Okafor "
        "noted that the previous year's figures had been restated twice; Mr. Lindqvist asked whether the "
        "restatements affected the pension liabilities (they did not)."
    ),
    "Schöne Grüße aus München! Wir haben uns sehr über Ihre Nachricht gefreut und antworten bald ausführlich.",
    "¿Dónde está la biblioteca? Necesito devolver tres libros antes del miércoles, si es posible.",
    "Привет! Как дела? Я пишу тебе из Москвы, здесь уже выпал первый снег.",
    "今日は東京で会議があります。資料は昨日送りましたので、ご確認ください。",
    "我们明天上午十点在会议室讨论新版本的发布计划，请准时参加。",
]

JSON_VALUES = [
    {"location": "Paris, FR", "unit": "celsius", "days": 3},
    {"query": "SELECT id, name FROM users WHERE created_at > '2024-01-01' ORDER BY id LIMIT 50"},
    {"path": "src/acontext_mcp/services/messages.py", "start_line": 120, "end_line": 180},
    {
        "results": [
            {"id": "doc_8f3a2c", "score": 0.9312, "title": "Refund policy", "snippet": "Refunds within 30 days."},
            {"id": "doc_1b77e0", "score": 0.8125, "title": "Shipping times", "snippet": "EU orders ship in 2-4 days."},
        ],
        "total": 2,
        "took_ms": 17,
    },
    {"temperature": 14.2, "humidity": 0.81, "wind_kph": 12, "conditions": ["rain", "clearing"], "alerts": None},
]

LOGS = [
    (
        "2026-11-25T09:14:03.112Z INFO  server: listening on 127.0.0.1:8029\n"
        "2026-11-25T09:14:05.480Z WARN  db: slow query (412 ms): SELECT * FROM messages WHERE session_id = ?\n"
        "2026-11-25T09:14:07.001Z ERROR http: 502 Bad Gateway upstream=10.0.3.17:443 retry=2/5\n"
    ),
    (
        "total 48\ndrwxr-xr-x  5 dev dev 4096 Nov 25 09:12 .\ndrwxr-xr-x 12 dev dev 4096 Nov 24 17:40 ..\n"
        "-rw-r--r--  1 dev dev 1873 Nov 25 09:12 README.md\n-rw-r--r--  1 dev dev  912 Nov 25 09:01 pyproject.toml\n"
        "drwxr-xr-x  3 dev dev 4096 Nov 25 09:10 src\ndrwxr-xr-x  4 dev dev 4096 Nov 25 09:11 tests\n"
    ),
    (
        "Traceback (most recent call last):\n  File \"/app/main.py\", line 42, in <module>\n    run()\n"
        "  File \"/app/main.py\", line 17, in run\n    total = sum(x.price for x in items) / len(items)\n"
        "ZeroDivisionError: division by zero\n"
    ),
    "https://example.com/api/v2/orders?customer=cus_9KxQ2mZ&status=open&page=3&per_page=25",
    "call_Xy7Pq2LmN8vR0tZs4Kb1 file-9sQzT3cVwL2mNpR8 toolu_01A09q90qw90lq917835lq9",
]


def repository_texts() -> list[tuple[str, str]]:
    """Code and prose from this repository: the package's source and the README."""
    paths = [ROOT / "README.md", *sorted((ROOT / "acontext_mcp").rglob("*.py"))]
    return [("code" if path.suffix == ".py" else "prose", path.read_text()) for path in paths]


def corpus() -> list[tuple[str, str]]:
    """(kind, text) pairs: chat, prose, json, logs, and code/prose from the repository."""
    return [
        *(("chat", text) for text in CHAT),
        *(("prose", text) for text in PROSE),
        *(("json", json.dumps(value)) for value in JSON_VALUES),
        *(("json", json.dumps(value, indent=2)) for value in JSON_VALUES),
        *(("logs", text) for text in LOGS),
        *repository_texts(),
    ]
