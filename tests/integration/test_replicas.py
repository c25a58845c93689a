"""Two real `acontext-mcp serve --transport http` processes sharing their stores: replicas.

Clients write to both at once; every message is stored once and every observer batch reaches the
(scripted) LLM once, in order per session; a replica killed mid-batch leaves its batch to the other
once its lease runs out. Each replica names a different model, so the LLM's requests tell which
replica sent them. Run on both engines: on SQLite the replicas share one data dir's file; on
PostgreSQL they are stateless, each on its own empty data dir, with every byte in one S3 bucket.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
from mcp import Client

from acontext_mcp.store.database import utc_now
from tests.fakes.openai_server import Reply, ScriptedOpenAI, assistant
from tests.support.mcp import call, eventually
from tests.support.s3 import S3, s3  # noqa: F401 (fixture)
from tests.support.servers import HttpServer, http_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
TASK = "Log each session step"  # shares words with the batch, as a task must

MODELS = ("replica-a", "replica-b")
BATCH = 4
_SHOWN = re.compile(r"^\[m\d+\] user: (.*)$", re.MULTILINE)  # a message as the task agent shows it


@dataclass(frozen=True)
class Deployment:
    """Where each replica runs and the environment they share."""

    data_dirs: tuple[Path, Path]
    env: dict[str, str]


@pytest.fixture
def deployment(data_dir: Path, database_url: str | None, request: pytest.FixtureRequest) -> Deployment:
    if database_url is None:
        return Deployment((data_dir, data_dir), {})
    storage: S3 = request.getfixturevalue("s3")
    env = {"ACONTEXT_DATABASE_URL": database_url, "ACONTEXT_STATELESS_HTTP": "true",
           **storage.stores_env(storage.new_bucket())}
    return Deployment((data_dir / "a", data_dir / "b"), env)


def replica_env(model: str, llm_url: str, lease_s: float) -> dict[str, str]:
    """What each replica is configured with besides its stores."""
    return {
        "OPENAI_BASE_URL": llm_url,
        "ACONTEXT_LLM_MODEL": model,
        "ACONTEXT_LLM_MAX_RETRIES": "0",
        "ACONTEXT_OBSERVER_BATCH": str(BATCH),
        "ACONTEXT_OBSERVER_IDLE_S": "1000",  # only full batches run: the batches are known in advance
        "ACONTEXT_QUEUE_LEASE_S": str(lease_s),
        "ACONTEXT_QUEUE_POLL_S": "0.2",
    }


@contextmanager
def replicas(deployment: Deployment, llm: ScriptedOpenAI, lease_s: float) -> Iterator[list[HttpServer]]:
    with ExitStack() as stack:
        yield [stack.enter_context(http_server(data_dir, **deployment.env, **replica_env(model, llm.base_url, lease_s)))
               for data_dir, model in zip(deployment.data_dirs, MODELS, strict=True)]


def batch_of(request: dict[str, Any]) -> tuple[str, ...] | None:
    """The texts of the messages an observer request shows, if it is a batch's first call (not a later turn)."""
    messages = request["messages"]
    if len(messages) != 2 or "insert_task" not in {t["function"]["name"] for t in request.get("tools", [])}:
        return None
    return tuple(_SHOWN.findall(messages[1]["content"]))


def batches(llm: ScriptedOpenAI) -> list[tuple[str, tuple[str, ...]]]:
    """(model, message texts) of every batch sent, in arrival order."""
    return [(request["model"], ids) for request in list(llm.requests) if (ids := batch_of(request))]


def finish(request: dict[str, Any]) -> Reply:
    return assistant(tool_calls=[("finish", {})])


async def drained(client: Client) -> bool:
    status = await call(client, "get_observer_status")
    return status["queue_depth"] == 0 and status["sessions_running"] == 0


def note(i: int, n: int) -> dict[str, str]:
    return {"role": "user", "content": f"session {i}, step {n}"}


async def test_writes_to_both_replicas_are_stored_once_and_each_batch_is_observed_once(
    deployment: Deployment,
) -> None:
    sessions, per_session = 6, 2 * BATCH
    with ScriptedOpenAI(responder=finish) as llm, replicas(deployment, llm, lease_s=15) as servers:
        async with Client(servers[0].mcp_url) as first, Client(servers[1].mcp_url) as second:
            clients = (first, second)
            session_ids = [(await call(clients[i % 2], "create_session"))["id"] for i in range(sessions)]
            sent: dict[str, list[str]] = {}

            async def converse(i: int, session_id: str) -> None:
                """One session's messages, in turn to each replica; the sessions talk at the same time."""
                ids = sent.setdefault(session_id, [])
                for n in range(per_session):
                    stored = await call(clients[(i + n) % 2], "send_message", session_id=session_id, message=note(i, n))
                    ids.append(stored["id"])

            async with anyio.create_task_group() as tg:
                for i, session_id in enumerate(session_ids):
                    tg.start_soon(converse, i, session_id)
            await eventually(lambda: drained(first), timeout=30, what="the replicas to observe every batch")

            for i, session_id in enumerate(session_ids):
                for client in clients:
                    page = await call(client, "get_messages", session_id=session_id)
                    assert page["message_ids"] == sent[session_id]
                    assert [m["content"] for m in page["items"]] == [note(i, n)["content"] for n in range(per_session)]
            assert await drained(second)

    seen = batches(llm)
    said = [[note(i, n)["content"] for n in range(per_session)] for i in range(sessions)]
    expected = {tuple(texts[k:k + BATCH]) for texts in said for k in range(0, per_session, BATCH)}
    assert sorted(texts for _, texts in seen) == sorted(expected)  # every batch once, none twice, none torn
    order = [texts for _, texts in seen]
    for texts in said:
        assert order.index(tuple(texts[:BATCH])) < order.index(tuple(texts[BATCH:]))  # in order per session
    assert {model for model, _ in seen} == set(MODELS)  # both replicas observed


async def test_a_batch_of_a_killed_replica_is_finished_by_the_other(deployment: Deployment) -> None:
    lease_s = 6.0  # heartbeats every 2 s: room for a loaded machine
    lock, started, killed = threading.Lock(), threading.Event(), threading.Event()

    def responder(request: dict[str, Any]) -> Reply:
        """The first batch hangs until its replica is killed; a later one adds a task for its messages."""
        shown = batch_of(request)
        if shown is None:
            return finish(request)
        with lock:
            first = not started.is_set()
            started.set()
        if first:
            killed.wait(timeout=60)
            return finish(request)
        labels = [f"m{k}" for k in range(1, len(shown) + 1)]  # the short labels the prompt shows
        return assistant(tool_calls=[("insert_task", {"after_task_order": 0, "task_description": TASK}),
                                     ("link_messages", {"task_order": 1, "message_ids": labels}),
                                     ("finish", {})])

    with ScriptedOpenAI(responder=responder) as llm, replicas(deployment, llm, lease_s) as servers:
        async with Client(servers[0].mcp_url) as first, Client(servers[1].mcp_url) as second:
            session_id = (await call(first, "create_session"))["id"]
            ids = [(await call((first, second)[n % 2], "send_message", session_id=session_id, message=note(0, n)))["id"]
                   for n in range(BATCH)]
        assert await anyio.to_thread.run_sync(started.wait, 30), "no replica took the batch"
        texts = tuple(note(0, n)["content"] for n in range(BATCH))
        (model, batch), = batches(llm)
        assert batch == texts
        victim, survivor = servers if model == MODELS[0] else servers[::-1]
        survivor_model = next(other for other in MODELS if other != model)

        async with Client(survivor.mcp_url) as client:
            lease = (await call(client, "get_observer_status"))["leases"][0]
            assert lease["key"] == session_id
            assert lease["owner"] != (await call(client, "get_observer_status"))["replica"]

            async def first_term_over() -> bool:
                return utc_now() > lease["lease_until"]

            # While the victim lives, its heartbeat keeps the batch: the lease outlasts its first term.
            await eventually(first_term_over, timeout=30, what="the lease's first term to end")
            [renewed] = (await call(client, "get_observer_status"))["leases"]
            assert renewed["owner"] == lease["owner"] and renewed["lease_until"] > lease["lease_until"]
            assert len(batches(llm)) == 1

            victim.kill()
            killed.set()
            await eventually(lambda: drained(client), timeout=40, what="the survivor to finish the batch")
            tasks = await call(client, "get_tasks", session_id=session_id)

    assert batches(llm) == [(model, texts), (survivor_model, texts)]  # sent again by the survivor only
    assert [(t["data"]["task_description"], t["message_ids"]) for t in tasks["items"]] == [(TASK, ids)]
    assert tasks["observer"]["pending_messages"] == 0
