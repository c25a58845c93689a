"""Run inside a venv holding `acontext==0.1.22`: issue 17's new features through the official SDK (sync
client), each checked through the SDK's own types; prints JSON `{check: true | "what went wrong"}`.

Usage: python features.py BASE_URL
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from typing import Any

from acontext import AcontextClient, DiskEvent, TextEvent
from acontext.errors import APIError


def main() -> None:
    c = AcontextClient(base_url=sys.argv[1], api_key="any-bearer")
    out: dict[str, Any] = {}

    def check(name: str, fn: Callable[[], Any]) -> None:
        try:
            out[name] = bool(fn()) or "returned a false value"
        except APIError as exc:
            out[name] = f"APIError {exc.status_code}: {exc.message}"
        except Exception:  # noqa: BLE001 - reported to the test, which names it
            out[name] = traceback.format_exc(limit=2)

    def refused(fn: Callable[[], Any]) -> list[Any]:
        try:
            fn()
        except APIError as exc:
            return [exc.status_code, exc.message]
        return [200, "accepted"]

    s = c.sessions.create(user="ana", configs={"agent": "bot1", "tags": ["a", "b"]})
    c.sessions.create(configs={"agent": "bot2"})
    m1 = c.sessions.store_message(s.id, blob={"role": "user", "content": "hi"}, meta={"source": "web"})
    c.sessions.add_event(s.id, TextEvent(text="switched plan"))
    c.sessions.store_message(s.id, blob={"role": "model", "parts": [
        {"functionCall": {"id": "g1", "name": "search", "args": {"q": "x"}}}]}, format="gemini")
    c.sessions.store_message(s.id, blob={"role": "user", "parts": [
        {"functionResponse": {"id": "g1", "name": "search", "response": {"hits": 2}}}]}, format="gemini")
    c.sessions.add_event(s.id, DiskEvent(disk_id="d1", path="/plan.md", note="wrote it"))

    check("store_message returns meta", lambda: m1.meta == {"source": "web"})
    check("get_events", lambda: [e.type for e in c.sessions.get_events(s.id).items] == ["text_event", "disk_event"])
    check("get_events paged", lambda: (lambda p: len(p.items) == 1 and p.has_more and p.items[0].type == "disk_event")(
        c.sessions.get_events(s.id, limit=1, time_desc=True)))
    check("with_events", lambda: [e.data for e in c.sessions.get_messages(s.id, with_events=True).events or []] == [
        {"text": "switched plan"}, {"disk_id": "d1", "path": "/plan.md", "note": "wrote it"}])
    check("metas", lambda: c.sessions.get_messages(s.id).metas == [{"source": "web"}, {}, {}])
    check("patch_message_meta", lambda: c.sessions.patch_message_meta(s.id, m1.id, meta={"source": None, "r": 5})
          == {"r": 5})
    check("gemini read back", lambda: c.sessions.get_messages(s.id, format="gemini").items[1]["parts"][0]
          == {"functionCall": {"id": "g1", "name": "search", "args": {"q": "x"}}})
    check("gemini as openai", lambda: c.sessions.get_messages(s.id).items[2]["tool_call_id"] == "g1")
    check("filter_by_configs", lambda: [x.id for x in c.sessions.list(filter_by_configs={"tags": ["b"]}).items]
          == [s.id])
    check("list by user", lambda: [x.id for x in c.sessions.list(user="ana").items] == [s.id])
    copied = c.sessions.copy(s.id)
    check("copy", lambda: copied.old_session_id == s.id and len(c.sessions.get_messages(copied.new_session_id).items)
          == 3 and len(c.sessions.get_events(copied.new_session_id).items) == 2)
    disk = c.disks.create(user="ana")
    check("disk list by user", lambda: [d.id for d in c.disks.list(user="ana").items] == [disk.id])
    check("users.list", lambda: [u.identifier for u in c.users.list().items] == ["ana"])
    check("users.get_resources", lambda: (lambda r: (r.counts.sessions_count, r.counts.disks_count) == (2, 1))(
        c.users.get_resources("ana")))
    check("project configs", lambda: c.project.update_configs({"task_success_criteria": "tests pass"})
          .task_success_criteria == "tests pass" and c.project.get_configs().task_success_criteria == "tests pass")
    check("project configs reset", lambda: c.project.update_configs({"task_success_criteria": None})
          .task_success_criteria is None)
    out["bad"] = {
        "event_unknown_session": refused(lambda: c.sessions.add_event("nope", TextEvent(text="x"))),
        "meta_unknown_message": refused(lambda: c.sessions.patch_message_meta(s.id, "nope", meta={"a": 1})),
        "copy_unknown": refused(lambda: c.sessions.copy("nope")),
        "user_unknown": refused(lambda: c.users.get_resources("nobody")),
        "criteria_too_long": refused(lambda: c.project.update_configs({"task_failure_criteria": "x" * 2001})),
        "gemini_no_id": refused(lambda: c.sessions.store_message(s.id, format="gemini", blob={
            "role": "model", "parts": [{"functionCall": {"name": "f"}}]})),
    }
    c.users.delete("ana")
    check("users.delete cascades", lambda: c.users.list().items == [] and [x.configs for x in c.sessions.list().items]
          == [{"agent": "bot2"}])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
