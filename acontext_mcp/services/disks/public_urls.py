"""Expiring public URLs for artifacts: HMAC-signed tokens the HTTP app verifies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable

from acontext_mcp.errors import InvalidToken

ROUTE = "/artifacts/{token}"


class UrlSigner:
    """Signs (disk id, artifact id, expiry) into a URL-safe token and verifies it in constant time."""

    def __init__(self, secret: bytes, base_url: str, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._base_url = base_url.rstrip("/")
        self._clock = clock

    def url(self, disk_id: str, artifact_id: str, ttl_seconds: int) -> tuple[str, int]:
        """A URL on `ROUTE` valid for `ttl_seconds`, and its expiry as a Unix time."""
        expires = int(self._clock()) + ttl_seconds
        payload = f"{disk_id}.{artifact_id}.{expires}".encode()
        token = f"{_b64(payload)}.{_b64(self._sign(payload))}"
        return self._base_url + ROUTE.format(token=token), expires

    def verify(self, token: str) -> tuple[str, str]:
        """(disk id, artifact id) of a valid token. Raises `InvalidToken` if forged, malformed or expired."""
        encoded, _, signature = token.partition(".")
        try:
            payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except ValueError:
            raise InvalidToken("malformed artifact URL token") from None
        if not hmac.compare_digest(_b64(self._sign(payload)), signature):
            raise InvalidToken("invalid artifact URL token")
        disk_id, artifact_id, expires = payload.decode().split(".")
        if int(expires) < self._clock():
            raise InvalidToken("this artifact URL has expired; ask get_artifact for a new one")
        return disk_id, artifact_id

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
