"""Read-only activity numbers for the dashboard's metrics page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from acontext_mcp.errors import InvalidArgument
from acontext_mcp.services.models import DailyActivity, DayCount
from acontext_mcp.store.sqlite import Database

MAX_DAYS = 366


class MetricsService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def daily_activity(self, days: int = 30, today: date | None = None) -> DailyActivity:
        """Sessions created and messages stored on each of the last `days` UTC days (today included),
        oldest first, with zero for quiet days. Raises `InvalidArgument` for `days` outside 1..366.
        """
        if not 1 <= days <= MAX_DAYS:
            raise InvalidArgument(f"days must be between 1 and {MAX_DAYS}, got {days}")
        last = today or datetime.now(UTC).date()
        first = last - timedelta(days=days - 1)
        counts = {table: await self._per_day(table, first) for table in ("sessions", "messages")}
        span = [(first + timedelta(days=n)).isoformat() for n in range(days)]
        return DailyActivity(
            days=[DayCount(day=d, sessions=counts["sessions"].get(d, 0), messages=counts["messages"].get(d, 0))
                  for d in span]
        )

    async def _per_day(self, table: str, first: date) -> dict[str, int]:
        rows = await self._db.fetch_all(
            f"SELECT substr(created_at, 1, 10) AS day, COUNT(*) AS n FROM {table} "
            "WHERE created_at >= ? GROUP BY day",
            (first.isoformat(),),
        )
        return {row["day"]: int(row["n"]) for row in rows}
