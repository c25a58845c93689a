"""The dashboard reads through the services only: no store imports, no SQL, no `service.db`."""

from __future__ import annotations

import ast
from pathlib import Path

import acontext_mcp.dashboard
from tests.unit.test_architecture import imported_modules

DASHBOARD = Path(acontext_mcp.dashboard.__file__).parent
MODULES = sorted(DASHBOARD.rglob("*.py"))


def test_dashboard_modules_do_not_reach_below_the_services() -> None:
    assert len(MODULES) >= 6
    for path in MODULES:
        below = {name for name in imported_modules(path)
                 if name.startswith(("acontext_mcp.store", "sqlite3", "aiosqlite", "mcp"))}
        assert not below, f"{path.relative_to(DASHBOARD)} imports {below}"
        database = [node.lineno for node in ast.walk(ast.parse(path.read_text()))
                    if isinstance(node, ast.Attribute) and node.attr == "db"]
        assert not database, f"{path.relative_to(DASHBOARD)} uses .db on lines {database}"
