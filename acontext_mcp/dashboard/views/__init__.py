"""The dashboard's views, in nav order; the first is the home page."""

from __future__ import annotations

from acontext_mcp.dashboard.pages import View
from acontext_mcp.dashboard.views import metrics, sessions

VIEWS: tuple[View, ...] = (sessions.VIEW, metrics.VIEW)
