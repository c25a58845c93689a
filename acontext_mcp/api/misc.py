"""GET /ping."""

from __future__ import annotations

from acontext_mcp.api.core import Call, Message, Router

router = Router()


@router.get("/ping")
async def ping(_: Call) -> Message:
    return Message("pong")
