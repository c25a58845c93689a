"""Layering and start-up cost: lower layers never import MCP; the server never imports heavy modules at start."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import acontext_mcp

PACKAGE = Path(acontext_mcp.__file__).parent
PLAIN_LAYERS = ("services", "store", "formats")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", PLAIN_LAYERS)
def test_plain_layers_do_not_import_mcp(layer: str) -> None:
    for path in (PACKAGE / layer).rglob("*.py"):
        offending = {name for name in imported_modules(path) if name == "mcp" or name.startswith("mcp.")}
        assert not offending, f"{path.relative_to(PACKAGE)} imports {offending}"


@pytest.mark.slow  # a python process
def test_starting_the_server_does_not_import_heavy_modules() -> None:
    """Cold start stays fast: lancedb, openai and tiktoken load only when a feature needs them."""
    probe = (
        "import sys\n"
        "from acontext_mcp.cli import build_parser\n"
        "from acontext_mcp.server import build_server, build_http_app\n"
        "from acontext_mcp.settings import Settings\n"
        "build_server(Settings())\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'lancedb', 'openai', 'tiktoken', 'pyarrow', 'pandas'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"


@pytest.mark.slow  # a python process
def test_library_use_without_mcp(tmp_path: Path) -> None:
    """The documented library use stores and reads a message and never loads the MCP SDK."""
    probe = (
        "import sys, anyio\n"
        "from acontext_mcp import AcontextService, Settings\n"
        "async def main():\n"
        f"    async with AcontextService.open(Settings(data_dir={str(tmp_path)!r})) as acx:\n"
        "        session = await acx.sessions.create_session()\n"
        "        await acx.messages.send_message(session.id, {'role': 'user', 'content': 'hi'})\n"
        "        page = await acx.messages.get_messages(session.id, 'anthropic')\n"
        "        print(page.items, 'mcp' in sys.modules)\n"
        "anyio.run(main)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[{'role': 'user', 'content': 'hi'}] False"

