"""The observer loop: runs due sessions' batches, bounded and in order.

One session's batches never overlap (a session is claimed until its batch ends); different
sessions run concurrently, at most `concurrency` at once.
"""

from __future__ import annotations

from acontext_mcp.background.queue import QueueLoop


class Observer(QueueLoop):
    """Drains `ObserverService`'s queue (services/observer.py)."""
