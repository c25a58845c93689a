"""Kill -9 the server while clients stream messages: every acknowledged write survives, intact.

Kill points are random (a seeded number of acknowledgements, so a failure can be replayed with
ACONTEXT_CRASH_SEED), and requests are in flight when the process dies.
"""

from __future__ import annotations

import base64
import os
import random
from pathlib import Path

import anyio
import pytest
from mcp import Client

from tests.support.mcp import call
from tests.support.servers import http_server

pytestmark = pytest.mark.anyio

ROUNDS = 20
SENDERS = 4
IMAGE = base64.b64encode(os.urandom(80 * 1024)).decode()  # over the 64 KiB blob threshold


def message(tag: str, n: int) -> dict:
    if n % 5 == 4:
        return {"role": "user", "content": [
            {"type": "text", "text": tag},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{IMAGE}"}},
        ]}
    return {"role": "user", "content": tag}


async def test_acknowledged_messages_survive_random_kills(tmp_path: Path) -> None:
    seed = int(os.environ.get("ACONTEXT_CRASH_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    data_dir = tmp_path / "data"
    acked: dict[str, str] = {}
    with http_server(data_dir) as server:
        async with Client(server.mcp_url) as client:
            session_id = (await call(client, "create_session"))["id"]

    for round_ in range(ROUNDS):
        with http_server(data_dir) as server:
            target = len(acked) + rng.randint(1, 40)
            reached = anyio.Event()

            async def sender(k: int) -> None:
                n = 0
                try:
                    async with Client(server.mcp_url) as client:
                        while True:
                            tag = f"r{round_}-{k}-{n}"
                            result = await call(client, "send_message", session_id=session_id, message=message(tag, n))
                            acked[tag] = result["id"]
                            n += 1
                            if len(acked) >= target:
                                reached.set()
                except Exception:  # noqa: BLE001 - the server died under this client: expected
                    pass

            async with anyio.create_task_group() as group:
                for k in range(SENDERS):
                    group.start_soon(sender, k)
                with anyio.fail_after(60):
                    await reached.wait()
                server.kill()  # senders are mid-request; SIGKILL runs no shutdown code

    with http_server(data_dir) as server:
        async with Client(server.mcp_url) as client:
            page = await call(client, "get_messages", session_id=session_id)
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
