"""The `acontext-mcp` command.

    acontext-mcp                         serve over stdio (what MCP hosts spawn)
    acontext-mcp serve --transport http  serve streamable HTTP (/mcp), SSE (/sse) and /health
    acontext-mcp migrate                 create or upgrade the database, then exit
    acontext-mcp reindex                 rebuild the spaces' search index from the database
    acontext-mcp --version
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from acontext_mcp import __version__
from acontext_mcp.settings import ENV_VARS, Settings


def _server_options() -> argparse.ArgumentParser:
    """Options shared by the top level and `serve`; SUPPRESS keeps unset flags from overriding env vars."""
    options = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    options.add_argument("--data-dir", type=Path, help=f"where data lives (env {ENV_VARS['data_dir']})")
    options.add_argument(
        "--transport", choices=["stdio", "sse", "http"], help=f"stdio, or sse/http (both serve /mcp and /sse) "
        f"(env {ENV_VARS['transport']}, default stdio)"
    )
    options.add_argument("--host", help=f"HTTP bind address (env {ENV_VARS['host']}, default 127.0.0.1)")
    options.add_argument("--port", type=int, help=f"HTTP port (env {ENV_VARS['port']}, default 8029)")
    options.add_argument("--log-level", help=f"DEBUG, INFO, WARNING, ERROR (env {ENV_VARS['log_level']})")
    options.add_argument(
        "--insecure", action="store_true",
        help=f"allow HTTP on a non-loopback host without {ENV_VARS['token']} (env {ENV_VARS['insecure']})",
    )
    return options


def build_parser() -> argparse.ArgumentParser:
    options = _server_options()
    parser = argparse.ArgumentParser(
        prog="acontext-mcp",
        description="A context data platform for AI agents, served over MCP. With no command, serves over stdio.",
        parents=[options],
    )
    parser.add_argument("--version", action="version", version=f"acontext-mcp {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("serve", parents=[options], help="run the MCP server (default command)")
    commands.add_parser("migrate", parents=[options], help="create or upgrade the database, then exit")
    reindex = commands.add_parser("reindex", parents=[options], help="rebuild the search index from the database")
    reindex.add_argument("--space", dest="space_id", help="rebuild one space only (default: every space)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = vars(build_parser().parse_args(argv))
    command = args.pop("command", None) or "serve"
    space_id = args.pop("space_id", None)
    try:
        settings = Settings.load(**args)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        print(f"acontext-mcp: invalid setting {error['loc'][0]}: {error['msg']}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, stream=sys.stderr)
    if command == "migrate":
        return _migrate(settings)
    if command == "reindex":
        return _reindex(settings, space_id)
    return _serve(settings)


def _serve(settings: Settings) -> int:
    if settings.transport == "stdio":
        from acontext_mcp.server import build_server

        build_server(settings).run("stdio")
        return 0
    import uvicorn

    from acontext_mcp.auth import is_loopback
    from acontext_mcp.server import build_http_app

    if not is_loopback(settings.host) and settings.token is None and not settings.insecure:
        print(
            f"acontext-mcp: refusing to serve on {settings.host} without a token: anyone who can reach it could "
            f"read every session. Set {ENV_VARS['token']}, bind to 127.0.0.1, or pass --insecure.",
            file=sys.stderr,
        )
        return 2

    print(f"acontext-mcp: serving http://{settings.host}:{settings.port}/mcp (and /sse), data in {settings.data_dir}",
          file=sys.stderr)
    uvicorn.run(build_http_app(settings), host=settings.host, port=settings.port,
                log_level=settings.log_level.lower())
    return 0


def _migrate(settings: Settings) -> int:
    import anyio

    from acontext_mcp.store.migrations import migrate
    from acontext_mcp.store.sqlite import Database

    async def run() -> list[str]:
        async with Database.open(settings.database_path) as db:
            return [f"{m.version} {m.name}" for m in await migrate(db)]

    applied = anyio.run(run)
    print(f"{settings.database_path}: " + (f"applied {', '.join(applied)}" if applied else "up to date"))
    return 0


def _reindex(settings: Settings, space_id: str | None) -> int:
    import anyio

    from acontext_mcp.errors import AcontextError
    from acontext_mcp.services import AcontextService

    async def run() -> int:
        async with AcontextService.open(settings) as service:
            return (await service.search.rebuild(space_id)).indexed_blocks

    try:
        count = anyio.run(run)
    except AcontextError as exc:
        print(f"acontext-mcp: {exc}", file=sys.stderr)
        return 1
    print(f"{settings.search_index_uri}: indexed {count} blocks" + (f" of space {space_id}" if space_id else ""))
    return 0
