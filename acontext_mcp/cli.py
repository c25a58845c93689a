"""The `acontext-mcp` command.

    acontext-mcp                         serve over stdio (what MCP hosts spawn)
    acontext-mcp serve --transport http  serve streamable HTTP (/mcp), SSE (/sse) and /health
    acontext-mcp serve --transport http --stateless   the same, any replica answering any /mcp request
    acontext-mcp migrate                 create or upgrade the database, then exit
    acontext-mcp dashboard --port 8030   serve only the web dashboard (for a stdio deployment)
    acontext-mcp reindex                 rebuild the spaces' search index from the database
    acontext-mcp demo [--if-empty]       load the seed scenario (a session, its tasks, a learned SOP)
    acontext-mcp --version
"""

from __future__ import annotations

import argparse
import errno
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from acontext_mcp import __version__
from acontext_mcp.settings import ENV_VARS, Settings

DASHBOARD_PORT = 8030


def _env(name: str) -> str:
    """`env ACONTEXT_..., default ...` for a flag's help, from the setting's field."""
    return f"env {ENV_VARS[name]}, default {Settings.model_fields[name].default}"


def _server_options(dashboard: bool = False) -> argparse.ArgumentParser:
    """Options shared by the top level, `serve` and `dashboard`; SUPPRESS keeps unset flags from
    overriding env vars. The dashboard has no transport and its own default port.
    """
    options = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    options.add_argument("--data-dir", type=Path, help=f"where data lives (env {ENV_VARS['data_dir']})")
    if not dashboard:
        options.add_argument(
            "--transport", choices=["stdio", "sse", "http"], help=f"stdio, or sse/http (both serve /mcp and /sse) "
            f"({_env('transport')})"
        )
    options.add_argument("--host", help=f"HTTP bind address ({_env('host')})")
    port_help = (f"HTTP port (default {DASHBOARD_PORT})" if dashboard
                 else f"HTTP port ({_env('port')})")
    options.add_argument("--port", type=int, help=port_help)
    options.add_argument("--log-level", help=f"DEBUG, INFO, WARNING, ERROR (env {ENV_VARS['log_level']})")
    options.add_argument(
        "--insecure", action="store_true",
        help=f"allow HTTP on a non-loopback host without {ENV_VARS['token']} (env {ENV_VARS['insecure']})",
    )
    if not dashboard:
        options.add_argument(
            "--stateless", dest="stateless_http", action="store_true",
            help=f"streamable HTTP without sessions, so any replica behind a load balancer can answer "
            f"(env {ENV_VARS['stateless_http']})",
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
    about = "serve only the web dashboard, at /dashboard/, on the same data dir"
    commands.add_parser(
        "dashboard", parents=[_server_options(dashboard=True)], help=about,
        description=f"{about}. Read-only but for accepting or rejecting pending experiences; with env "
        f"{ENV_VARS['token']} or {ENV_VARS['tokens']} set, it asks for a token first and shows that "
        "token's project.",
    )
    reindex = commands.add_parser("reindex", parents=[options], help="rebuild the search index from the database")
    reindex.add_argument("--space", dest="space_id", help="rebuild one space only (default: every space)")
    demo = commands.add_parser(
        "demo", parents=[options], help="load the seed scenario for the dashboard (no LLM needed)",
        description="Load the seed scenario: a space 'demo', a session with 8 messages and its 3 observed tasks, "
        "the SOP learned from the first, a disk, and earlier task outcomes. Server flags are accepted and ignored.",
    )
    demo.add_argument("--if-empty", action="store_true", help="do nothing when the data dir already has sessions")
    return parser


def _parse(argv: Sequence[str] | None) -> tuple[str, Settings, dict[str, Any]] | int:
    """The command, its settings and its own options; or exit status 2 after one line naming a bad setting."""
    args = vars(build_parser().parse_args(argv))
    command = args.pop("command", None) or "serve"
    own: dict[str, Any] = {name: args.pop(name) for name in ("space_id", "if_empty") if name in args}
    if command == "dashboard":
        args.setdefault("port", DASHBOARD_PORT)
    try:
        return command, Settings.load(**args), own
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        print(f"acontext-mcp: invalid setting {error['loc'][0]}: {error['msg']}", file=sys.stderr)
        return 2


def port_in_use(host: str, port: int) -> str | None:
    """One line saying `host:port` cannot be bound (another server has it), or None when it is free."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is not busy
            sock.bind(infos[0][4])
    except OSError as exc:
        reason = "already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        return (f"acontext-mcp: cannot listen on {host}:{port}: {reason}; stop what holds it, or pick another "
                f"port with --port N (env {ENV_VARS['port']})")
    return None


def check_port(argv: Sequence[str] | None = None) -> int:
    """For scripts/serve, before it loads the demo: exit 1 with one line if the HTTP port `argv` would serve on is
    taken, 2 on a bad setting, else 0 (stdio needs no port)."""
    parsed = _parse(argv)
    if isinstance(parsed, int):
        return parsed
    return 1 if _port_taken(*parsed[:2]) else 0


def _port_taken(command: str, settings: Settings) -> bool:
    """True, after one line on stderr, when `command` would serve HTTP on a port that is taken."""
    serves_http = command == "dashboard" or (command == "serve" and settings.transport != "stdio")
    busy = port_in_use(settings.host, settings.port) if serves_http else None
    if busy:
        print(busy, file=sys.stderr)
    return busy is not None


def main(argv: Sequence[str] | None = None) -> int:
    parsed = _parse(argv)
    if isinstance(parsed, int):
        return parsed
    command, settings, own = parsed
    space_id, if_empty = own.get("space_id"), own.get("if_empty", False)
    if _port_taken(command, settings):  # fails now, not after the app is built
        return 1
    logging.basicConfig(level=settings.log_level, stream=sys.stderr)
    from acontext_mcp.errors import AcontextError

    try:
        if command == "migrate":
            return _migrate(settings)
        if command == "dashboard":
            return _dashboard(settings)
        if command == "reindex":
            return _reindex(settings, space_id)
        if command == "demo":
            return _demo(settings, if_empty)
        return _serve(settings)
    except AcontextError as exc:  # e.g. a database that cannot be reached
        print(f"acontext-mcp: {exc}", file=sys.stderr)
        return 1


def _serve(settings: Settings) -> int:
    if settings.transport == "stdio":
        from acontext_mcp.server import build_server

        build_server(settings).run("stdio")
        return 0
    from acontext_mcp.server import build_http_app

    if settings.stateless_http and settings.replica_local:
        print(
            f"acontext-mcp: warning: stateless HTTP, but other replicas cannot see what is kept in {settings.data_dir} "
            f"while these are unset: {', '.join(settings.replica_local)} (see docs/deploy.md)",
            file=sys.stderr,
        )
    where = f"http://{settings.host}:{settings.port}/mcp (and /sse, /dashboard/)"
    return _run_http(build_http_app(settings), settings, where)


def _run_http(app: Any, settings: Settings, where: str) -> int:
    import uvicorn

    from acontext_mcp.auth import is_loopback

    if not is_loopback(settings.host) and not settings.project_tokens and not settings.insecure:
        print(
            f"acontext-mcp: refusing to serve on {settings.host} without a token: anyone who can reach it could "
            f"read every session. Set {ENV_VARS['token']} (or {ENV_VARS['tokens']}), bind to 127.0.0.1, "
            "or pass --insecure.",
            file=sys.stderr,
        )
        return 2
    print(f"acontext-mcp: serving {where}, data in {settings.data_dir}", file=sys.stderr)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower())
    return 0


def _migrate(settings: Settings) -> int:
    import anyio

    from acontext_mcp.store.database import shown
    from acontext_mcp.store.engines import open_database
    from acontext_mcp.store.migrations import migrate

    async def run() -> list[str]:
        async with open_database(settings.database) as db:
            return [f"{m.version} {m.name}" for m in await migrate(db)]

    applied = anyio.run(run)
    print(f"{shown(settings.database)}: " + (f"applied {', '.join(applied)}" if applied else "up to date"))
    return 0


def _dashboard(settings: Settings) -> int:
    from acontext_mcp.dashboard import build_dashboard_app

    where = f"the dashboard at http://{settings.host}:{settings.port}/dashboard/"
    return _run_http(build_dashboard_app(settings), settings, where)


def _reindex(settings: Settings, space_id: str | None) -> int:
    import anyio

    from acontext_mcp.container import Container

    async def run() -> int:
        async with Container.open(settings, background=False) as service:
            return (await service.search.rebuild(space_id, all_projects=True)).indexed_blocks

    count = anyio.run(run)
    print(f"{settings.search_index_uri}: indexed {count} blocks" + (f" of space {space_id}" if space_id else ""))
    return 0


def _demo(settings: Settings, if_empty: bool) -> int:
    import anyio

    from acontext_mcp.container import Container
    from acontext_mcp.demo import has_sessions, load_demo

    async def run() -> str:
        async with Container.open(settings, background=False) as service:
            if if_empty and await has_sessions(service):
                return "the data dir already has sessions; demo not loaded"
            demo = await load_demo(service)
            return f"loaded the demo: session {demo.session_id} in space {demo.space_id}"

    print(f"acontext-mcp: {anyio.run(run)} ({settings.data_dir})")
    return 0
