"""The CLI's `install`, `uninstall` and `import` commands (thin: install.py plans, services store)."""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from acontext_mcp.hook import DEFAULT_URL
from acontext_mcp.install import apply, plan_install, plan_uninstall

if TYPE_CHECKING:
    from acontext_mcp.settings import Settings


def run_install(command: str, host: str, project: Path | None = None, dry_run: bool = False,
                space: str | None = None, url: str | None = None) -> int:
    home = Path.home()
    try:
        if command == "install":
            changes = plan_install(home, project.resolve() if project else None, url or DEFAULT_URL, space)
        else:
            changes = plan_uninstall(home, project.resolve() if project else None)
    except ValueError as exc:
        print(f"acontext-mcp: {exc}", file=sys.stderr)
        return 1
    for change in changes:
        if dry_run:
            print(f"# {change.path}\n{change.text}")
        elif change.after != change.before:
            print(f"acontext-mcp: {'updated' if change.before else 'wrote'} {change.path}", file=sys.stderr)
    if not dry_run:
        apply(changes)
    if command == "install" and not dry_run:
        print("acontext-mcp: Claude Code now stores each session through the server at "
              f"{url}; keep it running (scripts/serve, or acontext-mcp serve --transport http)", file=sys.stderr)
    return 0


def transcripts(paths: list[Path]) -> list[Path]:
    """The transcript files named, or found (recursively, *.jsonl) under the folders named."""
    found: list[Path] = []
    for path in paths:
        found += sorted(path.rglob("*.jsonl")) if path.is_dir() else [path]
    return found


def run_import(settings: Settings, host: str, paths: list[Path], space: str | None, out: TextIO = sys.stderr) -> int:
    """Store every file (`host`: claude-code or openai-jsonl); print a progress bar and a summary.
    1 when some file (or, for openai-jsonl, some line) was refused."""
    import anyio

    from acontext_mcp.container import Container
    from acontext_mcp.errors import AcontextError

    if host == "openai-jsonl" and not paths:
        print("acontext-mcp: import openai-jsonl needs a FILE", file=sys.stderr)
        return 2
    files = transcripts(paths or [Path.home() / ".claude" / "projects"])
    totals: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    refused: list[str] = []
    failed: list[Path] = []
    started = time.monotonic()

    async def run() -> None:
        async with Container.open(settings, background=False) as service:
            for number, path in enumerate(files, start=1):
                try:
                    if host == "openai-jsonl":
                        done = await service.capture.import_openai_jsonl(path, space)
                        refused.extend(f"{path} {reason}" for reason in done.skipped)
                        done.skipped = {}
                    else:
                        done = await service.capture.capture_claude_code(path, space=space, final=True,
                                                                         source="import", strict=True)
                except AcontextError as exc:
                    refused.append(f"{path}: {exc}")
                    failed.append(path)
                else:
                    totals["sessions created"] += done.created
                    totals["messages stored"] += done.messages
                    totals["lines read"] += done.lines
                    skipped.update(done.skipped)
                _progress(out, number, len(files))

    anyio.run(run)
    elapsed = time.monotonic() - started
    rate = totals["lines read"] / elapsed if elapsed > 0 else 0.0
    print(f"\nimported {len(files) - len(failed)} of {len(files)} files in {elapsed:.1f} s "
          f"({rate:,.0f} lines/s): {totals['sessions created']} sessions created, "
          f"{totals['messages stored']} messages stored, {totals['lines read']} lines read", file=out)
    if skipped:
        print("lines not stored as messages: " + ", ".join(f"{kind} {count}" for kind, count in skipped.most_common()),
              file=out)
    for line in refused:
        print(f"refused {line}", file=out)
    return 1 if refused else 0


def _progress(out: TextIO, done: int, total: int, width: int = 30) -> None:
    filled = width * done // max(total, 1)
    out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} files")
    out.flush()
