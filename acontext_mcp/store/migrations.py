"""Versioned schema migrations, recorded in `schema_version`.

Each migration is a numbered list of statements applied in one transaction together
with its bookkeeping row, so a database is never left half-migrated. Never edit an applied
migration: append a new one. Statements are written for SQLite; `Database.schema` adapts
them for PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from acontext_mcp.store.database import Database, Writer, utc_now


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    dialect: str | None = None  # set: the statements run on that engine only (the version is recorded on all)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "sessions_and_messages",
        (
            """CREATE TABLE sessions (
                id TEXT PRIMARY KEY,
                space_id TEXT,
                metadata TEXT NOT NULL DEFAULT '{}',
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            """CREATE TABLE messages (
                id TEXT PRIMARY KEY,
                session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                seq INTEGER NOT NULL,
                role TEXT NOT NULL,
                source_format TEXT NOT NULL,
                body TEXT NOT NULL,
                created_at TEXT NOT NULL,
                UNIQUE (session_id, seq)
            )""",
            """CREATE TABLE message_tool_calls (
                session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                call_id TEXT NOT NULL,
                message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
                PRIMARY KEY (session_id, call_id)
            )""",
            "CREATE INDEX message_tool_calls_message ON message_tool_calls(message_id)",
        ),
    ),
    Migration(
        2,
        "disks_and_artifacts",
        (
            """CREATE TABLE disks (
                id TEXT PRIMARY KEY,
                name TEXT,
                created_at TEXT NOT NULL
            )""",
            """CREATE TABLE artifacts (
                id TEXT PRIMARY KEY,
                disk_id TEXT NOT NULL REFERENCES disks(id) ON DELETE CASCADE,
                path TEXT NOT NULL,
                filename TEXT NOT NULL,
                size INTEGER NOT NULL,
                mime_type TEXT NOT NULL,
                is_text INTEGER NOT NULL,
                sha256 TEXT NOT NULL,
                meta TEXT NOT NULL DEFAULT '{}',
                storage_key TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                UNIQUE (disk_id, path, filename)
            )""",
            "CREATE INDEX artifacts_updated ON artifacts(updated_at)",
        ),
    ),
    Migration(
        3,
        "observer_tasks_and_queue",
        (
            """CREATE TABLE tasks (
                id TEXT PRIMARY KEY,
                session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                task_order INTEGER NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'success', 'failed')),
                data TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            "CREATE INDEX tasks_session_order ON tasks(session_id, task_order)",
            """CREATE TABLE task_messages (
                task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
                message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
                PRIMARY KEY (task_id, message_id)
            )""",
            """CREATE TABLE observer_queue (
                message_id TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
                session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                enqueued_at TEXT NOT NULL
            )""",
            "CREATE INDEX observer_queue_session ON observer_queue(session_id)",
            """CREATE TABLE observer_sessions (
                session_id TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at TEXT,
                last_error TEXT,
                failed INTEGER NOT NULL DEFAULT 0,
                updated_at TEXT NOT NULL
            )""",
            """CREATE TABLE llm_calls (
                id INTEGER PRIMARY KEY,
                purpose TEXT NOT NULL,
                model TEXT NOT NULL,
                prompt_tokens INTEGER NOT NULL,
                completion_tokens INTEGER NOT NULL,
                ok INTEGER NOT NULL,
                error TEXT,
                created_at TEXT NOT NULL
            )""",
        ),
    ),
    Migration(
        4,
        "message_token_counts",
        (
            # NULL until counted: rows written before this migration are counted when the service opens.
            "ALTER TABLE messages ADD COLUMN token_count INTEGER",
            "CREATE INDEX messages_uncounted ON messages(seq) WHERE token_count IS NULL",
        ),
    ),
    Migration(
        5,
        "spaces_and_blocks",
        (
            """CREATE TABLE spaces (
                id TEXT PRIMARY KEY,
                name TEXT,
                settings TEXT NOT NULL DEFAULT '{}',
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            """CREATE TABLE blocks (
                id TEXT PRIMARY KEY,
                space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
                parent_id TEXT REFERENCES blocks(id) ON DELETE CASCADE,
                type TEXT NOT NULL CHECK (type IN ('folder', 'page', 'text', 'sop')),
                title TEXT NOT NULL,
                data TEXT NOT NULL DEFAULT '{}',
                sort_order INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            "CREATE INDEX blocks_children ON blocks(space_id, parent_id, sort_order)",
            "CREATE INDEX blocks_parent ON blocks(parent_id)",
            # Paths are unambiguous: one folder or page per title within a parent (the root is '').
            "CREATE UNIQUE INDEX blocks_path ON blocks(space_id, COALESCE(parent_id, ''), title) "
            "WHERE type IN ('folder', 'page')",
            # The search index's queue: blocks (or, with block_id '', whole spaces) changed in SQLite
            # that the index has not caught up on. Written in the same transaction as the change.
            """CREATE TABLE search_outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                space_id TEXT NOT NULL,
                block_id TEXT NOT NULL,
                UNIQUE (space_id, block_id)
            )""",
        ),
    ),
    Migration(
        6,
        "learning_queue_and_pending_experiences",
        (
            # Tasks that succeeded in a session attached to a space, queued for the learner in the
            # transaction that set their status. `task` and `message_ids` are snapshots at that moment.
            """CREATE TABLE learning_queue (
                id TEXT PRIMARY KEY,
                task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
                session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
                task TEXT NOT NULL,
                message_ids TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('queued', 'learned', 'skipped', 'pending', 'failed')),
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at TEXT,
                last_error TEXT,
                outcome TEXT,
                enqueued_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            "CREATE UNIQUE INDEX learning_queue_open ON learning_queue(task_id) WHERE status IN ('queued', 'failed')",
            "CREATE INDEX learning_queue_status ON learning_queue(status, space_id)",
            """CREATE TABLE pending_experiences (
                id TEXT PRIMARY KEY,
                space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
                task_id TEXT NOT NULL,
                session_id TEXT NOT NULL,
                sop TEXT NOT NULL,
                page_path TEXT NOT NULL,
                merge_into TEXT,
                status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
                block_id TEXT,
                created_at TEXT NOT NULL,
                decided_at TEXT
            )""",
            "CREATE INDEX pending_experiences_space ON pending_experiences(space_id, status)",
        ),
    ),
    Migration(
        7,
        "projects",
        (
            # Multi-tenant mode: each session, disk and space belongs to one project; what hangs off them
            # (messages, tasks, artifacts, blocks, queue rows) belongs to its parent's; a model call is
            # counted for the project it worked for. Rows written before
            # this migration join the "default" project, the one used without multi-tenant tokens.
            *(f"ALTER TABLE {table} ADD COLUMN project_id TEXT NOT NULL DEFAULT 'default'"
              for table in ("sessions", "disks", "spaces", "llm_calls")),
            *(f"CREATE INDEX {table}_project ON {table}(project_id)" for table in ("sessions", "disks", "spaces")),
        ),
    ),
    Migration(
        8,
        "queue_leases",
        (
            # Who works on which queue item (an observer session, a learning item, the search outbox)
            # until when. A row is a claim while `lease_until` (UTC ISO-8601, compared as text) is
            # ahead; a released claim is deleted, and an expired one is anyone's to take.
            """CREATE TABLE queue_leases (
                queue TEXT NOT NULL,
                item_key TEXT NOT NULL,
                owner TEXT NOT NULL,
                lease_until TEXT NOT NULL,
                PRIMARY KEY (queue, item_key)
            )""",
        ),
    ),
    Migration(
        9,
        "postgresql_functions",
        (
            # SQLite's built-ins that shared queries use and PostgreSQL names otherwise.
            "CREATE OR REPLACE FUNCTION instr(haystack TEXT, needle TEXT) RETURNS INT "
            "LANGUAGE sql IMMUTABLE AS 'SELECT strpos(haystack, needle)'",
        ),
        dialect="postgresql",
    ),
    Migration(
        10,
        "message_meta_and_session_events",
        (
            # The caller's own metadata on a message (the SDK's `meta`), apart from the body's provider keys.
            "ALTER TABLE messages ADD COLUMN meta TEXT NOT NULL DEFAULT '{}'",
            """CREATE TABLE session_events (
                id TEXT PRIMARY KEY,
                session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                seq INTEGER NOT NULL,
                type TEXT NOT NULL,
                data TEXT NOT NULL,
                created_at TEXT NOT NULL,
                UNIQUE (session_id, seq)
            )""",
        ),
    ),
    Migration(
        11,
        "users",
        (
            # A user of the caller's product, named by its own identifier, created on first use.
            """CREATE TABLE users (
                id TEXT PRIMARY KEY,
                project_id TEXT NOT NULL,
                identifier TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                UNIQUE (project_id, identifier)
            )""",
            *(f"ALTER TABLE {table} ADD COLUMN user_id TEXT REFERENCES users(id)"
              for table in ("sessions", "disks", "spaces")),
            *(f"CREATE INDEX {table}_user ON {table}(user_id)" for table in ("sessions", "disks", "spaces")),
        ),
    ),
    Migration(
        12,
        "project_configs",
        (
            """CREATE TABLE project_configs (
                project_id TEXT PRIMARY KEY,
                configs TEXT NOT NULL DEFAULT '{}',
                updated_at TEXT NOT NULL
            )""",
        ),
    ),
    Migration(
        13,
        "skill_entry_blocks_sqlite",
        (
            # Pages are skills; their entries gain two types, warning and fact, and each entry where it was
            # learned (`source`: JSON session_id, task_id, learned_at). SQLite cannot alter a CHECK, so the
            # table is rebuilt; its self-reference names the new table, which the rename carries over.
            """CREATE TABLE blocks_new (
                id TEXT PRIMARY KEY,
                space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
                parent_id TEXT REFERENCES blocks_new(id) ON DELETE CASCADE,
                type TEXT NOT NULL CHECK (type IN ('folder', 'page', 'text', 'sop', 'warning', 'fact')),
                title TEXT NOT NULL,
                data TEXT NOT NULL DEFAULT '{}',
                sort_order INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                source TEXT
            )""",
            "INSERT INTO blocks_new (rowid, id, space_id, parent_id, type, title, data, sort_order, created_at, "
            "updated_at) SELECT rowid, id, space_id, parent_id, type, title, data, sort_order, created_at, updated_at "
            "FROM blocks ORDER BY rowid",
            "DROP TABLE blocks",
            "ALTER TABLE blocks_new RENAME TO blocks",
            "CREATE INDEX blocks_children ON blocks(space_id, parent_id, sort_order)",
            "CREATE INDEX blocks_parent ON blocks(parent_id)",
            "CREATE UNIQUE INDEX blocks_path ON blocks(space_id, COALESCE(parent_id, ''), title) "
            "WHERE type IN ('folder', 'page')",
        ),
        dialect="sqlite",
    ),
    Migration(
        14,
        "skill_entry_blocks_postgresql",
        (
            "ALTER TABLE blocks DROP CONSTRAINT blocks_type_check",
            "ALTER TABLE blocks ADD CONSTRAINT blocks_type_check "
            "CHECK (type IN ('folder', 'page', 'text', 'sop', 'warning', 'fact'))",
            "ALTER TABLE blocks ADD COLUMN source TEXT",
        ),
        dialect="postgresql",
    ),
    Migration(
        15,
        "skill_versions",
        (
            # Failed tasks are learned too (as warnings): which outcome a queued task had.
            "ALTER TABLE learning_queue ADD COLUMN task_status TEXT NOT NULL DEFAULT 'success'",
            # A pending experience's other entries (warnings, facts: JSON list of {type, data}) and the data of
            # the page (skill) it creates, if it creates one.
            "ALTER TABLE pending_experiences ADD COLUMN entries TEXT NOT NULL DEFAULT '[]'",
            "ALTER TABLE pending_experiences ADD COLUMN page_data TEXT",
            # Every change to a skill (a page): the SKILL.md it rendered to and the page's state to roll back to.
            # Kept after the page is deleted; gone with its space.
            """CREATE TABLE skill_versions (
                id TEXT PRIMARY KEY,
                space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
                page_id TEXT NOT NULL,
                version INTEGER NOT NULL,
                name TEXT NOT NULL,
                skill_md TEXT NOT NULL,
                snapshot TEXT NOT NULL,
                author TEXT NOT NULL,
                reason TEXT NOT NULL,
                task_id TEXT,
                session_id TEXT,
                created_at TEXT NOT NULL,
                UNIQUE (page_id, version)
            )""",
            "CREATE INDEX skill_versions_space ON skill_versions(space_id, name)",
        ),
    ),
    Migration(
        16,
        "capture_sources",
        (
            # Where each captured host conversation (a Claude Code session id, ...) is stored and how far its
            # transcript has been read: `offset_bytes` is the byte offset after the last stored line, so a hook
            # or an import run twice stores nothing twice. Written by services/capture.py only.
            """CREATE TABLE capture_sources (
                project_id TEXT NOT NULL,
                host TEXT NOT NULL,
                external_id TEXT NOT NULL,
                session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                transcript_path TEXT,
                offset_bytes BIGINT NOT NULL DEFAULT 0,
                source TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (project_id, host, external_id)
            )""",
            "CREATE INDEX capture_sources_session ON capture_sources(session_id)",
        ),
    ),
    Migration(
        17,
        "dashboard_logins",
        (
            """CREATE TABLE dashboard_logins (
                id TEXT PRIMARY KEY,
                created_at REAL NOT NULL,
                expires_at REAL NOT NULL,
                revoked INTEGER NOT NULL DEFAULT 0
            )""",
        ),
    ),
    Migration(
        18,
        "blocks_by_type",
        # A space's pages (the skill names every experience_search reads) without a scan of all its blocks:
        # at 100,000 SOPs that scan took most of a fast search.
        ("CREATE INDEX blocks_type ON blocks(space_id, type)",),
    ),
    Migration(
        19,
        "llm_cached_tokens_and_batch_notes",
        ("ALTER TABLE llm_calls ADD COLUMN cached_tokens INTEGER NOT NULL DEFAULT 0",
         "ALTER TABLE observer_sessions ADD COLUMN last_note TEXT"),
    ),
    Migration(
        20,
        "learning_extracted",
        ("ALTER TABLE learning_queue ADD COLUMN extracted TEXT",),
    ),
)


_SCHEMA_VERSION = (
    "CREATE TABLE IF NOT EXISTS schema_version"
    " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)
_LOCK = "acontext-mcp migrations"  # replicas starting together migrate one at a time


async def _lock(db: Database, tx: Writer) -> None:
    """Take the migration lock, waiting as long as another replica's migration takes (no lock timeout)."""
    if db.dialect == "postgresql":
        await tx.execute("SET LOCAL lock_timeout = 0")
    await tx.lock(_LOCK)


async def _applied(db: Database) -> set[int]:
    """The versions applied so far (creating the version table on a new database)."""
    async with db.transaction() as tx:
        await _lock(db, tx)
        await tx.execute(db.schema(_SCHEMA_VERSION))
        return {row["version"] for row in await tx.fetch_all("SELECT version FROM schema_version")}


async def current_version(db: Database) -> int:
    return max(await _applied(db), default=0)


async def migrate(db: Database, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[Migration]:
    """Apply every migration newer than the database's version; return those applied."""
    done = await _applied(db)
    applied: list[Migration] = []
    for migration in (m for m in migrations if m.version not in done):
        async with db.transaction() as tx:
            await _lock(db, tx)
            if await tx.fetch_one("SELECT 1 FROM schema_version WHERE version = ?", (migration.version,)):
                continue  # another replica applied it meanwhile
            for statement in migration.statements if migration.dialect in (None, db.dialect) else ():
                await tx.execute(db.schema(statement))
            await tx.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, utc_now()),
            )
        applied.append(migration)
    return applied
