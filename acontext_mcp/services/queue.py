"""What the durable work queues (the observer's, the learner's) share.

Each queue keeps its work in SQLite rows, written in the transaction that creates the work, so a
restart resumes it. A `WorkQueue` is the in-process side: an event that wakes its loop (and any
waiter) on every change, the keys being worked on right now, the retry policy (`retry_base_s *
2**n` seconds of backoff until `max_attempts` gives up), and the wrapper that turns a failed item
into a recorded retry. The loop that drains one is `background.queue.QueueLoop`.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import anyio

from acontext_mcp.errors import AcontextError
from acontext_mcp.services.projects import current_project, use_project

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 600.0
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    retry_base_s: float = 2.0

    def next_attempt(self, attempts: int) -> tuple[str, bool]:
        """After `attempts` failures: when to try again (UTC ISO-8601), and whether to give up instead."""
        delay = min(self.retry_base_s * 2 ** (attempts - 1), MAX_BACKOFF_S)
        return (datetime.now(UTC) + timedelta(seconds=delay)).isoformat(), attempts >= self.max_attempts


class WorkQueue(ABC):
    """A durable queue's signalling, claims and failure handling; subclasses say what one item is."""

    name = "queue"

    def __init__(self, retry: RetryPolicy) -> None:
        self.retry = retry
        self._changed = anyio.Event()
        self._running: set[str] = set()

    def changes(self) -> anyio.Event:
        """An event set at the next change (work queued, an item done, a flush asked for).

        Take it before looking at the state, then wait on it: no change is missed in between.
        """
        return self._changed

    def notify(self) -> None:
        """Wake the loop and everyone waiting on `changes`."""
        self._changed.set()
        self._changed = anyio.Event()

    def claim(self, key: str) -> None:
        """Mark an item running before it is started, so the next `schedule` skips it."""
        self._running.add(key)

    def running(self, key: str) -> bool:
        return key in self._running

    async def running_in_project(self) -> int:
        """How many of the current project's items are being worked on now."""
        project = current_project()
        return sum([await self.project_of(key) == project for key in list(self._running)])

    @abstractmethod
    async def schedule(self) -> tuple[list[str], float | None]:
        """Keys due now (none already running), and seconds until the next one is due (None: no timer)."""

    @abstractmethod
    async def _process(self, key: str) -> None:
        """Do one item's work and acknowledge it; raise to have it retried."""

    @abstractmethod
    async def _record_failure(self, key: str, exc: Exception) -> None:
        """Count a failed attempt (see `RetryPolicy.next_attempt`)."""

    @abstractmethod
    async def project_of(self, key: str) -> str | None:
        """The project an item belongs to (None: gone meanwhile); it is worked on in that project only."""

    async def process(self, key: str) -> None:
        """Work on a claimed item, in its own project; record a failure for a later retry. Releases the claim."""
        try:
            project = await self.project_of(key)
            if project is not None:
                with use_project(project):
                    await self._process(key)
        except Exception as exc:
            log.warning("%s: %s failed: %s", self.name, key, exc)
            await self._record_failure(key, exc)
        finally:
            self._running.discard(key)
            self.notify()

    async def wait_until(self, check: Callable[[], Awaitable[T | None]], timeout_s: float) -> T | None:
        """Await `check()` after each change until it returns something; None once `timeout_s` passes."""
        with anyio.move_on_after(timeout_s):
            while True:
                changed = self.changes()
                if (result := await check()) is not None:
                    return result
                await changed.wait()
        return None


def split_due(ready: Iterable[tuple[str, float]], now: float) -> tuple[list[str], float | None]:
    """From (key, ready-at timestamp) pairs: the keys due at `now`, and seconds until the next (None: none)."""
    due: list[str] = []
    wait = math.inf
    for key, at in ready:
        if at <= now:
            due.append(key)
        else:
            wait = min(wait, at - now)
    return due, None if wait == math.inf else wait


def describe(exc: Exception) -> str:
    """Our own errors already say what went wrong; anything else is named by its type too."""
    return str(exc) if isinstance(exc, AcontextError) else f"{type(exc).__name__}: {exc}"


def timestamp(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()
