"""Users: the caller's own identifiers for the people its sessions, disks and spaces belong to.

A user is created the first time a session, disk or space names it; deleting one deletes everything
that belongs to it, through each resource's own service (so blobs, artifacts and the search index go too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from acontext_mcp.errors import InvalidArgument, NotFound
from acontext_mcp.projects import current_project
from acontext_mcp.services import cursors
from acontext_mcp.services.limits import MAX_PAGE
from acontext_mcp.services.models import DeletedUser, User, UserPage, UserResources
from acontext_mcp.store.database import Database, Reader, Row, Writer, new_id, utc_now

if TYPE_CHECKING:
    from acontext_mcp.services.disks.service import DiskService
    from acontext_mcp.services.sessions import SessionService
    from acontext_mcp.services.spaces.service import SpaceService

MAX_IDENTIFIER_CHARS = 256
USER_HINT = "list_users shows the identifiers in use; a user exists once a session, disk or space names it"


def check_identifier(identifier: str) -> str:
    if not isinstance(identifier, str) or not identifier.strip() or len(identifier) > MAX_IDENTIFIER_CHARS:
        raise InvalidArgument(f"user must be a non-empty identifier of at most {MAX_IDENTIFIER_CHARS} characters, "
                              "e.g. an email or your own user id")
    return identifier


async def ensure_user(tx: Writer, identifier: str) -> str:
    """The id of the current project's user `identifier`, created now if new. Raises `InvalidArgument`."""
    check_identifier(identifier)
    await tx.lock(f"user:{current_project()}:{identifier}")
    found = await user_id_of(tx, identifier)
    if found is not None:
        return found
    user_id, now = new_id(), utc_now()
    await tx.execute(
        "INSERT INTO users (id, project_id, identifier, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        (user_id, current_project(), identifier, now, now),
    )
    return user_id


async def user_id_of(reader: Reader, identifier: str) -> str | None:
    row = await reader.fetch_one(
        "SELECT id FROM users WHERE project_id = ? AND identifier = ?", (current_project(), identifier)
    )
    return row["id"] if row else None


class UserService:
    def __init__(
        self, db: Database, sessions: SessionService, disks: DiskService, spaces: SpaceService
    ) -> None:
        self._db = db
        self._sessions = sessions
        self._disks = disks
        self._spaces = spaces

    async def list_users(self, limit: int = 50, cursor: str | None = None, time_desc: bool = False) -> UserPage:
        """The project's users, oldest first (newest first with `time_desc`). Raises `InvalidArgument`."""
        cursors.check_limit(limit, MAX_PAGE)
        op, order = ("<", "DESC") if time_desc else (">", "ASC")
        sql = "SELECT rowid, * FROM users WHERE project_id = ?"
        params: list[Any] = [current_project()]
        if cursor:
            sql, params = f"{sql} AND rowid {op} ?", [*params, cursors.decode("user", cursor)]
        rows = await self._db.fetch_all(f"{sql} ORDER BY rowid {order} LIMIT ?", (*params, limit + 1))
        has_more = len(rows) > limit
        rows = rows[:limit]
        return UserPage(items=[_user(row) for row in rows],
                        next_cursor=cursors.encode("user", rows[-1]["rowid"]) if has_more else None,
                        has_more=has_more)

    async def get_user_resources(self, identifier: str) -> UserResources:
        """How many sessions, disks, spaces and skills (SOP blocks in its spaces) a user has. Raises `NotFound`."""
        user_id = await self._require(identifier)
        row = await self._db.fetch_one(
            "SELECT (SELECT COUNT(*) FROM sessions WHERE user_id = ?) AS sessions, "
            "(SELECT COUNT(*) FROM disks WHERE user_id = ?) AS disks, "
            "(SELECT COUNT(*) FROM spaces WHERE user_id = ?) AS spaces, "
            "(SELECT COUNT(*) FROM blocks b JOIN spaces s ON s.id = b.space_id "
            "WHERE s.user_id = ? AND b.type = 'sop') AS skills",
            (user_id, user_id, user_id, user_id),
        )
        assert row is not None
        return UserResources(identifier=identifier, sessions_count=row["sessions"], disks_count=row["disks"],
                             spaces_count=row["spaces"], skills_count=row["skills"])

    async def delete_user(self, identifier: str) -> DeletedUser:
        """Delete a user with every session, disk and space that belongs to it. Raises `NotFound`."""
        user_id = await self._require(identifier)
        owned = {
            table: [row["id"] for row in await self._db.fetch_all(f"SELECT id FROM {table} WHERE user_id = ?",
                                                                   (user_id,))]
            for table in ("sessions", "disks", "spaces")
        }
        for session_id in owned["sessions"]:
            await self._sessions.delete_session(session_id)
        for disk_id in owned["disks"]:
            await self._disks.delete_disk(disk_id)
        for space_id in owned["spaces"]:
            await self._spaces.delete_space(space_id)
        async with self._db.transaction() as tx:
            await tx.lock(f"user:{current_project()}:{identifier}")
            left = await tx.fetch_one(
                "SELECT (SELECT COUNT(*) FROM sessions WHERE user_id = ?) + (SELECT COUNT(*) FROM disks WHERE "
                "user_id = ?) + (SELECT COUNT(*) FROM spaces WHERE user_id = ?) AS n", (user_id, user_id, user_id)
            )
            if left is not None and left["n"]:  # created meanwhile: delete those on a second call
                raise InvalidArgument(f"user {identifier!r} gained resources while being deleted; delete it again")
            await tx.execute("DELETE FROM users WHERE id = ?", (user_id,))
        return DeletedUser(identifier=identifier, sessions=len(owned["sessions"]), disks=len(owned["disks"]),
                           spaces=len(owned["spaces"]))

    async def _require(self, identifier: str) -> str:
        user_id = await user_id_of(self._db, check_identifier(identifier))
        if user_id is None:
            raise NotFound("user", identifier, USER_HINT)
        return user_id


def _user(row: Row) -> User:
    return User(id=row["id"], identifier=row["identifier"], created_at=row["created_at"],
                updated_at=row["updated_at"])
