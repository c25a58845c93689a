"""The web dashboard: server-rendered pages over the services, mounted at /dashboard. Read-only except
accepting or rejecting pending experiences (csrf.py guards those forms).

    app.py        build_dashboard (the mountable app) and build_dashboard_app (standalone)
    auth.py       the login form and cookie that guard it when ACONTEXT_MCP_TOKEN is set
    csrf.py       the token that form posts carry, bound to a SameSite=Strict cookie
    pages.py      what every view shares: View, render(), service_of(), the Jinja2 environment
    views/        one module per view, each exposing VIEW; views.VIEWS lists them (and the nav)
    templates/    Jinja2 templates (autoescaped); static/  hand-written CSS and JS

Adding a view: a module in views/ with `VIEW = View(...)`, a template, and a line in views.VIEWS.
"""

from __future__ import annotations

from acontext_mcp.dashboard.app import build_dashboard, build_dashboard_app

__all__ = ["build_dashboard", "build_dashboard_app"]
