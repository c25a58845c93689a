"""The project the current request works in: every session, disk and space belongs to one.

Each request (or background item) sets it with `use_project`; services read it with
`current_project()` and scope every query to it, so a record of another project answers
exactly as an unknown id does. Without multi-tenant tokens everything lives in "default".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

DEFAULT_PROJECT = "default"
# SQL: the ids of the sessions / spaces of the project given as the `?` parameter.
PROJECT_SESSIONS = "(SELECT id FROM sessions WHERE project_id = ?)"
PROJECT_SPACES = "(SELECT id FROM spaces WHERE project_id = ?)"

_current: ContextVar[str] = ContextVar("acontext_project", default=DEFAULT_PROJECT)


def current_project() -> str:
    """The project of the running request or background item ("default" unless set)."""
    return _current.get()


@contextmanager
def use_project(project_id: str) -> Iterator[str]:
    """Make `project_id` current inside the block, then restore the previous one."""
    token = _current.set(project_id)
    try:
        yield project_id
    finally:
        _current.reset(token)
