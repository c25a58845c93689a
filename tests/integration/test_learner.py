"""The skill learner end to end: a task succeeds in a space's session, the learner extracts an SOP with the
real `openai` client against a scripted server, places (or merges) it in the space, and search finds it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client

from acontext_mcp import Settings
from acontext_mcp.server import build_server
from tests.fakes import seed
from tests.fakes.openai_server import ScriptedOpenAI
from tests.integration.test_observer import llm_settings
from tests.integration.test_space_tools import STAR
from tests.support.llm import Router, agent_of, fake, router  # noqa: F401 (fixtures)
from tests.support.mcp import call, call_error, eventually

pytestmark = pytest.mark.anyio

LANDING_SOP = {
    "use_when": "Build a product landing page with Tailwind CSS in a single index.html",
    "preferences": "Plain black hero background, no gradient",
    "tool_sops": [
        {"tool_name": "write_file", "action": "write index.html with the Tailwind CDN script and the hero section"},
        {"tool_name": "open_browser", "action": "open file:///.../index.html and check the rendered sections"},
    ],
}


@pytest.fixture
async def learning(settings: Settings, fake: ScriptedOpenAI) -> AsyncIterator[Client]:
    settings = llm_settings(settings, fake.base_url, learner_retry_base_s=0.01, learner_max_attempts=2)
    async with Client(build_server(settings)) as connected:
        yield connected


async def space_session(client: Client, **settings: Any) -> tuple[str, str]:
    space_id = (await call(client, "create_space", name="agent", settings=settings or None))["id"]
    session_id = (await call(client, "create_session", space_id=space_id))["id"]
    return space_id, session_id


async def succeed(client: Client, router: Router, session_id: str, description: str) -> None:
    """One message, the observer records it as a task, and the task is marked success by update_task_status."""
    await call(client, "send_message", session_id=session_id, message={"role": "user", "content": description})
    router.calls("observer", [("insert_task", {"after_task_order": 0, "task_description": description})],
                 match=description)
    await call(client, "flush", session_id=session_id)
    await call(client, "update_task_status", session_id=session_id, task_order=1, status="success")


async def call_tools(client: Client, session_id: str, *calls: tuple[str, str]) -> None:
    """The agent's tool calls in the session, each `(tool name, its result)`, one assistant message and its result
    apiece (call ids c1, c2, ... are per session)."""
    for n, (name, result) in enumerate(calls, 1):
        await call(client, "send_message", session_id=session_id, message={
            "role": "assistant", "content": None,
            "tool_calls": [{"id": f"c{n}", "type": "function", "function": {"name": name, "arguments": "{}"}}]})
        await call(client, "send_message", session_id=session_id,
                   message={"role": "tool", "tool_call_id": f"c{n}", "content": result})


def sops(tree: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in tree["entries"] if e["type"] == "sop"]


async def test_seed_task_becomes_an_sop_that_search_and_use_skills_find(
    learning: Client, router: Router, fake: ScriptedOpenAI
) -> None:
    space_id, session_id = await space_session(learning)
    ids = [(await call(learning, "send_message", session_id=session_id, message=m))["id"] for m in seed.MESSAGES]
    router.calls("observer", *seed.script(ids))
    router.calls("extract", [("submit_sop", LANDING_SOP)])
    router.calls("place",
                 [("list_space", {"path": "/"})],
                 [("create_folder", {"parent_path": "/", "title": "web"}),
                  ("create_page", {"parent_path": "/web", "title": "landing_pages"})],
                 [("place_sop", {"page_path": "/web/landing_pages"})])

    tasks = await call(learning, "flush", session_id=session_id)  # the observer marks task 1 success
    assert tasks["items"][0]["status"] == "success"
    learned = await call(learning, "flush_learning", space_id=space_id)

    [item] = learned["items"]
    assert (item["status"], item["task_id"], item["task_description"]) == ("learned", tasks["items"][0]["id"],
                                                                         seed.TASKS[0])
    block = await call(learning, "get_block", space_id=space_id, block_id=item["block_id"])
    assert (block["type"], block["path"], block["data"]) == ("sop", "/web/landing_pages", LANDING_SOP)
    tree = await call(learning, "list_space", space_id=space_id)
    assert [(e["type"], e["path"]) for e in tree["entries"]] == [
        ("folder", "/web"), ("page", "/web/landing_pages"), ("sop", "/web/landing_pages"),
        ("fact", "/web/landing_pages")]  # the task's user preference

    extract = next(r for r in fake.requests if agent_of(r) == "extract")
    prompt = extract["messages"][1]["content"]
    assert seed.TASKS[0] in prompt and seed.PREFERENCE in prompt and all(p in prompt for p in seed.PROGRESSES)
    assert all(f"[{i}]" in prompt for i in ids[:7]) and f"[{ids[7]}]" not in prompt  # its linked messages only
    placing = [r for r in fake.requests if agent_of(r) == "place"]
    assert placing[1]["messages"][-1]["content"].startswith("ok: (empty")  # list_space answered from the tree
    assert "ok: planned page /web/landing_pages" in json.dumps(placing[2]["messages"])

    found = await call(learning, "experience_search", space_id=space_id,
                       query="make a Tailwind landing page for a new phone")
    assert found["cited_blocks"][0]["block_id"] == item["block_id"]
    prompt = await learning.get_prompt("use_skills", {"space_id": space_id, "task": "a tailwind landing page"})
    text = prompt.messages[0].content.text  # type: ignore[union-attr]
    assert LANDING_SOP["use_when"] in text and "`write_file`" in text and "/web/landing_pages" in text

    status = await call(learning, "get_learner_status")
    assert (status["enabled"], status["queue_depth"], status["learned"], status["skipped"]) == (True, 0, 1, 0)
    assert status["tokens"]["calls"] == 4 and status["tokens"]["prompt_tokens"] > 0  # extract + 3 placing turns


async def test_a_trivial_task_is_skipped_and_spaceless_sessions_are_not_learned(
    learning: Client, router: Router, fake: ScriptedOpenAI
) -> None:
    space_id, session_id = await space_session(learning)
    router.calls("extract",
                 [("submit_sop", {"use_when": "greet the user politely", "tool_sops": []}), ("write_poem", {})],
                 [("skip", {"reason": "just a greeting, nothing reusable"})])
    await succeed(learning, router, session_id, "Say hello to the user")

    [item] = (await call(learning, "flush_learning", session_id=session_id))["items"]
    assert (item["status"], item["skip_reason"], item["block_id"]) == (
        "skipped", "just a greeting, nothing reusable", None)
    assert (await call(learning, "list_space", space_id=space_id))["entries"] == []
    assert (await call(learning, "get_learner_status"))["skipped"] == 1
    second = [r for r in fake.requests if agent_of(r) == "extract"][1]
    assert [m["content"] for m in second["messages"] if m["role"] == "tool"] == [
        "error: submit_sop: tool_sops is empty: list the tool steps, or call skip if no tool did the work",
        "error: unknown tool 'write_poem'; use one of submit_sop, skip",
    ]

    loose = (await call(learning, "create_session"))["id"]
    await succeed(learning, router, loose, "Star the acontext repo")
    assert (await call(learning, "flush_learning", session_id=loose))["items"] == []


async def test_near_duplicates_merge_instead_of_adding_twins(
    learning: Client, router: Router, fake: ScriptedOpenAI
) -> None:
    space_id, session_id = await space_session(learning)
    await call(learning, "create_block", space_id=space_id, parent_path="/", type="folder", title="web")
    await call(learning, "create_block", space_id=space_id, parent_path="/web", type="page", title="landing_pages")
    existing = await call(learning, "create_block", space_id=space_id, parent_path="/web/landing_pages", type="sop",
                          title="landing pages", data=LANDING_SOP)
    # Same tool steps, similar use_when: merged without asking the model where to put it.
    twin = {**LANDING_SOP, "use_when": "Build a landing page with Tailwind CSS for a product",
            "preferences": "Use a dark theme"}
    router.calls("extract", [("submit_sop", twin)], match="Build the tablet landing page")
    await succeed(learning, router, session_id, "Build the tablet landing page")
    [first] = (await call(learning, "flush_learning", session_id=session_id))["items"]
    assert first["block_id"] == existing["id"]
    assert not [r for r in fake.requests if agent_of(r) == "place"]

    # Other tools: the model is shown the similar SOP and chooses to merge into it.
    deploy = {"use_when": "Publish a landing page", "preferences": "",
              "tool_sops": [{"tool_name": "write_file", "action": "write index.html"},
                            {"tool_name": "deploy_site", "action": "deploy the folder to the CDN"}]}
    other = (await call(learning, "create_session", space_id=space_id))["id"]
    router.calls("extract", [("submit_sop", deploy)], match="Publish the landing page")
    router.calls("place", [("merge_into", {"block_id": existing["id"]})])
    await succeed(learning, router, other, "Publish the landing page")
    [second] = (await call(learning, "flush_learning", session_id=other))["items"]
    assert second["block_id"] == existing["id"]
    place_prompt = next(r for r in fake.requests if agent_of(r) == "place")["messages"][1]["content"]
    assert f"[{existing['id']}]" in place_prompt

    tree = await call(learning, "list_space", space_id=space_id)
    assert [e["id"] for e in sops(tree)] == [existing["id"]]
    merged = (await call(learning, "get_block", space_id=space_id, block_id=existing["id"]))["data"]
    assert merged["use_when"] == LANDING_SOP["use_when"]
    assert merged["preferences"] == "Plain black hero background, no gradient; Use a dark theme"
    assert [s["tool_name"] for s in merged["tool_sops"]] == ["write_file", "open_browser", "deploy_site"]


async def test_confirm_before_learning_holds_sops_until_accepted(learning: Client, router: Router) -> None:
    space_id, session_id = await space_session(learning, confirm_before_learning=True)
    other = (await call(learning, "create_session", space_id=space_id))["id"]
    router.calls("extract", [("submit_sop", STAR)], match="Star")
    router.calls("extract", [("submit_sop", LANDING_SOP)], match="landing")
    router.calls("place", [("create_folder", {"parent_path": "/", "title": "github"}),
                           ("create_page", {"parent_path": "/github", "title": "basic_ops"}),
                           ("place_sop", {"page_path": "/github/basic_ops"})], match="to star")
    router.calls("place", [("create_page", {"parent_path": "/", "title": "web"}),
                           ("place_sop", {"page_path": "/web"})], match="landing")
    await succeed(learning, router, session_id, "Star the acontext repo")
    await succeed(learning, router, other, "Build the landing page")
    await call(learning, "flush_learning", space_id=space_id)

    pending = (await call(learning, "list_pending_experiences", space_id=space_id))["items"]
    assert [(p["sop"], p["page_path"], p["status"]) for p in pending] == [
        (STAR, "/github/basic_ops", "pending"), (LANDING_SOP, "/web", "pending")]
    assert (await call(learning, "list_space", space_id=space_id))["entries"] == []
    assert (await call(learning, "get_learner_status"))["pending_experiences"] == 2
    star, landing = pending

    accepted = await call(learning, "confirm_experience", space_id=space_id, experience_id=star["id"], accept=True)
    rejected = await call(learning, "confirm_experience", space_id=space_id, experience_id=landing["id"],
                          accept=False)

    assert (accepted["status"], rejected["status"], rejected["block_id"]) == ("accepted", "rejected", None)
    tree = await call(learning, "list_space", space_id=space_id)
    assert [(e["type"], e["path"]) for e in tree["entries"]] == [
        ("folder", "/github"), ("page", "/github/basic_ops"), ("sop", "/github/basic_ops")]
    assert sops(tree)[0]["id"] == accepted["block_id"]
    assert (await call(learning, "list_pending_experiences", space_id=space_id))["items"] == []

    # Bad input: clear errors, nothing written.
    assert "already accepted" in await call_error(learning, "confirm_experience", space_id=space_id,
                                                  experience_id=star["id"], accept=True)
    assert "already rejected" in await call_error(learning, "confirm_experience", space_id=space_id,
                                                  experience_id=landing["id"], accept=True)
    assert "experience 'nope' not found" in await call_error(learning, "confirm_experience", space_id=space_id,
                                                             experience_id="nope", accept=True)
    elsewhere = (await call(learning, "create_space"))["id"]
    assert "not found" in await call_error(learning, "confirm_experience", space_id=elsewhere,
                                           experience_id=star["id"], accept=False)
    assert "space 'nope' not found" in await call_error(learning, "list_pending_experiences", space_id="nope")
    assert await call(learning, "list_space", space_id=space_id) == tree


async def test_junk_is_retried_then_fails_visibly_while_other_work_flows(
    learning: Client, router: Router, fake: ScriptedOpenAI
) -> None:
    space_id, session_id = await space_session(learning)
    other = (await call(learning, "create_session", space_id=space_id))["id"]
    junk = ({"raw": "not json {"}, {"status": 500, "body": {"error": {"message": "down"}}})
    router.when("extract", *junk, *junk, match="Broken task")
    router.calls("extract", [("submit_sop", STAR)], match="Star")
    router.calls("place", [("create_page", {"parent_path": "/", "title": "github"}),
                           ("place_sop", {"page_path": "/github"})])
    await succeed(learning, router, session_id, "Broken task")
    await succeed(learning, router, other, "Star the acontext repo")

    async def gave_up() -> bool:
        return bool((await call(learning, "get_learner_status"))["failed"])

    await eventually(gave_up, 10, "the learner to give up on the broken task")
    [ok] = (await call(learning, "flush_learning", session_id=other))["items"]
    assert ok["status"] == "learned"
    status = await call(learning, "get_learner_status")
    [failed] = status["failed"]
    assert (failed["session_id"], failed["attempts"], failed["status"]) == (session_id, 2, "failed")
    assert "HTTP 500" in failed["last_error"]
    assert status["tokens"]["failed_calls"] == 2
    assert [e["path"] for e in (await call(learning, "list_space", space_id=space_id))["entries"]] == [
        "/github", "/github"]

    # flush_learning retries it from its first attempt, and says why when it fails again.
    error = await call_error(learning, "flush_learning", session_id=session_id)
    assert "gave up" in error and "after 2 attempts" in error and "HTTP 500" in error

    # Fixed: flush_learning retries the failed item from its first attempt.
    router.calls("extract", [("skip", {"reason": "nothing to learn"})], match="Broken task")
    [retried] = (await call(learning, "flush_learning", session_id=session_id))["items"]
    assert (retried["status"], retried["skip_reason"]) == ("skipped", "nothing to learn")
    assert retried["last_error"] is None  # the earlier attempts' error is not the skipped item's
    assert (await call(learning, "get_learner_status"))["failed"] == []


async def test_learning_bad_input(learning: Client, client: Client) -> None:
    space_id, session_id = await space_session(learning)
    assert "exactly one of space_id or session_id" in await call_error(learning, "flush_learning")
    assert "exactly one" in await call_error(learning, "flush_learning", space_id=space_id, session_id=session_id)
    assert "session 'nope' not found" in await call_error(learning, "flush_learning", session_id="nope")
    assert "space 'nope' not found" in await call_error(learning, "flush_learning", space_id="nope")
    # Without an LLM the learner waits and says so.
    status = await call(client, "get_learner_status")
    assert (status["enabled"], status["note"]) == (False, status["note"]) and "no LLM" in status["note"]
    offline_space = (await call(client, "create_space"))["id"]
    assert "no LLM is configured" in await call_error(client, "flush_learning", space_id=offline_space)


async def test_steps_must_name_the_sessions_tools_and_a_retry_only_places(
    learning: Client, router: Router, fake: ScriptedOpenAI
) -> None:
    """No message linked: the learner reads the session's messages; steps naming a tool the session never called
    (or one of the learner's own tools, or with no action in words) are refused; the SOP is extracted once, and a
    placement that fails is retried without extracting again. The plan's title and the placed path may differ in
    case and spelling ("/Landing Pages" placed as "/landing-pages")."""
    space_id, session_id = await space_session(learning)
    await call_tools(learning, session_id, ("write_file", "wrote index.html"))
    step = {"tool_name": "write_file", "action": "write index.html with the hero"}
    router.calls("extract",
                 [("submit_sop", {"use_when": "Build a landing page", "tool_sops": [
                     step, {"tool_name": "deploy_site", "action": "deploy it"}]})],
                 [("submit_sop", {"use_when": "Build a landing page", "tool_sops": [
                     {"tool_name": "submit_sop", "action": "submit the procedure"}]})],
                 [("submit_sop", {"use_when": "Build a landing page", "tool_sops": [{**step, "action": "{"}]})],
                 [("submit_sop", {"use_when": "Build a landing page", "tool_sops": [step]})])
    router.when("place", {"status": 500, "body": {"error": {"message": "down"}}})
    router.calls("place", [("create_page", {"parent_path": "/", "title": "Landing Pages"})],
                 [("place_sop", {"page_path": "/landing-pages"})])
    await succeed(learning, router, session_id, "Build the landing page")

    [item] = (await call(learning, "flush_learning", session_id=session_id))["items"]
    assert (item["status"], item["attempts"], item["last_error"]) == ("learned", 1, None)
    block = await call(learning, "get_block", space_id=space_id, block_id=item["block_id"])
    assert (block["path"], block["data"]["tool_sops"]) == ("/Landing Pages", [step])
    extracts = [r for r in fake.requests if agent_of(r) == "extract"]
    assert len(extracts) == 4  # once, with the three refusals: the retry after the failed placement only placed
    assert "Tools the agent called: write_file" in extracts[0]["messages"][1]["content"]  # the session's, unlinked
    assert "tool result [c1]: wrote index.html" in extracts[0]["messages"][1]["content"]
    assert [m["content"] for m in extracts[-1]["messages"] if m["role"] == "tool"] == [
        "error: submit_sop: tool_sops[2].tool_name 'deploy_site' was not called in the messages; use one the agent "
        "called: write_file",
        "error: submit_sop: tool_sops[1].tool_name 'submit_sop' was not called in the messages; use one the agent "
        "called: write_file",
        "error: submit_sop: tool_sops[1].action must say what to do with the tool, in words",
    ]


async def test_an_sop_the_model_never_places_is_filed_on_a_page_named_after_it(
    learning: Client, router: Router, fake: ScriptedOpenAI
) -> None:
    """A model that only wanders the tree (here: list_space for all its steps) does not lose the SOP, nor
    make the learner retry: it goes on a new page named after its use_when, which is also the skill's
    description; one that planned a page but never placed goes on that page."""
    space_id, session_id = await space_session(learning)
    router.calls("extract", [("submit_sop", LANDING_SOP)])
    router.calls("place", *[[("list_space", {"path": "/"})]] * 8)
    await succeed(learning, router, session_id, "Build the landing page")
    [item] = (await call(learning, "flush_learning", session_id=session_id))["items"]
    assert (item["status"], item["attempts"]) == ("learned", 0)  # no failed attempt, no retry
    block = await call(learning, "get_block", space_id=space_id, block_id=item["block_id"])
    assert block["path"] == "/Build a product landing page with"
    [skill] = (await call(learning, "list_skills", space_id=space_id))["items"]
    assert (skill["name"], skill["description"]) == ("build-a-product-landing-page-with", LANDING_SOP["use_when"])

    other = (await call(learning, "create_session", space_id=space_id))["id"]
    router.calls("extract", [("submit_sop", {**LANDING_SOP, "use_when": "Deploy a static site to the CDN",
                                             "tool_sops": LANDING_SOP["tool_sops"][:1]})])
    router.calls("place", [("create_folder", {"parent_path": "/", "title": "web"}),
                           ("create_page", {"parent_path": "/web", "title": "deploys", "description": "Ship it"})],
                 *[[("list_space", {"path": "/web"})]] * 7)
    await succeed(learning, router, other, "Deploy the site")
    [item] = (await call(learning, "flush_learning", session_id=other))["items"]
    block = await call(learning, "get_block", space_id=space_id, block_id=item["block_id"])
    assert (item["status"], block["path"]) == ("learned", "/web/deploys")


async def test_a_skip_of_a_task_done_in_several_tool_calls_is_checked_once(
    learning: Client, router: Router, fake: ScriptedOpenAI
) -> None:
    space_id, session_id = await space_session(learning)
    await call_tools(learning, session_id, ("write_file", "done"), ("open_browser", "done"))
    router.calls("extract", [("skip", {"reason": "The task is already complete"})], [("submit_sop", LANDING_SOP)])
    router.calls("place", [("create_page", {"parent_path": "/", "title": "landing"})],
                 [("place_sop", {"page_path": "/landing"})])
    await succeed(learning, router, session_id, "Build the landing page")
    [item] = (await call(learning, "flush_learning", session_id=session_id))["items"]
    assert item["status"] == "learned"
    [check] = [m["content"] for r in fake.requests if agent_of(r) == "extract" for m in r["messages"]
               if m["role"] == "tool"]
    assert check.startswith("check before skipping: the agent made 2 tool calls (open_browser, write_file)")

    # Asked once: a second skip stands.
    other = (await call(learning, "create_session", space_id=space_id))["id"]
    await call_tools(learning, other, ("run_shell", "ok"), ("run_shell", "ok"))
    router.calls("extract", [("skip", {"reason": "nothing reusable"})], [("skip", {"reason": "nothing reusable"})])
    await succeed(learning, router, other, "Check the disk space")
    [item] = (await call(learning, "flush_learning", session_id=other))["items"]
    assert (item["status"], item["skip_reason"]) == ("skipped", "nothing reusable")
