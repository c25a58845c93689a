"""TaskService and the task board on a real SQLite file, and the queue written with each message."""

from __future__ import annotations

import pytest

from acontext_mcp import Container, InvalidMessage, NotFound

pytestmark = pytest.mark.anyio


async def queued(service: Container) -> list[str]:
    return [row["message_id"] for row in await service.db.fetch_all("SELECT message_id FROM observer_queue")]


async def test_a_message_is_queued_with_its_insert_and_a_rejected_one_is_not(service: Container) -> None:
    session = await service.sessions.create_session()
    stored = await service.messages.send_message(session.id, {"role": "user", "content": "hi"})
    with pytest.raises(InvalidMessage):
        await service.messages.send_message(session.id, {"role": "tool", "tool_call_id": "nope", "content": "x"})
    assert await queued(service) == [stored.id]


async def test_saving_a_stale_board_keeps_a_users_status_correction(service: Container) -> None:
    session = await service.sessions.create_session()
    message = await service.messages.send_message(session.id, {"role": "user", "content": "ship it"})
    board = await service.tasks.load_board(session.id)
    board.insert(0, "Ship the release")
    board.insert(1, "Write the changelog")
    async with service.db.transaction() as tx:
        await board.save(tx)

    stale = await service.tasks.load_board(session.id)  # the observer starts a batch...
    await service.tasks.update_task_status(session.id, 1, "success")  # ...the user corrects a status meanwhile
    stale.append_progress(1, "I have tagged v1.0")
    stale.link(1, [message.id])
    stale.insert(0, "Plan the release")
    async with service.db.transaction() as tx:
        await stale.save(tx)

    tasks = await service.tasks.list_tasks(session.id)
    assert [(t.order, t.data.task_description, t.status) for t in tasks] == [
        (1, "Plan the release", "pending"), (2, "Ship the release", "success"), (3, "Write the changelog", "pending")
    ]
    assert tasks[1].data.progresses == ["I have tagged v1.0"] and tasks[1].message_ids == [message.id]


async def test_unknown_session_and_task(service: Container) -> None:
    with pytest.raises(NotFound, match="session 'nope' not found"):
        await service.tasks.list_tasks("nope")
    session = await service.sessions.create_session()
    with pytest.raises(NotFound, match="task '1' not found; call get_tasks"):
        await service.tasks.update_task_status(session.id, 1, "success")
