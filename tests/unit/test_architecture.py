"""Layering and start-up cost: imports point down the layers, no module imports itself back through a
cycle, lower layers never import MCP, and the server never imports heavy modules at start."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import acontext_mcp

PACKAGE = Path(acontext_mcp.__file__).parent
PLAIN_LAYERS = ("services", "queue", "llm", "store", "formats")

# Each layer and the layers it may import (besides itself). The adapters at the top (MCP tools,
# resources and prompts, the REST routes, the dashboard, the CLI) may import anything below them.
LAYER_OF_PACKAGE = {
    "tools": "edge", "resources": "edge", "prompts": "edge", "dashboard": "edge", "server": "edge",
    "cli": "edge", "demo": "edge", "routes": "edge", "api": "edge", "auth": "edge", "glue": "edge",
    "http_limits": "edge", "__init__": "edge", "__main__": "edge", "hook": "edge", "install": "edge",
    "install_cli": "edge",
    "container": "container",
    "settings": "settings",
    "services": "services",
    "queue": "queue",
    "llm": "llm",
    "store": "store",
    "formats": "formats",
    "errors": "base", "projects": "base", "tokens": "base", "redact": "base",
}
BELOW = {
    "container": {"services", "queue", "llm", "store", "formats", "settings", "base"},
    "settings": {"store", "base"},
    "services": {"queue", "llm", "store", "formats", "base"},
    "queue": {"store", "base"},
    "llm": {"formats", "base"},
    "store": {"base"},
    "formats": {"base"},
    "base": {"formats"},  # tokens counts the parts of native messages
}


def module_name(path: Path) -> str:
    parts = ["acontext_mcp", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def layer(module: str) -> str:
    top = module.split(".")[1] if "." in module else "__init__"
    return LAYER_OF_PACKAGE[top]


def package_imports(path: Path, *, at_runtime: bool) -> set[str]:
    """The package's modules `path` imports (`from a import b` names the module a.b when it is one);
    `at_runtime` leaves out imports under `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    if at_runtime:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped |= {id(inner) for inner in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                found.add(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module)
    return {name for name in found if name in MODULES}


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer(module)  # KeyError names a top-level module missing from LAYER_OF_PACKAGE


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_layers(module: str) -> None:
    mine = layer(module)
    if mine == "edge":
        return
    wrong = {
        imported for imported in package_imports(MODULES[module], at_runtime=False)
        if layer(imported) != mine and layer(imported) not in BELOW[mine]
    }
    assert not wrong, f"{module} ({mine}) imports {sorted(wrong)} from layers above it"


def test_no_import_cycles() -> None:
    graph = {module: package_imports(path, at_runtime=True) - {module} for module, path in MODULES.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    assert not cycles, f"import cycles: {cycles}"


def test_services_read_no_settings() -> None:
    """Services get values, not the settings object: only the container reads settings."""
    for module, path in MODULES.items():
        if layer(module) in ("services", "queue", "llm", "store", "formats"):
            assert "acontext_mcp.settings" not in package_imports(path, at_runtime=False), module


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
    """Cold start stays fast: lancedb, openai and tiktoken load only when a feature needs them, and the container
    with the services behind it (store, queue, llm, fsspec) only once it opens, after `initialize` is answered."""
    probe = (
        "import sys\n"
        "from acontext_mcp.cli import build_parser\n"
        "from acontext_mcp.server import build_server, build_http_app\n"
        "from acontext_mcp.settings import Settings\n"
        "build_server(Settings())\n"
        "heavy = {'lancedb', 'openai', 'tiktoken', 'pyarrow', 'pandas', 'fsspec', 'aiosqlite', 'jinja2'}\n"
        "late = {'acontext_mcp.container', 'acontext_mcp.llm', 'acontext_mcp.store.blobs', 'acontext_mcp.api'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy), sorted(late & set(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[] []"


def test_tool_and_prompt_modules_keep_their_annotations_evaluated() -> None:
    """The SDK reads a tool's annotations several times while registering it; as strings (`from __future__ import
    annotations`) each read compiles them again, about 15 ms of every start."""
    for folder in ("tools", "prompts"):
        for path in (PACKAGE / folder).glob("[!_]*.py"):  # the modules that define them, not __init__
            assert not re.search(r"^from __future__ import annotations", path.read_text(), re.M), path.name


@pytest.mark.slow  # a python process
def test_library_use_without_mcp(tmp_path: Path) -> None:
    """The documented library use stores and reads a message and never loads the MCP SDK."""
    probe = (
        "import sys, anyio\n"
        "from acontext_mcp import Container, Settings\n"
        "async def main():\n"
        f"    async with Container.open(Settings(data_dir={str(tmp_path)!r})) as acx:\n"
        "        session = await acx.sessions.create_session()\n"
        "        await acx.messages.send_message(session.id, {'role': 'user', 'content': 'hi'})\n"
        "        page = await acx.messages.get_messages(session.id, 'anthropic')\n"
        "        print(page.items, 'mcp' in sys.modules)\n"
        "anyio.run(main)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[{'role': 'user', 'content': 'hi'}] False"



def test_one_module_writes_each_table() -> None:
    """A table's rows are written by the module that owns it; others call that module's functions."""
    writers: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        for table in re.findall(r"\b(?:INSERT INTO|UPDATE|DELETE FROM) ([a-z_]+)\b", path.read_text()):
            writers.setdefault(table, set()).add(module)
    shared = {table: sorted(modules) for table, modules in writers.items() if len(modules) > 1}
    assert not shared, f"tables written by more than one module: {shared}"
    assert {"sessions", "messages", "observer_queue", "learning_queue", "blocks"} <= writers.keys()
