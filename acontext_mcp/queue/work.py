"""What the durable work queues (the observer's, the learner's) share.

Each queue keeps its work in database rows, written in the transaction that creates the work, so a
restart resumes it. Processes sharing the database (replicas) split the work through leases
(queue/leases.py): an item is claimed before it is started, its lease renewed while it runs, and
its acknowledgement checks the lease is still held. A `WorkQueue` has the rest: an event that wakes
its loop (and any waiter) on every change in this process (`poll_s` bounds the wait for changes made
by other processes), the retry policy (`retry_base_s * 2**n` seconds of backoff until `max_attempts`
gives up), and the wrapper that turns a failed item into a recorded retry. The loop that drains one
is `queue.loop.QueueLoop`.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

import anyio

from acontext_mcp.errors import AcontextError, Unavailable
from acontext_mcp.projects import current_project, use_project
from acontext_mcp.queue.leases import LeaseLost, Leases, QueueLease
from acontext_mcp.store.database import Writer

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


class Signal:
    """Wakes whoever waits for the next change. Made before the queue it wakes, so whatever queues
    work (another service) can be built first and handed `signal.notify`."""

    def __init__(self) -> None:
        self._changed = anyio.Event()

    def changes(self) -> anyio.Event:
        """An event set at the next change (work queued, an item done, a flush asked for).

        Take it before looking at the state, then wait on it: no change is missed in between.
        """
        return self._changed

    def notify(self) -> None:
        """Wake the loop and everyone waiting on `changes`."""
        self._changed.set()
        self._changed = anyio.Event()


class Worker(Protocol):
    """What works on a queue's items: an agent on a language model."""

    @property
    def model(self) -> str: ...


class WorkQueue(ABC):
    """A durable queue's signalling, claims and failure handling; subclasses say what one item is.

    `worker` is None when there is no LLM: the queue then keeps its items and says why (`disabled_note`).
    """

    log_label = "queue item"  # what one item is called in logs
    lease_queue = "queue"  # the queue's name among the leases
    disabled_note = "no LLM is configured; set OPENAI_API_KEY or OPENAI_BASE_URL and restart"

    def __init__(
        self, retry: RetryPolicy, leases: Leases, poll_s: float, worker: Worker | None, signal: Signal | None = None
    ) -> None:
        self.retry = retry
        self.poll_s = poll_s
        self._leases = leases
        self._worker = worker
        self._signal = signal or Signal()
        self._running: set[str] = set()

    @property
    def enabled(self) -> bool:
        return self._worker is not None

    @property
    def model(self) -> str | None:
        """The worker's model; None without an LLM."""
        return self._worker.model if self._worker is not None else None

    @property
    def note(self) -> str | None:
        """Why nothing is worked on (None when the queue is enabled)."""
        return None if self.enabled else self.disabled_note

    def require_enabled(self, then: str = "") -> None:
        """Raise `Unavailable` (the disabled note, then `then`) unless the queue has a worker."""
        if not self.enabled:
            raise Unavailable(self.disabled_note + then)

    def changes(self) -> anyio.Event:
        """`Signal.changes` of this queue's signal."""
        return self._signal.changes()

    def notify(self) -> None:
        """Wake the loop and everyone waiting on `changes`."""
        self._signal.notify()

    async def claim(self, keys: Sequence[str], limit: int) -> list[str]:
        """Lease up to `limit` of `keys` for this process, before starting them; return those got.

        What `schedule` saw may be stale by then (another replica may have just finished the item, or
        failed it and set a backoff), so the claimed keys are scheduled again and released if not due.
        """
        claimed = await self._leases.claim(self.lease_queue, keys, limit)
        if not claimed:
            return []
        due = set((await self.schedule())[0])
        for key in claimed:
            if key not in due:
                await self._leases.release(self.lease_queue, key)
        started = [key for key in claimed if key in due]
        self._running.update(started)
        return started

    @property
    def in_progress(self) -> int:
        """Items this process works on right now."""
        return len(self._running)

    @property
    def replica(self) -> str:
        """This process's id among the replicas: the owner of its leases."""
        return self._leases.owner

    async def held(self) -> dict[str, QueueLease]:
        """Items some process (this one or another replica) works on right now, by key."""
        return await self._leases.held(self.lease_queue)

    async def busy(self) -> set[str]:
        """Keys `schedule` skips: those other replicas hold, and those this process runs."""
        others = {key for key, lease in (await self.held()).items() if lease.owner != self.replica}
        return others | self._running

    async def confirm_lease(self, tx: Writer, key: str) -> None:
        """In the transaction that acknowledges an item: raise `LeaseLost` if another process took it over."""
        await self._leases.confirm(tx, self.lease_queue, key)

    async def held_in_project(self) -> list[QueueLease]:
        """The leases (any replica's) on the current project's items: what is being worked on now."""
        project = current_project()
        return [lease for key, lease in (await self.held()).items() if await self.project_of(key) == project]

    @abstractmethod
    async def schedule(self) -> tuple[list[str], float | None]:
        """Keys due now (none `busy`), and seconds until the next one is due (None: no timer)."""

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
        """Work on a claimed item in its own project, renewing its lease; record a failure for a later retry.

        Releases the lease.
        """
        try:
            async with self._leases.kept(self.lease_queue, key):
                try:
                    if (project := await self.project_of(key)) is not None:
                        with use_project(project):
                            await self._process(key)
                except LeaseLost as exc:  # the process that took it over does the work
                    log.warning("%s %s: %s", self.log_label, key, exc)
                except Exception as exc:
                    log.warning("%s %s failed: %s", self.log_label, key, exc)
                    await self._record_failure(key, exc)
        finally:
            self._running.discard(key)
            self.notify()

    async def wait_until(self, check: Callable[[], Awaitable[T | None]], timeout_s: float) -> T | None:
        """Await `check()` after each change (or `poll_s`) until it returns something; None after `timeout_s`."""
        with anyio.move_on_after(timeout_s):
            while True:
                changed = self.changes()
                if (result := await check()) is not None:
                    return result
                with anyio.move_on_after(self.poll_s):  # other replicas' progress sets no event here
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
