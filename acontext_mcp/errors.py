"""The errors acontext-mcp raises on purpose; the MCP edge turns them into tool errors.

    AcontextError
    ├── NotFound            an id that names nothing (session, message, ...)
    ├── InvalidArgument     a bad argument: unknown format name, bad cursor, bad limit
    │   └── InvalidMessage  a message that does not fit its declared format
    ├── PayloadTooLarge     input over a configured size limit
    ├── Unavailable         a feature that is switched off or stuck (the observer without an LLM)
    │   ├── SearchUnavailable  the search index (or its embedding provider) failed
    │   └── DiskFull        the disk holding the data dir, blobs or artifacts has no room left
    ├── TimedOut            a wait that ran past its deadline (flush)
    ├── LLMError            the language model could not be reached or answered with junk
    ├── Conflict            a write that clashes with what is stored (e.g. a duplicate path)
    └── InvalidToken        a public artifact URL token that is forged, malformed or expired

Every message says what was wrong and, where it helps, what to do instead.
"""

from __future__ import annotations


class AcontextError(Exception):
    """Base of every error a service raises on purpose."""


class NotFound(AcontextError):
    """Raised when an id names no record."""

    def __init__(self, kind: str, id: str, hint: str = "") -> None:
        self.kind, self.id = kind, id
        message = f"{kind} {id!r} not found"
        super().__init__(f"{message}; {hint}" if hint else message)


class InvalidArgument(AcontextError):
    """Raised when an argument is well-typed but unusable."""


class InvalidMessage(InvalidArgument):
    """Raised when a message does not fit its format; `field` is a dotted path into it."""

    def __init__(self, field: str, problem: str) -> None:
        self.field, self.problem = field, problem
        super().__init__(f"invalid message at {field}: {problem}" if field else f"invalid message: {problem}")


class PayloadTooLarge(AcontextError):
    """Raised when input is over a configured size limit."""

    def __init__(self, what: str, size: int, limit: int, setting: str) -> None:
        self.size, self.limit = size, limit
        super().__init__(f"{what} is {size} bytes, over the limit of {limit} bytes (raise {setting} to allow it)")


class Unavailable(AcontextError):
    """Raised when a feature is switched off, or its work failed and needs attention."""


class TimedOut(AcontextError):
    """Raised when waiting for background work runs past its deadline."""


class LLMError(AcontextError):
    """Raised when the language model cannot be reached or its answer cannot be used."""


class SearchUnavailable(Unavailable):
    """Raised when the search index or its embedding provider fails; stored data is unaffected."""


class Conflict(AcontextError):
    """Raised when a write clashes with stored state, such as a second folder or page at the same path."""


class InvalidToken(AcontextError):
    """Raised when a signed public URL token is forged, malformed or expired."""


class DiskFull(Unavailable):
    """Raised when the disk holding the database, blobs or artifacts is full; names the place and its free space."""

    def __init__(self, where: str, hint: str = "") -> None:
        import shutil

        try:
            free = f"{shutil.disk_usage(where).free} bytes free"
        except OSError:
            free = "free space unknown"
        super().__init__(f"the disk holding {where} is full ({free}); "
                         + (hint or "free space there (delete_session, delete_disk) or raise its quota, then retry"))
