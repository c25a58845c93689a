"""`acontext-mcp install claude-code` / `uninstall claude-code`: our hooks and MCP server entry in
Claude Code's settings, merged with what is there.

Hooks go to `settings.json` (`~/.claude/settings.json`, or `DIR/.claude/settings.json` with
`--project DIR`); the MCP server entry to `~/.claude.json` (user scope) or `DIR/.mcp.json`.
Our entries are recognised by their command (`... acontext-mcp hook claude-code ...`) and the
server name `acontext`; a user's own hooks and servers are never changed, and `uninstall`
removes only ours.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acontext_mcp.hook import DEFAULT_URL, EVENTS

SERVER_NAME = "acontext"
_OURS = re.compile(r"acontext-mcp\S*\s+hook\s+claude-code\b")


@dataclass(frozen=True)
class Change:
    """One settings file and its new content."""

    path: Path
    before: dict[str, Any]
    after: dict[str, Any]

    @property
    def text(self) -> str:
        return json.dumps(self.after, indent=2, ensure_ascii=False) + "\n"


def command_path() -> str:
    """The installed `acontext-mcp` next to this interpreter, else the bare name (found on PATH)."""
    beside = Path(sys.executable).parent / "acontext-mcp"
    return str(beside) if beside.exists() else "acontext-mcp"


def hook_command(url: str = DEFAULT_URL, space: str | None = None, command: str | None = None) -> str:
    words = [command or command_path(), "hook", "claude-code", "--url", url]
    if space:
        words += ["--space", space]
    return shlex.join(words)


def plan_install(home: Path, project: Path | None, url: str = DEFAULT_URL, space: str | None = None,
                 command: str | None = None) -> list[Change]:
    """The changes that install our hooks and MCP server entry (ours replaced if already there)."""
    settings_path, servers_path = _paths(home, project)
    settings = _read(settings_path)
    hooks = _without_ours(settings.get("hooks", {}))
    ours = {"type": "command", "command": hook_command(url, space, command), "timeout": 10}
    for event in EVENTS:
        hooks.setdefault(event, []).append({"hooks": [dict(ours)]})
    servers = _read(servers_path)
    mcp = {**servers.get("mcpServers", {}), SERVER_NAME: {"type": "http", "url": f"{url.rstrip('/')}/mcp"}}
    return [Change(settings_path, settings, {**settings, "hooks": hooks}),
            Change(servers_path, servers, {**servers, "mcpServers": mcp})]


def plan_uninstall(home: Path, project: Path | None) -> list[Change]:
    """The changes that remove our hooks and our MCP server entry, and nothing else."""
    settings_path, servers_path = _paths(home, project)
    settings = _read(settings_path)
    after = dict(settings)
    hooks = _without_ours(settings.get("hooks", {}))
    if hooks:
        after["hooks"] = hooks
    else:
        after.pop("hooks", None)
    servers = _read(servers_path)
    rest = dict(servers)
    mcp = {name: entry for name, entry in servers.get("mcpServers", {}).items()
           if not (name == SERVER_NAME and _is_ours(entry))}
    if mcp:
        rest["mcpServers"] = mcp
    else:
        rest.pop("mcpServers", None)
    return [Change(settings_path, settings, after), Change(servers_path, servers, rest)]


def apply(changes: list[Change]) -> None:
    for change in changes:
        if change.after == change.before:
            continue
        change.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = change.path.with_name(change.path.name + ".acontext-tmp")
        temporary.write_text(change.text, encoding="utf-8")
        temporary.replace(change.path)


def _paths(home: Path, project: Path | None) -> tuple[Path, Path]:
    if project is not None:
        return project / ".claude" / "settings.json", project / ".mcp.json"
    return home / ".claude" / "settings.json", home / ".claude.json"


def _read(path: Path) -> dict[str, Any]:
    """A settings file's JSON object ({} when absent). Raises ValueError for one that is not."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); fix or move it, then run this again") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path} does not hold a JSON object; fix or move it, then run this again")
    return value


def _without_ours(hooks: Any) -> dict[str, Any]:
    """The hooks setting with our commands taken out (a group or event left empty goes too)."""
    if not isinstance(hooks, dict):
        return {}
    kept: dict[str, Any] = {}
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            kept[event] = groups
            continue
        new_groups = []
        for group in groups:
            if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
                new_groups.append(group)
                continue
            commands = [hook for hook in group["hooks"] if not _is_ours(hook)]
            if commands:
                new_groups.append({**group, "hooks": commands})
        if new_groups:
            kept[event] = new_groups
    return kept


def _is_ours(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    if isinstance(entry.get("command"), str) and _OURS.search(entry["command"]):
        return True
    return entry.get("type") == "http" and str(entry.get("url", "")).endswith("/mcp") or (
        "acontext-mcp" in str(entry.get("command", "")))
