"""The dashboard's views, in nav order; the first is the home page."""

from __future__ import annotations

from acontext_mcp.dashboard.pages import View
from acontext_mcp.dashboard.views import disks, experiences, metrics, sessions, skills, spaces

VIEWS: tuple[View, ...] = (sessions.VIEW, spaces.VIEW, skills.VIEW, disks.VIEW, experiences.VIEW, metrics.VIEW)
