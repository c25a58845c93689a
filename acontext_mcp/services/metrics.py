"""Read-only activity numbers for the dashboard's metrics page, each for the current project."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from acontext_mcp.errors import InvalidArgument
from acontext_mcp.projects import PROJECT_SESSIONS, current_project
from acontext_mcp.services.models import DailyActivity, DayCount, DayOutcomes, DayTokens
from acontext_mcp.store.database import Database

MAX_DAYS = 366


class MetricsService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def daily_activity(self, days: int = 30, today: date | None = None) -> DailyActivity:
        """Sessions created and messages stored on each of the last `days` UTC days (today included),
        oldest first, with zero for quiet days. Raises `InvalidArgument` for `days` outside 1..366.
        """
        first, span = _span(days, today)
        sessions = await self._sums("SELECT substr(created_at, 1, 10) AS day, COUNT(*) AS sessions FROM sessions "
                                    f"WHERE created_at >= ? AND id IN {PROJECT_SESSIONS} GROUP BY day", first)
        messages = await self._sums("SELECT substr(created_at, 1, 10) AS day, COUNT(*) AS messages FROM messages "
                                    f"WHERE created_at >= ? AND session_id IN {PROJECT_SESSIONS} GROUP BY day", first)
        zero = {"sessions": 0, "messages": 0}
        return DailyActivity(days=[DayCount(day=d, **{**zero, **sessions.get(d, {}), **messages.get(d, {})})
                                   for d in span])

    async def task_outcomes(self, days: int = 30, today: date | None = None) -> list[DayOutcomes]:
        """Per UTC day, oldest first: tasks last updated that day that ended in success, and in failed.
        Raises `InvalidArgument` as `daily_activity` does.
        """
        first, span = _span(days, today)
        rows = await self._sums(
            "SELECT substr(updated_at, 1, 10) AS day, SUM(CASE WHEN status = 'success' THEN 1 ELSE 0 END) AS success, "
            "SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed FROM tasks WHERE updated_at >= ? "
            f"AND session_id IN {PROJECT_SESSIONS} GROUP BY day", first
        )
        return [DayOutcomes(day=d, **rows.get(d, {"success": 0, "failed": 0})) for d in span]

    async def llm_tokens(self, days: int = 30, today: date | None = None) -> list[DayTokens]:
        """Per UTC day, oldest first: language-model calls made and the tokens they cost.
        Raises `InvalidArgument` as `daily_activity` does.
        """
        first, span = _span(days, today)
        rows = await self._sums(
            "SELECT substr(created_at, 1, 10) AS day, COUNT(*) AS calls, SUM(prompt_tokens) AS prompt_tokens, "
            "SUM(completion_tokens) AS completion_tokens FROM llm_calls WHERE created_at >= ? AND project_id = ? "
            "GROUP BY day", first
        )
        zero = {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
        return [DayTokens(day=d, **rows.get(d, zero)) for d in span]

    async def _sums(self, sql: str, first: date) -> dict[str, dict[str, Any]]:
        """Run `sql` with the first day and the current project as its two parameters; rows by day."""
        rows = await self._db.fetch_all(sql, (first.isoformat(), current_project()))
        return {row["day"]: {k: int(row[k] or 0) for k in row.keys() if k != "day"} for row in rows}  # noqa: SIM118 (a Row is no mapping)


def _span(days: int, today: date | None) -> tuple[date, list[str]]:
    """The first of the last `days` UTC days (ending `today`) and each day's date. Raises `InvalidArgument`."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidArgument(f"days must be between 1 and {MAX_DAYS}, got {days}")
    last = today or datetime.now(UTC).date()
    first = last - timedelta(days=days - 1)
    return first, [(first + timedelta(days=n)).isoformat() for n in range(days)]
