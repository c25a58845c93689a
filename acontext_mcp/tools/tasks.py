"""Tools: get_tasks, update_task_status, flush, get_observer_status, get_session_summary."""

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from acontext_mcp.glue import domain_errors, service_of
from acontext_mcp.services.limits import MAX_INDEX
from acontext_mcp.services.observer.models import (
    ObserverStatus,
    SessionSummary,
    Task,
    TaskList,
    TaskStatus,
)
from acontext_mcp.tools.sessions import SessionId


def register(server: MCPServer) -> None:
    @server.tool()
    @domain_errors
    async def get_tasks(ctx: Context, session_id: SessionId) -> TaskList:
        """The session's task list, kept by the background observer from its messages.

        Each task has an order, a status (pending, running, success, failed), a description, the
        agent's progress lines, the user's preferences, and the ids of its messages. `observer`
        says whether messages are still waiting to be read (call flush to wait for them) or why
        the observer is off.
        """
        return await service_of(ctx).observer.get_tasks(session_id)

    @server.tool()
    @domain_errors
    async def update_task_status(
        ctx: Context,
        session_id: SessionId,
        task_order: Annotated[int, Field(ge=1, le=MAX_INDEX, description="The task's order, as get_tasks shows it")],
        status: Annotated[TaskStatus, Field(description="pending, running, success or failed")],
    ) -> Task:
        """Correct the status of one task, e.g. mark it success when the observer missed that it was done."""
        return await service_of(ctx).tasks.update_task_status(session_id, task_order, status)

    @server.tool()
    @domain_errors
    async def flush(
        ctx: Context,
        session_id: SessionId,
        timeout_s: Annotated[float, Field(gt=0, le=600, description="Give up waiting after this many seconds")] = 60,
    ) -> TaskList:
        """Make the observer read the session's waiting messages now, wait until it has, and return the tasks.

        Retries a session the observer gave up on. Fails with a clear message when no LLM is
        configured, when the observer fails again, or on timeout.
        """
        return await service_of(ctx).observer.flush(session_id, timeout_s)

    @server.tool()
    @domain_errors
    async def get_observer_status(ctx: Context) -> ObserverStatus:
        """Whether the background observer is on, how many messages wait, which sessions are
        retrying or failed (with their errors), and the LLM tokens spent so far."""
        return await service_of(ctx).observer.status()

    @server.tool()
    @domain_errors
    async def get_session_summary(ctx: Context, session_id: SessionId) -> SessionSummary:
        """A compact text of the session's tasks, progress and the user's preferences, from the observer.

        Put `summary` in a fresh context instead of the full history (compare summary_tokens with
        session_tokens). Messages the observer has not read yet are not in it: call flush first
        for an up-to-date summary.
        """
        return await service_of(ctx).summaries.get_session_summary(session_id)
