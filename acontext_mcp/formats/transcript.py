"""A compact plain-text transcript of native messages, for feeding a model cheaply.

    [3f2c…] user: Build me a landing page for the iPhone 15 Pro Max
    [9a1d…] assistant: calls read_file({"path": "index.html"}) [call_1]
    [77b0…] tool result [call_1]: <!doctype html><html>… [4,210 chars cut] …</html>

Long text is cut in the middle (head and tail kept), tool output harder than conversation text;
binary parts (images, audio, files) become one-line summaries; thinking is left out. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Character budgets per piece of a message."""

    text: int = 1200
    tool_arguments: int = 300
    tool_output: int = 400
    system: int = 300


def transcript(messages: list[dict[str, Any]], limits: Limits = Limits()) -> str:
    """One line (or short block) per message: `[id] role: content`.

    Each message is a stored native body (`role`, `parts`) plus its `id`; binary parts may hold
    inline base64 `data` or a `blob` reference, and both are summarised.
    """
    return "\n".join(_message(message, limits) for message in messages)


def cut(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else its head and tail around a note of what was cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    keep = max(limit - 30, 2)
    head, tail = text[: keep * 2 // 3], text[len(text) - keep // 3 :]
    return f"{head} … [{len(text) - len(head) - len(tail):,} chars cut] … {tail}"


def _message(message: dict[str, Any], limits: Limits) -> str:
    role = message["role"]
    prefix = f"[{message['id']}]"
    if role == "system":
        texts = [part.get("text", "") for part in message["parts"]]
        return f"{prefix} system: {cut(' '.join(texts), limits.system)}"
    results = [part for part in message["parts"] if part["type"] == "tool-result"]
    others = [part for part in message["parts"] if part["type"] != "tool-result"]
    lines = [f"{prefix} tool result [{part['tool_call_id']}]: {_tool_result(part, limits)}" for part in results]
    pieces = [piece for part in others if (piece := _part(part, limits))]
    if pieces or not results:
        lines.insert(0, f"{prefix} {role}: {' '.join(pieces) if pieces else '(empty)'}")
    return "\n".join(lines)


def _part(part: dict[str, Any], limits: Limits) -> str:
    kind = part["type"]
    if kind == "text":
        return cut(part["text"], limits.text)
    if kind == "refusal":
        return f"(refused: {cut(part['refusal'], limits.text)})"
    if kind == "tool-call":
        return f"calls {part['name']}({cut(part['arguments'], limits.tool_arguments)}) [{part['id']}]"
    if kind in ("thinking", "redacted-thinking"):
        return ""
    return _binary(part, limits)


def _tool_result(part: dict[str, Any], limits: Limits) -> str:
    pieces = [
        cut(item["text"], limits.tool_output) if item["type"] == "text" else _binary(item, limits)
        for item in part.get("content", [])
    ]
    body = " ".join(pieces) or "(no output)"
    return f"ERROR {body}" if part.get("is_error") else body


def _binary(part: dict[str, Any], limits: Limits) -> str:
    """`[image image/png, 12 KB]`, `[file report.pdf, 40 KB]`, `[image https://…]`.

    File text is cut like tool output.
    """
    kind = part["type"]
    if kind == "file" and part.get("text") is not None:
        name = part.get("filename") or "file"
        return f"[file {name}: {cut(part['text'], limits.tool_output)}]"
    details = [value for value in (part.get("filename"), part.get("media_type") or part.get("format")) if value]
    if part.get("url") and not str(part["url"]).startswith("data:"):
        details.append(cut(str(part["url"]), 120))
    elif part.get("file_id"):
        details.append(f"id {part['file_id']}")
    elif (size := _size(part)) is not None:
        details.append(_human(size))
    return f"[{kind} {', '.join(details)}]" if details else f"[{kind}]"


def _size(part: dict[str, Any]) -> int | None:
    if "blob" in part:
        return int(part["blob"]["size"])
    data = part.get("data") or ""
    if not data and str(part.get("url", "")).startswith("data:"):
        data = str(part["url"]).split(",", 1)[-1]
    if not data:
        return None
    return len(data) * 3 // 4 - data.count("=", len(data) - 2)


def _human(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"
