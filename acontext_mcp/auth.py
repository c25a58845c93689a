"""Bearer-token auth for the HTTP transports, through the MCP SDK's `TokenVerifier`."""

from __future__ import annotations

import hmac
import ipaddress

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings


class StaticTokenVerifier:
    """Accepts exactly one shared token (`ACONTEXT_MCP_TOKEN`), compared in constant time."""

    def __init__(self, token: str) -> None:
        self._expected = token.encode()

    async def verify_token(self, token: str) -> AccessToken | None:
        if hmac.compare_digest(token.encode(), self._expected):
            return AccessToken(token=token, client_id="acontext-mcp", scopes=[])
        return None


def auth_settings(base_url: str) -> AuthSettings:
    """Resource-server-only settings: this server checks tokens, it does not issue them."""
    return AuthSettings(issuer_url=base_url, resource_server_url=None)  # type: ignore[arg-type]


def is_loopback(host: str) -> bool:
    """Whether binding to `host` keeps the server on this machine (a name other than localhost does not)."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
