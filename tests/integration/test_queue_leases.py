"""Queue leases between two services opened on one data dir (two replicas, no loops: the test drives them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from acontext_mcp import Container, Settings
from acontext_mcp.queue.leases import Leases
from acontext_mcp.services.spaces.index import INDEX_LEASE
from acontext_mcp.store.database import utc_now
from tests.fakes.openai_server import Reply, ScriptedOpenAI, assistant
from tests.support.mcp import eventually

pytestmark = pytest.mark.anyio

Pair = tuple[Container, Container]


def respond(request: dict[str, Any]) -> Reply:
    """The observer adds one task; the learner's extract step skips it."""
    tools = {tool["function"]["name"] for tool in request.get("tools", [])}
    if "skip" in tools:
        return assistant(tool_calls=[("skip", {"reason": "too simple to learn from"})])
    if len(request["messages"]) > 2:
        return assistant(tool_calls=[("finish", {})])
    return assistant(tool_calls=[("insert_task", {"after_task_order": 0, "task_description": "Deploy the site"})])


@pytest.fixture
async def pair(data_dir: Path) -> AsyncIterator[Pair]:
    """Replica a's leases last 0.3 s (it stalls and loses them), b's 30 s."""
    with ScriptedOpenAI(responder=respond) as llm:
        base = Settings(data_dir=data_dir, openai_base_url=llm.base_url, llm_max_retries=0, observer_batch=2,
                        observer_idle_s=1000, queue_poll_s=0.05)
        async with AsyncExitStack() as stack:
            a = await stack.enter_async_context(
                Container.open(base.model_copy(update={"queue_lease_s": 0.3}), background=False))
            b = await stack.enter_async_context(
                Container.open(base.model_copy(update={"queue_lease_s": 30.0}), background=False))
            yield a, b


async def queued_session(service: Container, space_id: str | None = None) -> str:
    session_id = (await service.sessions.create_session(space_id)).id
    for text in ("deploy the site", "use the blue theme"):
        await service.messages.send_message(session_id, {"role": "user", "content": text})
    return session_id


async def test_one_replica_claims_a_due_session_and_the_other_sees_its_lease(pair: Pair) -> None:
    a, b = pair
    session_id = await queued_session(b)
    assert await b.observer.schedule() == ([session_id], None)
    assert await b.observer.claim([session_id], limit=4) == [session_id]
    assert await a.observer.schedule() == ([], None)  # held by b
    assert await a.observer.claim([session_id], limit=4) == []
    status = await a.observer.status()
    assert status.sessions_running == 1
    assert [(lease.key, lease.owner) for lease in status.leases] == [(session_id, b.observer.replica)]
    assert status.replica == a.observer.replica != b.observer.replica
    assert (await a.observer.session_state(session_id)).status == "running"

    await b.observer.process(session_id)
    assert [t.data.task_description for t in await a.tasks.list_tasks(session_id)] == ["Deploy the site"]
    assert (await a.observer.status()).leases == []
    assert await a.observer.claim([session_id], limit=4) == []  # nothing left: claimed, found not due, released
    assert (await a.observer.status()).leases == []


async def test_a_batch_whose_lease_was_taken_over_is_not_acknowledged_twice(pair: Pair) -> None:
    a, b = pair
    session_id = await queued_session(a)
    assert await a.observer.claim([session_id], limit=1) == [session_id]
    first_term = (await b.observer.status()).leases[0].lease_until

    async def expired() -> bool:
        return utc_now() > first_term

    await eventually(expired, timeout=5, what="a's lease to run out")  # a stalls without renewing
    assert await b.observer.claim([session_id], limit=1) == [session_id]
    await a.observer.process(session_id)  # runs the batch, but its acknowledgement is refused
    state = await b.observer.session_state(session_id)
    assert (state.pending_messages, state.attempts, state.status) == (2, 0, "running")  # b's, not a failure
    assert await a.tasks.list_tasks(session_id) == []

    await b.observer.process(session_id)
    assert [t.data.task_description for t in await a.tasks.list_tasks(session_id)] == ["Deploy the site"]
    assert (await a.observer.session_state(session_id)).pending_messages == 0


async def test_a_learning_item_whose_lease_was_taken_over_is_not_acknowledged_twice(pair: Pair) -> None:
    a, b = pair
    session_id = await queued_session(b, (await b.spaces.create_space("team")).id)
    assert await b.observer.claim([session_id], limit=1) == [session_id]
    await b.observer.process(session_id)
    await b.tasks.update_task_status(session_id, 1, "success")  # queues the task for the learner
    [item_id], _ = await a.learner.schedule()
    assert await a.learner.claim([item_id], limit=1) == [item_id]
    assert [lease.owner for lease in (await b.learner.status()).leases] == [a.learner.replica]
    first_term = (await b.learner.status()).leases[0].lease_until

    async def expired() -> bool:
        return utc_now() > first_term

    await eventually(expired, timeout=5, what="a's lease to run out")
    assert await b.learner.claim([item_id], limit=1) == [item_id]
    await a.learner.process(item_id)  # extracts, but its acknowledgement is refused
    [item] = (await b.learner.list_items(None, session_id)).items
    assert (item.status, item.attempts) == ("queued", 0)

    await b.learner.process(item_id)
    [item] = (await a.learner.list_items(None, session_id)).items
    assert (item.status, item.skip_reason) == ("skipped", "too simple to learn from")


async def test_the_search_index_is_written_by_one_replica_at_a_time(pair: Pair) -> None:
    a, b = pair
    space = await b.spaces.create_space("team")
    index_writer = Leases(b.db, lease_s=30)
    async with index_writer.hold(*INDEX_LEASE, timeout_s=1):
        # a's lease length (0.3 s) bounds its wait for the index: its change stays queued for later.
        await a.spaces.create_block(space.id, "/", "page", "Deploys")
        outbox = await a.db.fetch_all("SELECT block_id FROM search_outbox")
        assert len(outbox) == 1
    await a.index.sync()
    assert await a.db.fetch_all("SELECT block_id FROM search_outbox") == []
    found = await b.search.experience_search(space.id, "Deploys")
    assert [block.title for block in found.cited_blocks] == ["Deploys"]
