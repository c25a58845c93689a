"""The learner loop: turns tasks that succeeded in a space's sessions into SOPs, at most `concurrency` at once."""

from __future__ import annotations

from acontext_mcp.background.queue import QueueLoop


class Learner(QueueLoop):
    """Drains `LearnerService`'s queue (services/learner.py)."""
