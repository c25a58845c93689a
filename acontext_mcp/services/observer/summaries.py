"""Session summaries: the observer's task list as a compact text to start a fresh context from."""

from __future__ import annotations

from acontext_mcp.services.models import Session
from acontext_mcp.services.observer.models import SessionSummary, TaskList
from acontext_mcp.services.observer.service import ObserverService
from acontext_mcp.services.sessions import SessionService
from acontext_mcp.tokens import TokenCounter


class SummaryService:
    def __init__(self, sessions: SessionService, observer: ObserverService, counter: TokenCounter) -> None:
        self._sessions = sessions
        self._observer = observer
        self._counter = counter

    async def get_session_summary(self, session_id: str) -> SessionSummary:
        """Raises `NotFound` for an unknown session."""
        session = await self._sessions.get_session(session_id)
        tasks = await self._observer.get_tasks(session_id)
        text = render_summary(session, tasks)
        return SessionSummary(
            session_id=session_id,
            summary=text,
            task_count=len(tasks.items),
            summary_tokens=self._counter.count(text),
            session_tokens=session.token_count,
            observer=tasks.observer,
        )


def render_summary(session: Session, tasks: TaskList) -> str:
    """Plain text, one block per task: status, description, progress, the user's preferences."""
    statuses = ", ".join(
        f"{sum(t.status == s for t in tasks.items)} {s}"
        for s in ("success", "running", "pending", "failed")
        if any(t.status == s for t in tasks.items)
    )
    lines = [f"Session {session.id}: {session.message_count} messages, {len(tasks.items)} tasks"
             + (f" ({statuses})." if statuses else ".")]
    for task in tasks.items:
        lines.append(f"Task {task.order} [{task.status}]: {task.data.task_description}")
        lines += [f"  - done: {progress}" for progress in task.data.progresses]
        lines += [f"  - user wants: {preference}" for preference in task.data.user_preferences]
    state = tasks.observer
    if state.pending_messages:
        lines.append(f"({state.pending_messages} newer messages are not summarised yet: {state.note or state.status}.)")
    elif not tasks.items and state.note:
        lines.append(f"(No tasks: {state.note}.)")
    return "\n".join(lines)
