"""Kill -9 the server while clients stream messages and artifacts, 20 times: every acknowledged
write survives intact, and the observer's queue resumes after the last restart.

Kill points are random (a seeded number of acknowledgements, so a failure can be replayed with
ACONTEXT_CRASH_SEED), and requests are in flight when the process dies. The observer runs
throughout against the scripted LLM, so batches are killed mid-flight too.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import re
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.fakes.openai_server import Reply, ScriptedOpenAI, assistant
from tests.support.mcp import call
from tests.support.servers import http_server

pytestmark = [pytest.mark.anyio, pytest.mark.fault]

ROUNDS = 20
SENDERS = 3  # message senders; one more client upserts artifacts
IMAGE = base64.b64encode(os.urandom(80 * 1024)).decode()  # over the 64 KiB blob threshold


def message(tag: str, n: int) -> dict:
    if n % 5 == 4:
        return {"role": "user", "content": [
            {"type": "text", "text": tag},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{IMAGE}"}},
        ]}
    return {"role": "user", "content": tag}


def artifact(tag: str, n: int) -> bytes:
    """Distinct bytes per write, some large enough to take a while to write."""
    return (tag.encode() + b"\n") * (1 + (n % 4) * 5000)


def one_task_per_batch(request: dict[str, Any]) -> Reply:
    if request["messages"][-1]["role"] == "tool":
        return assistant(tool_calls=[("finish", {})])
    first = re.search(r"r\d+-\d+-\d+", request["messages"][1]["content"])  # a task must share a word with its batch
    return assistant(tool_calls=[("insert_task", {"after_task_order": 0,
                                                  "task_description": f"Keep writing {first[0] if first else ''}"})])


async def test_acknowledged_writes_survive_random_kills(tmp_path: Path) -> None:
    seed = int(os.environ.get("ACONTEXT_CRASH_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    data_dir = tmp_path / "data"
    acked: dict[str, str] = {}  # message tag -> message id
    attempts: dict[str, list[tuple[int, str]]] = {}  # artifact filename -> (write number, sha256) of every write
    files: dict[str, int] = {}  # artifact filename -> write number of its last acknowledged write
    writes = 0
    with ScriptedOpenAI(one_task_per_batch) as fake:
        env = {"OPENAI_BASE_URL": fake.base_url, "ACONTEXT_OBSERVER_BATCH": "8", "ACONTEXT_LLM_MAX_RETRIES": "0"}
        with http_server(data_dir, **env) as server:
            async with Client(server.mcp_url) as client:
                session_id = (await call(client, "create_session"))["id"]
                disk_id = (await call(client, "create_disk", name="crash"))["id"]

        for round_ in range(ROUNDS):
            with http_server(data_dir, **env) as server:
                target = len(acked) + rng.randint(1, 40)
                reached = anyio.Event()

                async def sender(k: int, round_: int = round_, target: int = target,
                                 reached: anyio.Event = reached) -> None:
                    n = 0
                    try:
                        async with Client(server.mcp_url) as client:
                            while True:
                                tag = f"r{round_}-{k}-{n}"
                                result = await call(client, "send_message", session_id=session_id,
                                                    message=message(tag, n))
                                acked[tag] = result["id"]
                                n += 1
                                if len(acked) >= target:
                                    reached.set()
                    except Exception:  # noqa: BLE001 - the server died under this client: expected
                        pass

                async def writer(round_: int = round_) -> None:
                    nonlocal writes
                    n = 0
                    try:
                        async with Client(server.mcp_url) as client:
                            while True:
                                name = f"f{n % 7}.txt"  # overwrites too, not only new files
                                data = artifact(f"r{round_}-{n}", n)
                                writes += 1
                                number = writes
                                attempts.setdefault(name, []).append((number, hashlib.sha256(data).hexdigest()))
                                await call(client, "upsert_artifact", disk_id=disk_id, file_path="/crash/",
                                           filename=name, content=base64.b64encode(data).decode(), encoding="base64")
                                files[name] = number
                                n += 1
                    except Exception:  # noqa: BLE001 - the server died under this client: expected
                        pass

                async with anyio.create_task_group() as group:
                    for k in range(SENDERS):
                        group.start_soon(sender, k)
                    group.start_soon(writer)
                    with anyio.fail_after(60):
                        await reached.wait()
                    server.kill()  # clients are mid-request; SIGKILL runs no shutdown code

        with http_server(data_dir, **env) as server:
            async with Client(server.mcp_url) as client:
                page = await call(client, "get_messages", session_id=session_id)
                stored_files = {
                    name: await call(client, "get_artifact", disk_id=disk_id, file_path="/crash/", filename=name)
                    for name in files
                }
                tasks = await call(client, "flush", session_id=session_id, timeout_s=120)
                status = await call(client, "get_observer_status")

    stored = dict(zip(page["message_ids"], page["items"], strict=True))
    tags = {}
    for message_id, item in stored.items():
        content = item["content"]
        tags[content if isinstance(content, str) else content[0]["text"]] = (message_id, item)
    missing = [tag for tag in acked if tag not in tags or tags[tag][0] != acked[tag]]
    assert not missing, f"seed {seed}: acknowledged but lost: {missing[:5]}"
    for tag, (_, item) in tags.items():
        if isinstance(item["content"], list):  # a blob-backed image: its bytes came back whole
            assert item["content"][1]["image_url"]["url"] == f"data:image/png;base64,{IMAGE}", f"seed {seed}: {tag}"
    assert len(tags) == len(stored), f"seed {seed}: a message was stored twice"
    assert len(acked) >= ROUNDS

    # Each file holds whole bytes of one write: the last acknowledged one, or a later write that
    # committed just before a kill (its acknowledgement lost). Never torn, never older.
    assert files, f"seed {seed}: no artifact write was acknowledged"
    for name, stored_artifact in stored_files.items():
        content = stored_artifact["content"]
        data = base64.b64decode(content) if stored_artifact["encoding"] == "base64" else content.encode()
        sha = hashlib.sha256(data).hexdigest()
        assert sha == stored_artifact["sha256"], f"seed {seed}: {name} does not match its record"
        allowed = {digest for number, digest in attempts[name] if number >= files[name]}
        assert sha in allowed, f"seed {seed}: {name} holds bytes older than its last acknowledged write"

    # The queue resumed: every message was read by the observer after all those kills.
    assert tasks["observer"]["pending_messages"] == 0
    assert tasks["items"], f"seed {seed}: the observer never produced a task"
    assert status["queue_depth"] == 0 and status["sessions_failed"] == []
