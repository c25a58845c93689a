"""Multi-tenant mode over a real HTTP server: one project can never reach another's sessions, disks or spaces.

Project "alpha" holds the demo scenario (a space with an SOP, a session with messages, tasks and a
learned item, a disk with a file). Project "beta" calls every tool, prompt and resource template with
alpha's ids and must get exactly what an unknown id gets; every listing and status must equal what an
empty project ("gamma") sees. The tables below must name every tool, prompt and template the server
offers, so a new one without an isolation check fails here.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager
from typing import Any
from uuid import uuid4

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from acontext_mcp import Container, Settings
from acontext_mcp.demo import Demo, load_demo
from acontext_mcp.projects import use_project
from tests.support.mcp import call, call_error
from tests.support.postgres import env_for, scratch_database
from tests.support.servers import HttpServer, http_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TOKENS = {"alpha": "token-of-alpha-0123", "beta": "token-of-beta-4567", "gamma": "token-of-gamma-89ab"}
FILE = {"file_path": "/site/", "filename": "index.html"}
Args = Callable[[Demo], dict[str, Any]]

# Tools taking an id: called by beta with alpha's ids, they must fail exactly as with ids that exist nowhere.
USER = "alpha-user"
SKILL = "landing-pages"
BY_ID: dict[str, Args] = {
    "create_session": lambda a: {"space_id": a.space_id},
    "get_session": lambda a: {"session_id": a.session_id},
    "delete_session": lambda a: {"session_id": a.history_session_id},
    "send_message": lambda a: {"session_id": a.session_id, "message": {"role": "user", "content": "hi"}},
    "get_messages": lambda a: {"session_id": a.session_id},
    "get_token_counts": lambda a: {"session_id": a.session_id},
    "get_tasks": lambda a: {"session_id": a.session_id},
    "update_task_status": lambda a: {"session_id": a.session_id, "task_order": 1, "status": "failed"},
    "flush": lambda a: {"session_id": a.session_id, "timeout_s": 1},
    "get_session_summary": lambda a: {"session_id": a.session_id},
    "delete_space": lambda a: {"space_id": a.space_id},
    "list_space": lambda a: {"space_id": a.space_id},
    "create_block": lambda a: {"space_id": a.space_id, "parent_path": "/", "type": "folder", "title": "x"},
    "get_block": lambda a: {"space_id": a.space_id, "block_id": a.sop_block_id},
    "update_block": lambda a: {"space_id": a.space_id, "block_id": a.sop_block_id, "title": "stolen"},
    "move_block": lambda a: {"space_id": a.space_id, "block_id": a.sop_block_id, "new_parent_path": "/"},
    "delete_block": lambda a: {"space_id": a.space_id, "block_id": a.sop_block_id, "recursive": True},
    "experience_search": lambda a: {"space_id": a.space_id, "query": "landing page"},
    "rebuild_search_index": lambda a: {"space_id": a.space_id},
    "flush_learning": lambda a: {"space_id": a.space_id, "timeout_s": 1},
    "list_pending_experiences": lambda a: {"space_id": a.space_id},
    "confirm_experience": lambda a: {"space_id": a.space_id, "experience_id": a.sop_block_id, "accept": True},
    "delete_disk": lambda a: {"disk_id": a.disk_id},
    "upsert_artifact": lambda a: {"disk_id": a.disk_id, **FILE, "content": "stolen"},
    "get_artifact": lambda a: {"disk_id": a.disk_id, **FILE},
    "list_artifacts": lambda a: {"disk_id": a.disk_id},
    "delete_artifact": lambda a: {"disk_id": a.disk_id, **FILE},
    "glob_artifacts": lambda a: {"disk_id": a.disk_id, "pattern": "**/*"},
    "grep_artifacts": lambda a: {"disk_id": a.disk_id, "pattern": "iPhone"},
    "move_artifact": lambda a: {"disk_id": a.disk_id, **FILE, "new_file_path": "/", "new_filename": "x.html"},
    "copy_session": lambda a: {"session_id": a.session_id},
    "patch_message_meta": lambda a: {"session_id": a.session_id, "message_id": a.session_id, "meta": {"x": 1}},
    "add_event": lambda a: {"session_id": a.session_id, "type": "text_event"},
    "list_events": lambda a: {"session_id": a.session_id},
    "list_skills": lambda a: {"space_id": a.space_id},
    "get_skill": lambda a: {"space_id": a.space_id, "name": SKILL},
    "get_skill_file": lambda a: {"space_id": a.space_id, "name": SKILL},
    "skill_history": lambda a: {"space_id": a.space_id, "name": SKILL},
    "diff_skill": lambda a: {"space_id": a.space_id, "name": SKILL, "from_version": 1},
    "rollback_skill": lambda a: {"space_id": a.space_id, "name": SKILL, "version": 1},
    # a user of alpha's, by its identifier: unknown to beta
    "get_user_resources": lambda _: {"identifier": USER},
    "delete_user": lambda _: {"identifier": USER},
}
# More id-taking calls for tools whose other ids are checked above as well.
ALSO_BY_ID: list[tuple[str, Args]] = [
    ("flush_learning", lambda a: {"session_id": a.session_id, "timeout_s": 1}),
    ("experience_search", lambda a: {"space_id": a.space_id, "query": "landing page", "mode": "agentic"}),
]
# Tools without ids: what beta gets must equal what a project with nothing in it gets.
AS_IF_EMPTY: dict[str, dict[str, Any]] = {
    "list_sessions": {},
    "list_spaces": {},
    "list_disks": {},
    "get_observer_status": {},
    "get_learner_status": {},
    "rebuild_search_index": {},
    "list_users": {},
    "get_project_configs": {},
}
# Tools that create a record of the caller's own project.
CREATING: dict[str, dict[str, Any]] = {"create_space": {"name": "beta's"}, "create_disk": {"name": "beta's"},
                                       "update_project_configs": {"configs": {"task_success_criteria": "beta's"}}}
PROMPTS: dict[str, Args] = {"use_skills": lambda a: {"space_id": a.space_id, "task": "a landing page"}}
TEMPLATES: dict[str, Callable[[Demo], str]] = {
    "session://{session_id}/messages": lambda a: f"session://{a.session_id}/messages",
    "session://{session_id}/tasks": lambda a: f"session://{a.session_id}/tasks",
    "space://{space_id}/{+path}": lambda a: f"space://{a.space_id}/web/landing_pages/build_product_landing_page",
    "disk://{disk_id}/{+path}": lambda a: f"disk://{a.disk_id}/site/index.html",
    "skill://{space_id}/{name}/{+path}": lambda a: f"skill://{a.space_id}/{SKILL}/SKILL.md",
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def alpha(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[HttpServer, Demo]]:
    data_dir = tmp_path_factory.mktemp("tenancy") / "data"
    with ExitStack() as stack:
        database_url = stack.enter_context(scratch_database()) if request.param == "postgresql" else None

        async def seed() -> Demo:
            settings = Settings(data_dir=data_dir, database_url=database_url)
            async with Container.open(settings, background=False) as service:
                with use_project("alpha"):
                    demo = await load_demo(service)
                    await service.sessions.create_session(user=USER)  # a user of alpha's
                    return demo

        demo = anyio.run(seed)
        pairs = ",".join(f"{token}={project}" for project, token in TOKENS.items())
        yield stack.enter_context(http_server(data_dir, ACONTEXT_MCP_TOKENS=pairs, **env_for(database_url))), demo


@asynccontextmanager
async def connect(server: HttpServer, project: str, sse: bool = False) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {TOKENS[project]}"}
    transport = (sse_client(server.sse_url, headers=headers) if sse
                 else streamable_http_client(server.mcp_url,  # a loaded machine answers slowly: 60 s, not 5
                                             http_client=httpx2.AsyncClient(headers=headers, timeout=60)))
    async with Client(transport) as client:
        yield client


def ids_of(demo: Demo) -> list[str]:
    return [demo.space_id, demo.session_id, demo.history_session_id, demo.disk_id, demo.sop_block_id]


def strangers(demo: Demo) -> Demo:
    """The same shape of ids, naming nothing anywhere."""
    return Demo(*(str(uuid4()) for _ in ids_of(demo)))


def masked(text: str, demo: Demo) -> str:
    for index, record_id in enumerate(ids_of(demo)):
        text = text.replace(record_id, f"<id {index}>")
    return text


def leaked(value: Any, demo: Demo) -> list[str]:
    dumped = json.dumps(value, default=str)
    return [record_id for record_id in ids_of(demo) if record_id in dumped]


async def test_every_tool_prompt_and_template_has_an_isolation_check(alpha: tuple[HttpServer, Demo]) -> None:
    server, _ = alpha
    async with connect(server, "beta") as beta:
        tools = {tool.name for tool in (await beta.list_tools()).tools}
        prompts = {prompt.name for prompt in (await beta.list_prompts()).prompts}
        templates = {t.uri_template for t in (await beta.list_resource_templates()).resource_templates}
    checked = {*BY_ID, *AS_IF_EMPTY, *CREATING}
    assert tools - checked == set(), "add each new tool to a table in this file, with the check that fits it"
    assert checked - tools == set()
    assert prompts == set(PROMPTS) and templates == set(TEMPLATES)


async def test_another_projects_ids_answer_exactly_as_unknown_ids(alpha: tuple[HttpServer, Demo]) -> None:
    server, theirs = alpha
    nobody = strangers(theirs)
    async with connect(server, "beta") as beta:
        for tool, args in [*BY_ID.items(), *ALSO_BY_ID]:
            error = await call_error(beta, tool, **args(theirs))
            assert "not found" in error, (tool, error)
            assert masked(error, theirs) == masked(await call_error(beta, tool, **args(nobody)), nobody), tool
        for name, args in PROMPTS.items():
            with pytest.raises(MCPError) as got:
                await beta.get_prompt(name, args(theirs))
            with pytest.raises(MCPError) as unknown:
                await beta.get_prompt(name, args(nobody))
            assert "not found" in str(got.value)
            assert masked(str(got.value), theirs) == masked(str(unknown.value), nobody), name
        for template, uri in TEMPLATES.items():
            with pytest.raises(MCPError) as got:
                await beta.read_resource(uri(theirs))
            with pytest.raises(MCPError) as unknown:
                await beta.read_resource(uri(nobody))
            assert "not found" in str(got.value)
            assert masked(str(got.value), theirs) == masked(str(unknown.value), nobody), template

    async with connect(server, "alpha") as owner:  # nothing beta tried changed alpha's records
        session = await call(owner, "get_session", session_id=theirs.session_id)
        assert session["message_count"] == 8 and session["space_id"] == theirs.space_id
        await call(owner, "get_session", session_id=theirs.history_session_id)
        assert (await call(owner, "get_user_resources", identifier=USER))["sessions_count"] == 1
        assert [t["status"] for t in (await call(owner, "get_tasks", session_id=theirs.session_id))["items"]] == [
            "success", "pending", "pending"]
        block = await call(owner, "get_block", space_id=theirs.space_id, block_id=theirs.sop_block_id)
        assert block["title"] == "Build a product landing page" and block["path"].startswith("/web/landing_pages")
        assert "iPhone" in (await call(owner, "get_artifact", disk_id=theirs.disk_id, **FILE))["content"]
        assert [f["filename"] for f in (await call(owner, "list_artifacts", disk_id=theirs.disk_id,
                                                   path="/site/"))["files"]] == ["index.html"]
        found = await call(owner, "experience_search", space_id=theirs.space_id, query="landing page")
        assert theirs.sop_block_id in [b["block_id"] for b in found["cited_blocks"]]


async def test_listings_and_statuses_show_nothing_of_another_project(alpha: tuple[HttpServer, Demo]) -> None:
    server, theirs = alpha
    async with connect(server, "beta") as beta, connect(server, "gamma") as empty, connect(server, "alpha") as owner:
        for tool, args in AS_IF_EMPTY.items():
            seen = await call(beta, tool, **args)
            assert seen == await call(empty, tool, **args), tool
            assert leaked(seen, theirs) == [], tool
        assert (await call(owner, "get_learner_status"))["learned"] == 1  # what beta's status must not count
        assert (await call(owner, "rebuild_search_index"))["indexed_blocks"] > 0
        assert (await call(beta, "rebuild_search_index"))["indexed_blocks"] == 0

        stored = (await beta.list_resources()).resources
        assert stored == (await empty.list_resources()).resources
        assert leaked([str(r.uri) for r in stored], theirs) == []
        owned = [str(r.uri) for r in (await owner.list_resources()).resources]
        assert any(theirs.space_id in uri for uri in owned) and any(theirs.disk_id in uri for uri in owned)

        for tool, args in CREATING.items():
            made = await call(beta, tool, **args)
            assert leaked(made, theirs) == [], tool
        mine = await call(beta, "create_session")
        assert [s["id"] for s in (await call(beta, "list_sessions"))["items"]] == [mine["id"]]
        assert mine["id"] not in json.dumps(await call(owner, "list_sessions"))
        assert (await call(empty, "list_spaces"))["items"] == []


async def test_sse_clients_are_scoped_by_their_token_too(alpha: tuple[HttpServer, Demo]) -> None:
    server, theirs = alpha
    async with connect(server, "beta", sse=True) as beta:
        assert "not found" in await call_error(beta, "get_session", session_id=theirs.session_id)
        assert leaked(await call(beta, "list_disks"), theirs) == []
    async with connect(server, "alpha", sse=True) as owner:
        assert (await call(owner, "get_session", session_id=theirs.session_id))["id"] == theirs.session_id


def test_unknown_tokens_are_refused(alpha: tuple[HttpServer, Demo]) -> None:
    server, _ = alpha
    for token in ("token-of-nobody", TOKENS["alpha"] + "x", TOKENS["alpha"][:-1], f"{TOKENS['alpha']}=alpha"):
        response = httpx.post(server.mcp_url, json={}, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


def test_the_dashboard_shows_the_project_of_its_token(alpha: tuple[HttpServer, Demo]) -> None:
    server, theirs = alpha
    base = f"{server.base_url}/dashboard"
    lists = ["/sessions", "/spaces", "/disks", "/experiences", "/metrics"]
    details = [f"/sessions/{theirs.session_id}", f"/sessions/{theirs.session_id}/tasks",
               f"/sessions/{theirs.session_id}/messages", f"/spaces/{theirs.space_id}", f"/disks/{theirs.disk_id}",
               f"/disks/{theirs.disk_id}/files/site/index.html", f"/disks/{theirs.disk_id}/raw/site/index.html"]
    with httpx.Client(base_url=base) as browser:
        signed = browser.post("/login", data={"token": TOKENS["beta"], "next": "/sessions"})
        assert signed.status_code == 303
        for path in lists:
            page = browser.get(path)
            assert page.status_code == 200, path
            assert leaked(page.text, theirs) == [], path
        for path in details:
            assert browser.get(path).status_code == 404, path
    owner = {"Authorization": f"Bearer {TOKENS['alpha']}"}
    assert theirs.session_id in httpx.get(f"{base}/sessions", headers=owner).text
    for path in details:
        assert httpx.get(f"{base}{path}", headers=owner).status_code == 200, path
    assert httpx.post(f"{base}/login", data={"token": "token-of-nobody"}).status_code == 401


def test_metrics_count_only_the_projects_own_records(alpha: tuple[HttpServer, Demo]) -> None:
    server, _ = alpha

    def totals(project: str) -> dict[str, str]:
        page = httpx.get(f"{server.base_url}/dashboard/metrics", headers={"Authorization": f"Bearer {TOKENS[project]}"})
        assert page.status_code == 200
        finished = re.search(r"(\d+) of (\d+) finished tasks", page.text)
        sessions, messages = re.findall(r'<p class="total">(\d+) in the last \d+ days \(UTC\)</p>', page.text)
        learned = re.search(r'class="learned">(\d+)<', page.text)
        assert finished and learned
        return {"finished": finished.group(0), "messages": messages, "learned": learned.group(1)}

    assert totals("alpha") == {"finished": "13 of 19 finished tasks", "messages": "8", "learned": "1"}
    assert totals("beta") == totals("gamma") == {"finished": "0 of 0 finished tasks", "messages": "0", "learned": "0"}


def test_project_tokens_allow_a_public_bind(tmp_path_factory: pytest.TempPathFactory) -> None:
    data_dir = tmp_path_factory.mktemp("public") / "data"
    with http_server(data_dir, "--host", "0.0.0.0", ACONTEXT_MCP_TOKENS="a-token-long-enough-0123=acme") as server:
        assert httpx.get(f"{server.base_url}/health").status_code == 200
        assert httpx.post(server.mcp_url, json={}).status_code == 401


def test_an_mcp_session_opened_by_one_project_refuses_another_projects_token(alpha: tuple[HttpServer, Demo]) -> None:
    server, _ = alpha
    owner = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {TOKENS['alpha']}"}
    opened = httpx.post(server.mcp_url, headers=owner, json={
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}})
    assert opened.status_code == 200
    hijack = {**owner, "Authorization": f"Bearer {TOKENS['beta']}", "Mcp-Session-Id": opened.headers["mcp-session-id"],
              "Mcp-Protocol-Version": "2025-06-18"}
    answer = httpx.post(server.mcp_url, headers=hijack, json={
        "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "list_sessions", "arguments": {}}})
    assert answer.status_code == 404
