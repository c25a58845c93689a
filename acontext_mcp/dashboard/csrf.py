"""CSRF protection for the dashboard's few writes (accepting or rejecting experiences).

A form carries a token that is an HMAC, under a server secret, of a random nonce kept in an
HttpOnly, SameSite=Strict cookie: another site can neither read the cookie nor compute the token,
and a cross-site POST arrives without the cookie at all. A POST whose Origin is another host is
refused as well. The secret is derived from `ACONTEXT_URL_SECRET` when set, so a form one replica
rendered can be posted to another; else it is random per process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from acontext_mcp.dashboard.pages import base_url

COOKIE = "acontext_csrf"
FIELD = "csrf"


def new_secret(shared: bytes | None = None) -> bytes:
    """The key for form tokens: derived from `shared` (the same in every replica), else random."""
    if shared is None:
        return secrets.token_bytes(32)
    return hmac.new(shared, b"acontext-mcp dashboard csrf", hashlib.sha256).digest()


def _sign(request: Request, nonce: str) -> str:
    return hmac.new(request.app.state.csrf_secret, nonce.encode(), hashlib.sha256).hexdigest()


def issue(request: Request) -> tuple[str, str | None]:
    """The token for this page's forms, and a new nonce to set as the cookie (None when it is already set)."""
    nonce = request.cookies.get(COOKIE)
    fresh = None if nonce else secrets.token_urlsafe(24)
    return _sign(request, nonce or fresh or ""), fresh


def set_cookie(request: Request, response: Response, nonce: str | None) -> Response:
    if nonce is not None:
        response.set_cookie(COOKIE, nonce, path=f"{base_url(request)}/", httponly=True, samesite="strict")
    return response


def check(request: Request, token: str) -> None:
    """Raise a 403 unless the form's token matches the cookie and the request did not come from another site."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise HTTPException(403, "this form was sent from another site; open the dashboard and use it there")
    nonce = request.cookies.get(COOKIE, "")
    if not nonce or not hmac.compare_digest(token.encode(), _sign(request, nonce).encode()):
        raise HTTPException(403, "this form has expired or was not sent from the dashboard; reload the page and "
                                 "try again")
