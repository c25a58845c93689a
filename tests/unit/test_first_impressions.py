"""What a new user meets first: the demo's screenshot is a real PNG, and the example host config is the README's."""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib
from pathlib import Path

from acontext_mcp.demo import SCREENSHOT

ROOT = Path(__file__).parents[2]


def test_the_demo_screenshot_is_a_valid_png() -> None:
    raw = base64.b64decode(SCREENSHOT)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = {}, 8
    while at < len(raw):
        (size,), kind = struct.unpack(">I", raw[at : at + 4]), raw[at + 4 : at + 8]
        data, crc = raw[at + 8 : at + 8 + size], raw[at + 8 + size : at + 12 + size]
        assert struct.unpack(">I", crc)[0] == zlib.crc32(kind + data), kind
        chunks[kind] = data
        at += 12 + size
    width, height, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color) == (8, 2) and width * height > 0
    assert len(zlib.decompress(chunks[b"IDAT"])) == (width * 3 + 1) * height
    assert list(chunks)[-1] == b"IEND"


def test_the_example_claude_desktop_config_is_the_readme_snippet() -> None:
    readme = (ROOT / "README.md").read_text()
    snippet = re.search(r"Claude Desktop, in `claude_desktop_config.json`.*?```json\n(.*?)```", readme, re.DOTALL)
    assert snippet is not None
    example = json.loads((ROOT / "examples" / "claude_desktop_config.json").read_text())
    assert example == json.loads(snippet[1])
    assert "Node.js 22.19" in readme
