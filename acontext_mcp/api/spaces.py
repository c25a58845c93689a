"""spaces routes."""

from __future__ import annotations

from acontext_mcp.api.core import Router

router = Router()
