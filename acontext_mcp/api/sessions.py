"""Sessions, their messages, tasks and observer state: /session/..."""

from __future__ import annotations

from typing import Any

from acontext_mcp.api.core import Call, Router
from acontext_mcp.projects import current_project
from acontext_mcp.services.models import Session

router = Router()


def session_json(session: Session) -> dict[str, Any]:
    """A session as the SDK's `Session` type: our metadata is its `configs`."""
    return {
        "id": session.id,
        "project_id": current_project(),
        "space_id": session.space_id,
        "configs": session.metadata,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
    }


@router.post("/session")
async def create_session(call: Call) -> Any:
    body = await call.json()
    session = await call.service.sessions.create_session(
        space_id=body.get("space_id", str, None), metadata=body.get("configs", dict, None)
    )
    return session_json(session)


@router.delete("/session/{session_id}")
async def delete_session(call: Call) -> None:
    await call.service.sessions.delete_session(call.path("session_id"))
