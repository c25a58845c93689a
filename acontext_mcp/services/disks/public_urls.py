"""Expiring public URLs for artifacts: sealed, HMAC-signed tokens the HTTP app verifies.

A token names one version of one file (disk id, artifact id, sha256) until it expires. Its payload is
encrypted (a keystream of HMAC-SHA256 over a random nonce), so the URL shows no ids, and authenticated
(HMAC-SHA256 over nonce and ciphertext, checked in constant time before anything is decoded).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Callable
from typing import NamedTuple

from acontext_mcp.errors import InvalidToken

ROUTE = "/artifacts/{token}"
_NONCE = 12


class PublicFile(NamedTuple):
    disk_id: str
    artifact_id: str
    sha256: str


class UrlSigner:
    """Seals (disk id, artifact id, sha256, expiry) into a URL-safe token and opens it again."""

    def __init__(self, secret: bytes, base_url: str, clock: Callable[[], float] = time.time) -> None:
        self._mac_key = hmac.new(secret, b"acontext public url: mac", hashlib.sha256).digest()
        self._stream_key = hmac.new(secret, b"acontext public url: stream", hashlib.sha256).digest()
        self._base_url = base_url.rstrip("/")
        self._clock = clock

    def url(self, disk_id: str, artifact_id: str, ttl_seconds: int, sha256: str = "") -> tuple[str, int]:
        """A URL on `ROUTE` for this version (`sha256`) of the file, valid for `ttl_seconds`; and its expiry."""
        expires = int(self._clock()) + ttl_seconds
        nonce = os.urandom(_NONCE)
        sealed = nonce + self._xor(nonce, f"{disk_id}.{artifact_id}.{sha256}.{expires}".encode())
        token = f"{_b64(sealed)}.{_b64(self._sign(sealed))}"
        return self._base_url + ROUTE.format(token=token), expires

    def verify(self, token: str) -> PublicFile:
        """The file a valid token names. Raises `InvalidToken` if forged, malformed or expired."""
        encoded, _, signature = token.partition(".")
        try:
            sealed = base64.urlsafe_b64decode(encoded.encode("ascii") + b"=" * (-len(encoded) % 4))
            given = signature.encode("ascii")
        except (ValueError, UnicodeEncodeError):
            raise InvalidToken("malformed artifact URL token") from None
        if len(sealed) <= _NONCE or not hmac.compare_digest(_b64(self._sign(sealed)).encode(), given):
            raise InvalidToken("invalid artifact URL token")
        disk_id, artifact_id, sha256, expires = self._xor(sealed[:_NONCE], sealed[_NONCE:]).decode().split(".")
        if int(expires) < self._clock():
            raise InvalidToken("this artifact URL has expired; ask get_artifact for a new one")
        return PublicFile(disk_id, artifact_id, sha256)

    def _sign(self, data: bytes) -> bytes:
        return hmac.new(self._mac_key, data, hashlib.sha256).digest()

    def _xor(self, nonce: bytes, data: bytes) -> bytes:
        blocks = (len(data) + 31) // 32
        stream = b"".join(hmac.new(self._stream_key, nonce + i.to_bytes(4, "big"), hashlib.sha256).digest()
                          for i in range(blocks))
        return bytes(a ^ b for a, b in zip(data, stream, strict=False))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
