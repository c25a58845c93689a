"""Keep credentials out of what the server says: errors, statuses, pages and logs.

`redact(text, known)` removes the configured secrets (`known`: API keys, tokens, database passwords),
the user-info of any URL (`scheme://user:password@host` -> `scheme://***@host`), `password=` values,
and strings shaped like provider API keys and bearer tokens (an upstream error body may echo the key).
`RedactingFilter` applies it to every log record.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

MASK = "***"
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<info>[^/?#\s@]*(?:@[^/?#\s@]*)*)@")
_USER_NAME = re.compile(r"[A-Za-z0-9._-]{1,19}")
_PASSWORD_PARAM = re.compile(r"(?i)\b(password|passwd|pwd|api[_-]?key|secret|token)=([^&\s'\"]+)")
_KEY_SHAPES = re.compile(
    r"\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9-]{10,}"
    r"|AIza[0-9A-Za-z_-]{35})"
)
_PUBLIC_LINK = re.compile(r"(/artifacts/)[A-Za-z0-9._~%-]+")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")


def redact_url(url: str) -> str:
    """`url` with its password masked (`user:***@`); user-info without a password is kept when it reads as a
    user name, masked whole when it may be a token (long)."""

    def masked(match: re.Match[str]) -> str:
        user, colon, _ = match["info"].partition(":")
        if colon:
            return f"{match['scheme']}{user}:{MASK}@"
        return match[0] if _USER_NAME.fullmatch(user) else f"{match['scheme']}{MASK}@"

    return _USERINFO.sub(masked, url)


def url_secrets(url: str | None) -> list[str]:
    """The password (percent-decoded and as written) in `url`'s user-info, to pass to `redact` as known."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return []
    return [secret for secret in {password, unquote(password or "")} if secret]


def redact(text: str, known: Iterable[str] = ()) -> str:
    """`text` without the `known` secrets, URL user-info, `password=` values or API-key-shaped strings."""
    for secret in sorted({s for s in known if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = redact_url(text)
    text = _PASSWORD_PARAM.sub(lambda m: f"{m[1]}={MASK}", text)
    text = _KEY_SHAPES.sub(MASK, text)
    return _BEARER.sub(lambda m: f"{m[1]}{MASK}", text)


def redact_log(text: str, known: Iterable[str] = ()) -> str:
    """`redact`, and public artifact link tokens (access logs print paths) masked too."""
    return _PUBLIC_LINK.sub(lambda m: f"{m[1]}{MASK}", redact(text, known))


class RedactingFilter(logging.Filter):
    """A log filter (for handlers) that formats each record once and redacts the result (arguments included)."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        super().__init__()
        self.known = tuple(known)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_log(message, self.known)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = redact_log(logging.Formatter().formatException(record.exc_info), self.known)
        return True
