"""Dashboard sign-ins: each is a row that expires and can be revoked, so every replica agrees on it."""

from __future__ import annotations

import secrets
import time

from acontext_mcp.store.database import Database


class LoginService:
    """Starts, checks and revokes dashboard logins (the cookie names a login; the token it was made with
    is proven by an HMAC in the cookie, see dashboard/auth.py)."""

    def __init__(self, db: Database, ttl_s: int) -> None:
        self._db = db
        self.ttl_s = ttl_s

    async def start(self) -> str:
        """A new login, valid for `ttl_s` seconds; expired ones are swept on the way."""
        login_id = secrets.token_urlsafe(18)
        now = time.time()
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM dashboard_logins WHERE expires_at < ?", (now,))
            await tx.execute(
                "INSERT INTO dashboard_logins (id, created_at, expires_at, revoked) VALUES (?, ?, ?, 0)",
                (login_id, now, now + self.ttl_s),
            )
        return login_id

    async def active(self, login_id: str) -> bool:
        """Whether the login exists, is unexpired and was not signed out."""
        row = await self._db.fetch_one(
            "SELECT 1 FROM dashboard_logins WHERE id = ? AND revoked = 0 AND expires_at > ?", (login_id, time.time())
        )
        return row is not None

    async def revoke(self, login_id: str) -> None:
        """Sign the login out: its cookie stops working on every replica."""
        async with self._db.transaction() as tx:
            await tx.execute("UPDATE dashboard_logins SET revoked = 1 WHERE id = ?", (login_id,))
