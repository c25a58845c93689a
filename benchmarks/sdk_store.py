"""Run inside a venv holding the official `acontext` SDK: store N messages in one session, one call at a time,
and print `{"sent": N, "seconds": wall, "latencies": [...]}`. Usage: python sdk_store.py BASE_URL MESSAGES_JSON_FILE"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from acontext import AcontextClient


def main() -> None:
    base_url, messages = sys.argv[1], json.loads(Path(sys.argv[2]).read_text())
    count = len(messages)
    with AcontextClient(base_url=base_url, api_key="bench") as client:
        store = getattr(client.sessions, "store_message", None) or client.sessions.send_message
        session = client.sessions.create()
        store(session.id, blob={"role": "user", "content": "warm up"}, format="openai")
        latencies = []
        start = time.perf_counter()
        for i in range(count):
            begin = time.perf_counter()
            store(session.id, blob=messages[i], format="openai")
            latencies.append(time.perf_counter() - begin)
        wall = time.perf_counter() - start
    print(json.dumps({"sent": count, "seconds": wall, "latencies": latencies}))


if __name__ == "__main__":
    main()
