"""Run inside a venv holding the official `acontext` SDK: bad input through the SDK against a server started
with tokens `tok-a=alpha,tok-b=beta`, ACONTEXT_MAX_MESSAGE_BYTES=4000 and ACONTEXT_MAX_ARTIFACT_BYTES=4000.
Prints JSON `{case: [status, message]}` for each refused call, and `{"written": {...}}` afterwards, so the
test checks both the errors and that nothing was written.

Usage: python bad_input.py BASE_URL
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from acontext import AcontextClient, FileUpload
from acontext.errors import APIError


def refused(fn: Callable[[], Any]) -> list[Any]:
    try:
        fn()
    except APIError as exc:
        return [exc.status_code, exc.message]
    return [200, "accepted"]


def main() -> None:
    base_url = sys.argv[1]
    a = AcontextClient(base_url=base_url, api_key="tok-a")
    b = AcontextClient(base_url=base_url, api_key="tok-b")
    nobody = AcontextClient(base_url=base_url, api_key="not-a-token")
    store = "store_message" if hasattr(a.sessions, "store_message") else "send_message"
    session = a.sessions.create()
    getattr(a.sessions, store)(session.id, blob={"role": "user", "content": "hello"}, format="openai")
    disk = a.disks.create()
    a.disks.artifacts.upsert(disk.id, file=FileUpload(filename="a.md", content=b"mine"), file_path="/")
    out: dict[str, Any] = {
        "bad_token": refused(lambda: nobody.sessions.list()),
        "unknown_session": refused(lambda: a.sessions.get_messages("no-such-session")),
        "unknown_disk": refused(lambda: a.disks.artifacts.list("no-such-disk")),
        "bad_format": refused(lambda: a.sessions.get_messages(session.id, format="yaml")),
        "bad_message": refused(lambda: getattr(a.sessions, store)(
            session.id, blob={"role": "user", "content": 42}, format="openai")),
        "orphan_tool_result": refused(lambda: getattr(a.sessions, store)(
            session.id, blob={"role": "tool", "tool_call_id": "nope", "content": "x"}, format="openai")),
        "big_message": refused(lambda: getattr(a.sessions, store)(
            session.id, blob={"role": "user", "content": "x" * 5000}, format="openai")),
        "big_artifact": refused(lambda: a.disks.artifacts.upsert(
            disk.id, file=FileUpload(filename="big.bin", content=b"x" * 5000), file_path="/")),
        "big_body": refused(lambda: a.disks.artifacts.upsert(
            disk.id, file=FileUpload(filename="huge.bin", content=b"x" * 3_000_000), file_path="/")),
        "bad_path": refused(lambda: a.disks.artifacts.get(disk.id, file_path="/../", filename="a.md")),
        "other_tenant_messages": refused(lambda: b.sessions.get_messages(session.id)),
        "other_tenant_store": refused(lambda: getattr(b.sessions, store)(
            session.id, blob={"role": "user", "content": "intrusion"}, format="openai")),
        "other_tenant_delete": refused(lambda: b.sessions.delete(session.id)),
        "other_tenant_artifact": refused(lambda: b.disks.artifacts.get(disk.id, file_path="/", filename="a.md")),
        "other_tenant_disk_delete": refused(lambda: b.disks.delete(disk.id)),
    }
    messages = a.sessions.get_messages(session.id)
    listing = a.disks.artifacts.list(disk.id, path="/")
    out["written"] = {
        "messages": [m["content"] for m in messages.items],
        "artifacts": sorted(x.filename for x in listing.artifacts),
        "b_sessions": len(b.sessions.list().items),
        "b_disks": len(b.disks.list().items),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
