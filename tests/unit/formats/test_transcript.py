"""The compact transcript fed to the task agent: short, with long and binary content summarised."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from acontext_mcp.formats.transcript import Limits, cut, transcript


def msg(role: str, *parts: dict[str, Any], id: str = "m1") -> dict[str, Any]:
    return {"id": id, "role": role, "parts": list(parts)}


PNG_20K = base64.b64encode(b"\x89PNG" + b"\0" * 20_476).decode()


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (msg("user", {"type": "text", "text": "hi there"}), "[m1] user: hi there"),
        (msg("system", {"type": "text", "text": "be brief"}), "[m1] system: be brief"),
        (
            msg("assistant", {"type": "text", "text": "Reading."},
                {"type": "tool-call", "id": "c1", "name": "read", "arguments": '{"p": 1}'}),
            '[m1] assistant: Reading. calls read({"p": 1}) [c1]',
        ),
        (
            msg("user", {"type": "tool-result", "tool_call_id": "c1", "content": [{"type": "text", "text": "42"}]}),
            "[m1] tool result [c1]: 42",
        ),
        (
            msg("user", {"type": "tool-result", "tool_call_id": "c1", "is_error": True,
                         "content": [{"type": "text", "text": "boom"}]}),
            "[m1] tool result [c1]: ERROR boom",
        ),
        (
            msg("user", {"type": "tool-result", "tool_call_id": "c1", "content": []}),
            "[m1] tool result [c1]: (no output)",
        ),
        (
            msg("user", {"type": "text", "text": "see"}, {"type": "image", "media_type": "image/png", "data": PNG_20K}),
            "[m1] user: see [image image/png, 20 KB]",
        ),
        (
            msg("user", {"type": "image", "media_type": "image/jpeg", "blob": {"key": "k", "size": 3_145_728}}),
            "[m1] user: [image image/jpeg, 3.0 MB]",
        ),
        (msg("user", {"type": "image", "url": "https://x.test/a.png"}), "[m1] user: [image https://x.test/a.png]"),
        (msg("user", {"type": "image", "url": f"data:image/png;base64,{PNG_20K}"}), "[m1] user: [image 20 KB]"),
        (
            msg("user", {"type": "file", "filename": "r.pdf", "media_type": "application/pdf", "file_id": "f-1"}),
            "[m1] user: [file r.pdf, application/pdf, id f-1]",
        ),
        (msg("user", {"type": "file", "filename": "a.txt", "text": "abc"}), "[m1] user: [file a.txt: abc]"),
        (msg("user", {"type": "audio", "format": "wav", "data": "AAAA"}), "[m1] user: [audio wav, 3 B]"),
        (
            msg("assistant", {"type": "thinking", "thinking": "secret plan"}, {"type": "text", "text": "ok"}),
            "[m1] assistant: ok",
        ),
        (msg("assistant", {"type": "redacted-thinking", "data": "xx"}), "[m1] assistant: (empty)"),
        (msg("assistant", {"type": "refusal", "refusal": "no"}), "[m1] assistant: (refused: no)"),
    ],
)
def test_message_lines(message: dict[str, Any], expected: str) -> None:
    assert transcript([message]) == expected


def test_cut_keeps_head_and_tail_and_says_what_was_cut() -> None:
    text = "A" * 1000 + "Z" * 1000
    short = cut(text, 300)
    assert short.startswith("AAA") and short.endswith("ZZZ")
    assert "chars cut" in short
    assert len(short) < 330
    kept = short.count("A") + short.count("Z")
    assert f"[{2000 - kept:,} chars cut]" in short
    assert cut("  fits  ", 10) == "fits"


def test_long_tool_output_is_cut_harder_than_conversation_text() -> None:
    long = "x" * 10_000
    lines = transcript(
        [
            msg("user", {"type": "text", "text": long}, id="a"),
            msg("user", {"type": "tool-result", "tool_call_id": "c", "content": [{"type": "text", "text": long}]},
                id="b"),
        ],
        Limits(text=1200, tool_output=400),
    ).splitlines()
    assert 1100 < len(lines[0]) < 1300
    assert 350 < len(lines[1]) < 500


def test_message_with_text_and_tool_results_gives_both() -> None:
    message = msg(
        "user",
        {"type": "tool-result", "tool_call_id": "c1", "content": [{"type": "text", "text": "done"}]},
        {"type": "text", "text": "and now?"},
    )
    assert transcript([message]) == "[m1] user: and now?\n[m1] tool result [c1]: done"
