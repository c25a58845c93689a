"""Run inside a venv holding the official `acontext` SDK (any generation): call every SDK method against
acontext-mcp's REST API, sync and async clients, and print one JSON object
`{"sync": {method: outcome}, "async": {...}}`; outcome is "ok", "501: <msg>" or "FAIL: <what>".

The SDK parses every answer into its own pydantic types, so a wrong shape fails here as FAIL.
Usage: python walk.py BASE_URL API_KEY
"""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import sys
import tempfile
import traceback
import zipfile
from collections.abc import Callable
from typing import Any

from acontext import AcontextAsyncClient, AcontextClient, FileUpload
from acontext.errors import APIError

OPENAI_TURNS = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Find the weather in Paris"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21C"},
    {"role": "assistant", "content": "It is sunny and 21C in Paris."},
]


class Blocking:
    """An async SDK client seen through blocking calls, so one walk serves both clients."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._target, self._loop = target, loop

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if inspect.iscoroutinefunction(value):
            return lambda *a, **k: self._loop.run_until_complete(value(*a, **k))
        if type(value).__module__.startswith("acontext.resources"):
            return Blocking(value, self._loop)
        return value


class Walk:
    def __init__(self, client: Any) -> None:
        self.c = client
        self.results: dict[str, str] = {}

    def step(self, name: str, fn: Callable[[], Any], check: Callable[[Any], bool] = lambda _: True) -> Any:
        try:
            value = fn()
        except APIError as exc:
            outcome = f"501: {exc.message}" if exc.status_code == 501 else f"FAIL: {exc.status_code} {exc.message}"
            self.results.setdefault(name, outcome)
            return None
        except Exception as exc:  # noqa: BLE001 - every failure is a result here
            self.results.setdefault(name, f"FAIL: {type(exc).__name__}: {exc} {traceback.format_exc()[-600:]}")
            return None
        if not check(value):
            self.results.setdefault(name, f"FAIL: unexpected result {value!r}"[:800])
        else:
            self.results.setdefault(name, "ok")
        return value

    def run(self) -> dict[str, str]:
        c, step = self.c, self.step
        new = hasattr(c.sessions, "store_message")
        store = c.sessions.store_message if new else c.sessions.send_message
        store_name = "sessions.store_message" if new else "sessions.send_message"
        step("ping", c.ping, lambda r: r == "pong")

        # Sessions and messages
        session = step("sessions.create", lambda: c.sessions.create(configs={"agent": "walk"}))
        sid = session.id
        step("sessions.list", lambda: c.sessions.list(limit=50), lambda r: sid in [s.id for s in r.items])
        step("sessions.update_configs", lambda: c.sessions.update_configs(sid, configs={"agent": "walk", "n": 1}))
        step("sessions.get_configs", lambda: c.sessions.get_configs(sid),
             lambda r: r.configs == {"agent": "walk", "n": 1})
        if new:
            step("sessions.patch_configs", lambda: c.sessions.patch_configs(sid, configs={"n": None, "m": 2}),
                 lambda r: r == {"agent": "walk", "m": 2})
        for turn in OPENAI_TURNS:
            step(store_name, lambda turn=turn: store(sid, blob=turn, format="openai"), lambda r: r.session_id == sid)
        step(store_name, lambda: store(sid, blob={"role": "user", "content": [{"type": "text", "text": "hi"}]},
                                        format="anthropic"))
        upload = FileUpload(filename="note.txt", content=b"plain text file", content_type="text/plain")
        step(store_name, lambda: store(
            sid, blob={"role": "user", "parts": [{"type": "text", "text": "see file"},
                                                 {"type": "file", "file_field": "f1"}]},
            format="acontext", file_field="f1", file=upload))
        page = step("sessions.get_messages", lambda: c.sessions.get_messages(sid),
                    lambda r: r.items[1]["content"] == "Find the weather in Paris")
        step("sessions.get_messages", lambda: c.sessions.get_messages(sid, format="anthropic"))
        step("sessions.get_messages", lambda: c.sessions.get_messages(sid, format="acontext"),
             lambda r: r.items[-1]["parts"][1]["type"] == "file")
        step("sessions.get_messages", lambda: c.sessions.get_messages(sid, limit=2),
             lambda r: len(r.items) == 2 and r.has_more)
        if new:
            step("sessions.get_messages", lambda: c.sessions.get_messages(
                sid, edit_strategies=[{"type": "remove_tool_result", "params": {"keep_recent_n_tool_results": 0,
                                                                              "tool_result_placeholder": "gone"}}]),
                 lambda r: any(m.get("content") == "gone" for m in r.items) and len(r.ids) == len(r.items))
            pin = page.ids[3] if page else ""
            step("sessions.get_messages", lambda: c.sessions.get_messages(
                sid, edit_strategies=[{"type": "token_limit", "params": {"limit_tokens": 100000}}],
                pin_editing_strategies_at_message=pin), lambda r: r.edit_at_message_id == pin)
        step("sessions.get_token_counts", lambda: c.sessions.get_token_counts(sid), lambda r: r.total_tokens > 0)
        step("sessions.flush", lambda: c.sessions.flush(sid))
        step("sessions.get_tasks", lambda: c.sessions.get_tasks(sid))
        if new:
            step("sessions.messages_observing_status", lambda: c.sessions.messages_observing_status(sid))
            step("sessions.get_session_summary", lambda: c.sessions.get_session_summary(sid))
            from acontext import TextEvent

            step("sessions.add_event", lambda: c.sessions.add_event(sid, event=TextEvent(text="deployed")))
            step("sessions.get_events", lambda: c.sessions.get_events(sid))
            step("sessions.copy", lambda: c.sessions.copy(sid))
            mid = page.ids[0] if page else "x"
            step("sessions.patch_message_meta", lambda: c.sessions.patch_message_meta(sid, mid, meta={"a": 1}))
        else:
            step("sessions.get_learning_status", lambda: c.sessions.get_learning_status(sid),
                 lambda r: r.space_digested_count == 0)

        # Disks and artifacts
        disk = step("disks.create", c.disks.create)
        did = disk.id
        step("disks.list", lambda: c.disks.list(), lambda r: did in [d.id for d in r.items])
        a = c.disks.artifacts
        plan = FileUpload(filename="plan.md", content=b"# Plan\nTODO ship")
        step("artifacts.upsert", lambda: a.upsert(did, file=plan, file_path="/docs/", meta={"k": "v"}),
             lambda r: r.meta["k"] == "v")
        step("artifacts.upsert", lambda: a.upsert(did, file=("data.json", b'{"a": 1}')))
        step("artifacts.get", lambda: a.get(did, file_path="/docs/", filename="plan.md", with_content=True,
                                            with_public_url=True),
             lambda r: r.content.raw == "# Plan\nTODO ship" and r.public_url.startswith("http"))
        step("artifacts.list", lambda: a.list(did, path="/"), lambda r: r.directories == ["/docs/"])
        step("artifacts.update", lambda: a.update(did, file_path="/docs/", filename="plan.md", meta={"k": "w"}),
             lambda r: r.artifact.meta["k"] == "w")
        if new:
            step("artifacts.glob_artifacts", lambda: a.glob_artifacts(did, query="**/*.md"),
                 lambda r: [x.filename for x in r] == ["plan.md"])
            step("artifacts.grep_artifacts", lambda: a.grep_artifacts(did, query="TODO.*ship"),
                 lambda r: [x.filename for x in r] == ["plan.md"])
            step("artifacts.download_to_sandbox", lambda: a.download_to_sandbox(
                did, file_path="/docs/", filename="plan.md", sandbox_id="s", sandbox_path="/tmp"))
            step("artifacts.upload_from_sandbox", lambda: a.upload_from_sandbox(
                did, sandbox_id="s", sandbox_path="/tmp", sandbox_filename="x", file_path="/"))
        step("artifacts.delete", lambda: a.delete(did, file_path="/", filename="data.json"))
        step("disks.delete", lambda: c.disks.delete(did))

        if hasattr(c, "spaces"):
            self.spaces(sid)
        if hasattr(c, "tools"):
            step("tools.get_tool_name", lambda: c.tools.get_tool_name())
            step("tools.rename_tool_name",
                 lambda: c.tools.rename_tool_name(rename=[{"old_name": "a", "new_name": "b"}]))
        if new:
            self.newer()
        step("sessions.delete", lambda: c.sessions.delete(sid))
        return self.results

    def spaces(self, sid: str) -> None:
        c, step = self.c, self.step
        space = step("spaces.create", lambda: c.spaces.create(configs={"name": "walk"}))
        spid = space.id
        step("spaces.list", lambda: c.spaces.list(), lambda r: spid in [s.id for s in r.items])
        step("spaces.update_configs", lambda: c.spaces.update_configs(spid, configs={"confirm_before_learning": True}))
        step("spaces.get_configs", lambda: c.spaces.get_configs(spid),
             lambda r: r.configs["confirm_before_learning"] is True)
        step("sessions.connect_to_space", lambda: c.sessions.connect_to_space(sid, space_id=spid))
        folder = step("blocks.create", lambda: c.blocks.create(spid, block_type="folder", title="github"))
        page = step("blocks.create", lambda: c.blocks.create(spid, block_type="page", title="star_repo",
                                                             parent_id=folder.id))
        sop = {"use_when": "star a github repo", "preferences": "use personal account",
               "tool_sops": [{"tool_name": "goto", "action": "open the repo url"}]}
        block = step("blocks.create", lambda: c.blocks.create(spid, block_type="sop", parent_id=page.id,
                                                              title="star", props=sop))
        step("blocks.list", lambda: c.blocks.list(spid), lambda r: [b.id for b in r] == [folder.id])
        step("blocks.list", lambda: c.blocks.list(spid, parent_id=page.id), lambda r: [b.id for b in r] == [block.id])
        step("blocks.get_properties", lambda: c.blocks.get_properties(spid, block.id),
             lambda r: r.props["use_when"] == "star a github repo")
        step("blocks.update_properties", lambda: c.blocks.update_properties(spid, block.id, props={**sop,
                                                                                                  "preferences": "x"}))
        other = step("blocks.create", lambda: c.blocks.create(spid, block_type="page", title="fork_repo",
                                                              parent_id=folder.id))
        step("blocks.update_sort", lambda: c.blocks.update_sort(spid, other.id, sort=0))
        step("blocks.list", lambda: c.blocks.list(spid, parent_id=folder.id),
             lambda r: [b.id for b in r] == [other.id, page.id])
        archive = step("blocks.create", lambda: c.blocks.create(spid, block_type="folder", title="archive"))
        step("blocks.move", lambda: c.blocks.move(spid, other.id, parent_id=archive.id))
        step("blocks.list", lambda: c.blocks.list(spid, parent_id=archive.id),
             lambda r: [b.id for b in r] == [other.id])
        step("spaces.experience_search", lambda: c.spaces.experience_search(spid, query="star a github repo",
                                                                            mode="fast"),
             lambda r: block.id in [b.block_id for b in r.cited_blocks])
        step("spaces.get_unconfirmed_experiences", lambda: c.spaces.get_unconfirmed_experiences(spid),
             lambda r: r.items == [])
        try:
            c.spaces.confirm_experience(spid, "no-such-experience", save=True)
            self.results["spaces.confirm_experience"] = "FAIL: an unknown experience was confirmed"
        except APIError as exc:  # the route answers: our 404 for an id that names nothing
            ok = exc.status_code == 404 and "not found" in exc.message
            self.results["spaces.confirm_experience"] = "ok" if ok else f"FAIL: {exc.status_code} {exc.message}"
        step("blocks.delete", lambda: c.blocks.delete(spid, folder.id))
        step("spaces.delete", lambda: c.spaces.delete(spid))

    def newer(self) -> None:
        """0.1.x families: users and project configs work; the rest must answer 501 with its reason."""
        c, step = self.c, self.step
        step("sessions.create", lambda: c.sessions.create(user="alice"), lambda r: r.id)
        step("users.list", lambda: c.users.list(), lambda r: "alice" in [u.identifier for u in r.items])
        step("users.get_resources", lambda: c.users.get_resources("alice"), lambda r: r.counts.sessions_count == 1)
        step("users.delete", lambda: c.users.delete("alice"))
        step("project.get_configs", lambda: c.project.get_configs())
        step("project.update_configs", lambda: c.project.update_configs({"task_success_criteria": "x"}))
        step("sandboxes.create", lambda: c.sandboxes.create())
        step("sandboxes.exec_command", lambda: c.sandboxes.exec_command(sandbox_id="s", command="ls"))
        step("sandboxes.get_logs", lambda: c.sandboxes.get_logs())
        step("sandboxes.kill", lambda: c.sandboxes.kill("s"))
        self.skills()

    def skills(self) -> None:
        """0.1.x learning spaces and agent skills: a space, a session learned into it, a skill uploaded as a zip."""
        c, step = self.c, self.step
        ls, sk = c.learning_spaces, c.skills
        space = step("learning_spaces.create", lambda: ls.create(meta={"name": "walk"}),
                     lambda r: r.meta["name"] == "walk")
        sid = space.id if space else "x"
        step("learning_spaces.list", lambda: ls.list(), lambda r: sid in [s.id for s in r.items])
        step("learning_spaces.get", lambda: ls.get(sid), lambda r: r.id == sid)
        step("learning_spaces.update", lambda: ls.update(sid, meta={"confirm_before_learning": True}),
             lambda r: r.meta["confirm_before_learning"] is True)
        session = c.sessions.create()
        step("learning_spaces.learn", lambda: ls.learn(sid, session_id=session.id),
             lambda r: r.session_id == session.id)
        step("learning_spaces.get_session", lambda: ls.get_session(sid, session_id=session.id),
             lambda r: r.learning_space_id == sid)
        step("learning_spaces.list_sessions", lambda: ls.list_sessions(sid), lambda r: [s.session_id for s in r] == [
            session.id])
        step("learning_spaces.wait_for_learning",
             lambda: ls.wait_for_learning(sid, session_id=session.id, timeout=30, poll_interval=0.2),
             lambda r: r.status == "completed")
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr("say-hello/SKILL.md", "---\nname: say-hello\ndescription: Greet. Use when greeting.\n---\n")
        skill = step("skills.create", lambda: sk.create(file=("say-hello.zip", archive.getvalue()),
                                                         meta={"space_id": sid}), lambda r: r.name == "say-hello")
        kid = skill.id if skill else "x"
        step("learning_spaces.list_skills", lambda: ls.list_skills(sid), lambda r: [s.id for s in r] == [kid])
        step("skills.list_catalog", lambda: sk.list_catalog(), lambda r: "say-hello" in [i.name for i in r.items])
        step("skills.get", lambda: sk.get(kid), lambda r: r.description == "Greet. Use when greeting.")
        step("skills.get_file", lambda: sk.get_file(skill_id=kid, file_path="SKILL.md"),
             lambda r: r.content.raw.startswith("---\nname: say-hello\n"))
        with tempfile.TemporaryDirectory() as tmp:
            step("skills.download", lambda: sk.download(skill_id=kid, path=tmp), lambda r: r.files == ["SKILL.md"])
        step("skills.download_zip", lambda: sk.download_zip(kid), lambda r: r[:2] == b"PK")
        step("learning_spaces.include_skill", lambda: ls.include_skill(sid, skill_id=kid))
        step("learning_spaces.exclude_skill", lambda: ls.exclude_skill(sid, skill_id=kid))
        step("skills.download_to_sandbox", lambda: sk.download_to_sandbox(skill_id=kid, sandbox_id="s"))
        step("skills.delete", lambda: sk.delete(kid))
        step("learning_spaces.delete", lambda: ls.delete(sid))

def main() -> None:
    base_url, api_key = sys.argv[1], sys.argv[2]
    with AcontextClient(base_url=base_url, api_key=api_key) as client:
        sync = Walk(client).run()
    loop = asyncio.new_event_loop()
    target = AcontextAsyncClient(base_url=base_url, api_key=api_key)
    try:
        asynchronous = Walk(Blocking(target, loop)).run()
    finally:
        loop.run_until_complete(target.aclose() if hasattr(target, "aclose") else target.close())
        loop.close()
    print(json.dumps({"sync": sync, "async": asynchronous}))


if __name__ == "__main__":
    main()
