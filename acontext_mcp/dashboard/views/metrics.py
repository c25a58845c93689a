"""Metrics: sessions and messages per day as inline SVG charts, and panels later features fill."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from acontext_mcp.dashboard.pages import View, int_param, render, service_of

DAY_CHOICES = (7, 30, 90)
# Panels whose numbers arrive with later features (observer tasks, LLM use, background queues).
PENDING_PANELS = (
    ("Task success rate", "appears once the observer records tasks"),
    ("LLM tokens spent", "appears once LLM calls are recorded"),
    ("Queue depth and last errors", "appears once the observer and learner queues exist"),
)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass(frozen=True)
class Chart:
    """Geometry for one series in a `width` x `height` SVG: bars, the same points as a line, axis ticks."""

    width: int
    height: int
    bars: list[Bar]
    line: str
    peak: int
    ticks: list[tuple[float, str]]


def chart(labels: list[str], values: list[int], width: int = 900, height: int = 160, ticks: int = 10) -> Chart:
    """Scale `values` (one per label) to fill the plot; the tallest bar touches the top."""
    peak = max(values, default=0)
    slot = width / max(len(values), 1)
    bars = [
        Bar(x=i * slot + slot * 0.1, y=height - (h := height * v / peak if peak else 0.0), width=slot * 0.8,
            height=h, label=label, value=v)
        for i, (label, v) in enumerate(zip(labels, values, strict=True))
    ]
    line = " ".join(f"{bar.x + bar.width / 2:.1f},{bar.y:.1f}" for bar in bars)
    step = max(1, -(-len(bars) // ticks))
    return Chart(width, height, bars, line, peak, [(bar.x + bar.width / 2, bar.label[5:]) for bar in bars[::step]])


async def metrics_page(request: Request) -> Response:
    days = int_param(request, "days", 30)
    if days not in DAY_CHOICES:
        raise HTTPException(400, f"days must be one of {', '.join(map(str, DAY_CHOICES))}")
    activity = await service_of(request).metrics.daily_activity(days=days)
    labels = [day.day for day in activity.days]
    return render(
        request,
        "metrics.html",
        active="metrics",
        days=days,
        day_choices=DAY_CHOICES,
        sessions=chart(labels, [day.sessions for day in activity.days]),
        messages=chart(labels, [day.messages for day in activity.days]),
        totals={"sessions": sum(d.sessions for d in activity.days), "messages": sum(d.messages for d in activity.days)},
        pending=PENDING_PANELS,
    )


VIEW = View(
    name="metrics", label="Metrics", path="/metrics", routes=(Route("/metrics", metrics_page, methods=["GET"]),)
)
