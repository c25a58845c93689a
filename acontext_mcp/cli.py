"""The `acontext-mcp` command.

    acontext-mcp                         serve over stdio (what MCP hosts spawn)
    acontext-mcp serve --transport http  serve streamable HTTP (/mcp), SSE (/sse), /health and /api/v1
    acontext-mcp serve --transport http --stateless   the same, any replica answering any /mcp request
    acontext-mcp migrate                 create or upgrade the database, then exit
    acontext-mcp dashboard --port 8030   serve only the web dashboard (for a stdio deployment)
    acontext-mcp reindex                 rebuild the spaces' search index from the database
    acontext-mcp demo [--if-empty]       load the seed scenario (a session, its tasks, a learned SOP)
    acontext-mcp hook claude-code        what Claude Code's hooks run: store the transcript, print skills
    acontext-mcp install claude-code     add those hooks and the MCP server to Claude Code's settings
    acontext-mcp import claude-code      store existing Claude Code transcripts
    acontext-mcp --version
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acontext_mcp import __version__, hook

if TYPE_CHECKING:
    from acontext_mcp.settings import Settings

DASHBOARD_PORT = 8030


def _env(name: str) -> str:
    """`env ACONTEXT_..., default ...` for a flag's help, from the setting's field."""
    from acontext_mcp.settings import ENV_VARS, Settings

    return f"env {ENV_VARS[name]}, default {Settings.model_fields[name].default}"


def _server_options(dashboard: bool = False) -> argparse.ArgumentParser:
    """Options shared by the top level, `serve` and `dashboard`; SUPPRESS keeps unset flags from
    overriding env vars. The dashboard has no transport and its own default port.
    """
    from acontext_mcp.settings import ENV_VARS

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
    from acontext_mcp.settings import ENV_VARS

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
    commands.add_parser(
        "sweep", parents=[options], help="remove bytes no record points at (blobs of deleted sessions) and report them",
    )
    demo = commands.add_parser(
        "demo", parents=[options], help="load the seed scenario for the dashboard (no LLM needed)",
        description="Load the seed scenario: a space 'demo', a session with 8 messages and its 3 observed tasks, "
        "the SOP learned from the first, a disk, and earlier task outcomes. Server flags are accepted and ignored.",
    )
    demo.add_argument("--if-empty", action="store_true", help="do nothing when the data dir already has sessions")
    skills = commands.add_parser(
        "skills", help="export a space's skills to a folder hosts load, keep it in sync, or import skill folders",
        description="Each page of a space is an Agent Skill (a folder with SKILL.md). Export and sync write one "
        "folder per skill (e.g. to .claude/skills) and never touch folders they did not create.",
    )
    actions = skills.add_subparsers(dest="skills_action", metavar="ACTION", required=True)
    for action, about in (("export", "write the space's skills to DIR once"),
                          ("sync", "write them, then rewrite what changes as the learner learns (until Ctrl-C)")):
        parser_ = actions.add_parser(action, parents=[options], help=about)
        parser_.add_argument("skills_space", metavar="SPACE", help="the space id")
        parser_.add_argument("--to", dest="skills_to", metavar="DIR", required=True,
                             help="the folder to write skill folders into, e.g. .claude/skills")
    imports = actions.add_parser("import", parents=[options], help="import skill folders (a folder, a folder of "
                                 "skill folders, or a .zip) into a space, each as a version")
    imports.add_argument("skills_source", metavar="PATH|ZIP")
    imports.add_argument("--space", dest="skills_space", required=True, help="the space id to import into")
    imports.add_argument("--folder", dest="skills_folder", default="/",
                         help="the space folder to put new skills' pages in (default /)")
    commands.add_parser(
        "hook", parents=[hook.parser()], help="run by Claude Code's hooks: store the session, print what was learned",
        description="Reads a Claude Code hook event (JSON) on stdin and posts it to the running HTTP server: "
        "Stop, SubagentStop, PreCompact and SessionEnd store the transcript's new lines; SessionStart prints "
        "the skills and preferences for the session. Always exits 0; problems go to the log file.",
    )
    for name, about in (("install", "add our hooks and MCP server entry to Claude Code's settings"),
                        ("uninstall", "remove our hooks and MCP server entry from Claude Code's settings")):
        sub = commands.add_parser(name, help=about, description=f"{about}; a user's own entries are kept.")
        sub.add_argument("host", choices=["claude-code"])
        sub.add_argument("--project", type=Path, help="that project's .claude/settings.json and .mcp.json "
                         "(default: the user's ~/.claude/settings.json and ~/.claude.json)")
        sub.add_argument("--dry-run", action="store_true", help="print the files as they would be, write nothing")
        if name == "install":
            sub.add_argument("--space", help="space (name or id) sessions are attached to and skills come from")
            sub.add_argument("--url", default=hook.DEFAULT_URL, help=f"the HTTP server (default {hook.DEFAULT_URL})")
    importer = commands.add_parser(
        "import", parents=[options], help="store existing conversations: Claude Code transcripts, OpenAI JSONL",
        description="claude-code: Claude Code transcripts (*.jsonl) as sessions, one per Claude Code session. "
        "openai-jsonl: one session per line, each a Chat Completions conversation ({\"messages\": [...]}). "
        "A re-run stores only what is new. Works on the data dir directly (no server needed).",
    )
    importer.add_argument("import_host", metavar="HOST", choices=["claude-code", "openai-jsonl"])
    importer.add_argument("import_paths", nargs="*", type=Path, metavar="PATH",
                          help="files or folders (claude-code default: every transcript under ~/.claude/projects)")
    importer.add_argument("--space", dest="import_space", metavar="SPACE",
                          help="space (name or id) new sessions are attached to")
    return parser


def _parse(argv: Sequence[str]) -> tuple[str, Settings | None, dict[str, Any]] | int:
    """The command, its settings and its own options; or exit status 2 after one line naming a bad setting.

    `install` and `uninstall` edit a host's files and have no settings (None): all their options are their own.
    """
    from pydantic import ValidationError

    from acontext_mcp.settings import Settings

    args = vars(build_parser().parse_args(argv))
    command = args.pop("command", None) or "serve"
    if command in ("install", "uninstall"):
        return command, None, args
    own: dict[str, Any] = {name: args.pop(name) for name in list(args)
                           if name in ("space_id", "if_empty") or name.startswith(("import_", "skills_"))}
    if command == "dashboard":
        args.setdefault("port", DASHBOARD_PORT)
    try:
        return command, Settings.load(**args), own
    except ValidationError as exc:  # never print the input: it holds tokens and passwords
        error = exc.errors(include_url=False, include_input=False, include_context=False)[0]
        where = f" {error['loc'][0]}" if error["loc"] else "s"  # a model validator's error has no field
        print(f"acontext-mcp: invalid setting{where}: {error['msg']}", file=sys.stderr)
        return 2


def port_in_use(host: str, port: int) -> str | None:
    """One line saying `host:port` cannot be bound (another server has it), or None when it is free."""
    import socket

    from acontext_mcp.settings import ENV_VARS

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


def data_dir_unusable(data_dir: Path) -> str | None:
    """One line saying why `data_dir` cannot hold data (a file, not writable, ...), or None once it exists and
    takes a file."""
    from acontext_mcp.settings import ENV_VARS

    probe = data_dir / f".acontext-write-check-{os.getpid()}"
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        probe.unlink()
    except OSError as exc:
        reason = {FileExistsError: "it is a file, not a folder",
                  NotADirectoryError: "a folder on its path is a file"}.get(type(exc), exc.strerror or str(exc))
        return (f"acontext-mcp: cannot use the data dir {data_dir}: {reason}; fix it, or pick another with "
                f"--data-dir DIR (env {ENV_VARS['data_dir']})")
    return None


def check_port(argv: Sequence[str] | None = None) -> int:
    """For scripts/serve, before it loads the demo: exit 1 with one line if the HTTP port `argv` would serve on is
    taken or the data dir is unusable, 2 on a bad setting, else 0 (stdio needs no port)."""
    parsed = _parse(list(sys.argv[1:] if argv is None else argv))
    if isinstance(parsed, int):
        return parsed
    command, settings, _ = parsed
    return 1 if settings is not None and not _preflight(command, settings) else 0


def _preflight(command: str, settings: Settings) -> bool:
    """False, after one line on stderr, when `command` would serve HTTP on a port that is taken, or its data dir
    cannot hold data: checked before anything is loaded."""
    serves_http = command == "dashboard" or (command == "serve" and settings.transport != "stdio")
    problem = (port_in_use(settings.host, settings.port) if serves_http else None) or data_dir_unusable(
        settings.data_dir)
    if problem:
        print(problem, file=sys.stderr)
    return problem is None


def main(argv: Sequence[str] | None = None) -> int:
    os.umask(0o077)  # every file this server writes in its data dir (database, blobs, artifacts, index) is private
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["hook"] and not {"-h", "--help"} & set(argv):
        return hook.main(argv[1:])  # first: a host runs it every turn, so it loads nothing else
    parsed = _parse(argv)
    if isinstance(parsed, int):
        return parsed
    command, loaded, own = parsed
    if loaded is None:
        from acontext_mcp.install_cli import run_install

        return run_install(command, **own)
    settings = loaded
    space_id, if_empty = own.get("space_id"), own.get("if_empty", False)
    skills = {key: value for key, value in own.items() if key.startswith("skills_")}
    import_args = {key: value for key, value in own.items() if key.startswith("import_")}
    if not _preflight(command, settings):  # fails now, not after the app is built
        return 1
    logging.basicConfig(level=settings.log_level, stream=sys.stderr)
    for chatty in ("aiosqlite", "asyncpg"):  # at DEBUG they log every statement with its parameters (message bodies)
        logging.getLogger(chatty).setLevel(logging.INFO)
    redact_logs(settings.known_secrets)
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
        if command == "skills":
            return _skills(settings, **skills)
        if command == "import":
            from acontext_mcp.install_cli import run_import

            return run_import(settings, import_args["import_host"], import_args["import_paths"],
                              import_args.get("import_space"))
        if command == "sweep":
            return _sweep(settings)
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
    where = f"http://{settings.host}:{settings.port}/mcp (and /sse, /dashboard/, the Acontext API at /api/v1)"
    return _run_http(build_http_app(settings), settings, where)


def _run_http(app: Any, settings: Settings, where: str) -> int:
    import uvicorn

    from acontext_mcp.auth import MIN_PUBLIC_TOKEN_CHARS, is_loopback
    from acontext_mcp.settings import ENV_VARS

    weak = [project for token, project in settings.project_tokens.items() if len(token) < MIN_PUBLIC_TOKEN_CHARS]
    if not is_loopback(settings.host) and weak and not settings.insecure:
        print(
            f"acontext-mcp: refusing to serve on {settings.host}: the token of project(s) "
            f"{', '.join(sorted(set(weak)))} "
            f"is shorter than {MIN_PUBLIC_TOKEN_CHARS} characters, so it could be guessed. Use a random one "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`), or bind to 127.0.0.1.",
            file=sys.stderr,
        )
        return 2
    if not is_loopback(settings.host) and not settings.project_tokens and not settings.insecure:
        print(
            f"acontext-mcp: refusing to serve on {settings.host} without a token: anyone who can reach it could "
            f"read every session. Set {ENV_VARS['token']} (or {ENV_VARS['tokens']}), bind to 127.0.0.1, "
            "or pass --insecure.",
            file=sys.stderr,
        )
        return 2
    print(f"acontext-mcp: serving {where}, data in {settings.data_dir}", file=sys.stderr)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower())
    server = uvicorn.Server(config)  # the config sets uvicorn's own log handlers up; then they redact too
    redact_logs(settings.known_secrets)
    server.run()
    return 0


def redact_logs(known: list[str]) -> None:
    """Put a `RedactingFilter` on every log handler there is (root's, uvicorn's): no secret reaches a log."""
    from acontext_mcp.redact import RedactingFilter

    redacting = RedactingFilter(known)
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(redacting)


def _migrate(settings: Settings) -> int:
    import anyio

    from acontext_mcp.store.database import shown
    from acontext_mcp.store.engines import open_database
    from acontext_mcp.store.migrations import migrate

    async def run() -> list[str]:
        async with open_database(settings.database, **settings.database_timeouts) as db:
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


def _sweep(settings: Settings) -> int:
    import anyio

    from acontext_mcp.container import Container

    async def run() -> list[str]:
        async with Container.open(settings, background=False) as service:
            return (await service.sessions.sweep_orphans()).removed_folders

    removed = anyio.run(run)
    print(f"acontext-mcp: removed the blobs of {len(removed)} deleted sessions" + (f": {', '.join(removed)}"
                                                                                   if removed else ""))
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


def _skills(settings: Settings, skills_action: str, skills_space: str, skills_to: str | None = None,
            skills_source: str | None = None, skills_folder: str = "/") -> int:
    import anyio

    from acontext_mcp.container import Container
    from acontext_mcp.projects import use_project
    from acontext_mcp.services.skills.models import SkillsExported

    def report(done: SkillsExported) -> None:
        parts = [f"{what} {', '.join(names)}" for what, names in (
            ("wrote", done.written), ("removed", done.removed), ("left alone (not ours)", done.skipped)) if names]
        print(f"acontext-mcp: {done.to}: " + ("; ".join(parts) or "up to date"), file=sys.stderr, flush=True)

    async def run() -> None:
        async with Container.open(settings, background=False) as service:
            with use_project(settings.project):
                if skills_action == "import":
                    done = await service.skills.import_skills(skills_space, Path(str(skills_source)), skills_folder)
                    for skill in done.imported:
                        print(f"imported {skill.name} (version {skill.version}) at {skill.path}")
                    if done.ignored_files:
                        print(f"not kept (only SKILL.md is): {', '.join(done.ignored_files)}", file=sys.stderr)
                elif skills_action == "export":
                    report(await service.skills.export(skills_space, Path(str(skills_to))))
                else:
                    await service.skills.sync(skills_space, Path(str(skills_to)), settings.queue_poll_s,
                                              on_export=report)

    with contextlib.suppress(KeyboardInterrupt):  # sync runs until Ctrl-C
        anyio.run(run)
    return 0
