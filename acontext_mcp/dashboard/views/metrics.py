"""Metrics: sessions, messages, task success rate and LLM tokens per day as inline SVG charts; background queues."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from acontext_mcp.dashboard.pages import View, int_param, render, service_of

DAY_CHOICES = (7, 30, 90)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: float | None
    shown: str


@dataclass(frozen=True)
class Chart:
    """Geometry for one series in a `width` x `height` SVG: bars, the same points as a line, axis ticks."""

    width: int
    height: int
    bars: list[Bar]
    line: str
    peak: str
    ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]  # (y, label): 0, half and the top of the scale, for the y axis


def chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    width: int = 900,
    height: int = 160,
    ticks: int = 10,
    top: float | None = None,
    fmt: Callable[[float], str] = lambda v: f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}",
) -> Chart:
    """Scale `values` (one per label; None for no data) to fill the plot: the tallest, or `top`, touches the top."""
    present = [v for v in values if v is not None]
    peak = top if top is not None else max(present, default=0)
    slot = width / max(len(values), 1)
    bars = [
        Bar(x=i * slot + slot * 0.1, y=height - (h := height * (v or 0) / peak if peak else 0.0), width=slot * 0.8,
            height=h, label=label, value=v, shown=fmt(v) if v is not None else "no data")
        for i, (label, v) in enumerate(zip(labels, values, strict=True))
    ]
    line = " ".join(f"{bar.x + bar.width / 2:.1f},{bar.y:.1f}" for bar in bars if bar.value is not None)
    step = max(1, -(-len(bars) // ticks))
    scale = [(height - height * k / 2, fmt(peak * k / 2)) for k in range(3)] if peak else [(float(height), fmt(0))]
    return Chart(width, height, bars, line, fmt(max(present, default=0)),
                 [(bar.x + bar.width / 2, bar.label[5:]) for bar in bars[::step]], scale)


async def metrics_page(request: Request) -> Response:
    days = int_param(request, "days", 30)
    if days not in DAY_CHOICES:
        raise HTTPException(400, f"days must be one of {', '.join(map(str, DAY_CHOICES))}")
    service = service_of(request)
    activity = await service.metrics.daily_activity(days=days)
    outcomes = await service.metrics.task_outcomes(days=days)
    tokens = await service.metrics.llm_tokens(days=days)
    labels = [day.day for day in activity.days]
    rates = [None if (r := day.success_rate) is None else 100 * r for day in outcomes]
    return render(
        request,
        "metrics.html",
        active="metrics",
        days=days,
        day_choices=DAY_CHOICES,
        sessions=chart(labels, [day.sessions for day in activity.days]),
        messages=chart(labels, [day.messages for day in activity.days]),
        totals={"sessions": sum(d.sessions for d in activity.days), "messages": sum(d.messages for d in activity.days)},
        success_rate=chart(labels, rates, top=100, fmt=lambda v: f"{v:.0f}%"),
        outcomes={"success": sum(d.success for d in outcomes), "failed": sum(d.failed for d in outcomes)},
        tokens=chart(labels, [d.prompt_tokens + d.completion_tokens for d in tokens]),
        token_totals={"calls": sum(d.calls for d in tokens), "prompt": sum(d.prompt_tokens for d in tokens),
                      "completion": sum(d.completion_tokens for d in tokens)},
        observer=await service.observer.status(),
        learner=await service.learner.status(),
    )


VIEW = View(
    name="metrics", label="Metrics", path="/metrics", routes=(Route("/metrics", metrics_page, methods=["GET"]),)
)
