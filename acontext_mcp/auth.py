"""Bearer-token auth for the HTTP transports, through the MCP SDK's `TokenVerifier`."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings

MIN_PUBLIC_TOKEN_CHARS = 16
"""The shortest token accepted when serving beyond loopback (16 random characters resist guessing)."""


class StaticTokenVerifier:
    """Accepts the configured tokens (`ACONTEXT_MCP_TOKEN`, `ACONTEXT_MCP_TOKENS`), each compared in
    constant time; the `AccessToken`'s client_id is the token's project.
    """

    def __init__(self, projects: Mapping[str, str]) -> None:
        self._projects = [(token.encode(), project) for token, project in projects.items()]

    async def verify_token(self, token: str) -> AccessToken | None:
        offered = token.encode()
        found: str | None = None
        for expected, project in self._projects:  # no early exit: the time taken names no token
            if hmac.compare_digest(offered, expected):
                found = project
        return AccessToken(token=token, client_id=found, scopes=[]) if found is not None else None


def auth_settings(base_url: str) -> AuthSettings:
    """Resource-server-only settings: this server checks tokens, it does not issue them."""
    return AuthSettings(issuer_url=base_url, resource_server_url=None)  # type: ignore[arg-type]


def is_loopback(host: str) -> bool:
    """Whether binding to `host` keeps the server on this machine (a name other than localhost does not)."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
