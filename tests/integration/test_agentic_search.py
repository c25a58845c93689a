"""experience_search(mode="agentic"): a scripted model explores the seed's /github tree with tools and answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from mcp import Client

from acontext_mcp import Settings
from acontext_mcp.server import build_server
from tests.fakes.openai_server import ScriptedOpenAI
from tests.integration.test_observer import llm_settings
from tests.integration.test_space_tools import STAR, seed_tree
from tests.support.llm import Router, fake, router  # noqa: F401 (fixtures)
from tests.support.mcp import call

pytestmark = pytest.mark.anyio

QUERY = "give the acontext project a star on GitHub"


@pytest.fixture
async def searching(settings: Settings, fake: ScriptedOpenAI) -> AsyncIterator[Client]:  # noqa: F811
    async with Client(build_server(llm_settings(settings, fake.base_url, agentic_search_max_steps=4))) as connected:
        yield connected


def tool_answers(request: dict[str, object]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]  # type: ignore[index,union-attr]


@pytest.mark.slow  # seconds (2-7 s here): a LanceDB index over the corpus, then a multi-step agent run
async def test_the_model_explores_and_answers_with_cited_blocks(
    searching: Client, router: Router, fake: ScriptedOpenAI  # noqa: F811
) -> None:
    ids = await seed_tree(searching)
    router.calls("search",
                 [("search", {"query": "star repository"}), ("list_space", {"path": "/github"})],
                 [("read_page", {"path": "/github/GTM"}), ("read_page", {"path": "/nowhere"}),
                  ("answer", {"block_ids": ["made-up"], "final_answer": "x"})],
                 [("answer", {"block_ids": [ids["Star a repo"], ids["Why"]],
                              "final_answer": "Search the repo with github_search_repos, then github_star_repo."})])

    found = await call(searching, "experience_search", space_id=ids["space"], query=QUERY, mode="agentic")

    assert [(b["block_id"], b["path"]) for b in found["cited_blocks"]] == [
        (ids["Star a repo"], "/github/GTM"), (ids["Why"], "/github/GTM")]
    star, why = found["cited_blocks"]
    assert star["data"] == STAR and star["score"] > why["score"]
    assert found["final_answer"].startswith("Search the repo") and found["note"] is None
    assert len(fake.requests) == 3
    first = fake.requests[0]
    assert QUERY in first["messages"][1]["content"]
    assert {t["function"]["name"] for t in first["tools"]} == {"list_space", "read_page", "search", "answer"}
    searched, listed = tool_answers(fake.requests[1])
    assert f"[{ids['Star a repo']}]" in searched and "page [" in listed and "(/github/basic_ops)" in listed
    page, missing, bad_answer = tool_answers(fake.requests[2])[2:]
    assert "**Use when:** the user asks to star" in page and f"[{ids['Star a repo']}]" in page
    assert missing.startswith("error: read_page: path '/nowhere' not found")
    assert "unknown block ids ['made-up']" in bad_answer
    usage = await call(searching, "get_learner_status")
    assert usage["tokens"]["calls"] == 3


async def test_out_of_steps_or_a_failing_llm_falls_back_to_fast_with_a_note(
    searching: Client, router: Router, fake: ScriptedOpenAI  # noqa: F811
) -> None:
    ids = await seed_tree(searching)
    fast = await call(searching, "experience_search", space_id=ids["space"], query=QUERY)
    router.calls("search", *[[("list_space", {"path": "/"})]] * 4)

    wandered = await call(searching, "experience_search", space_id=ids["space"], query=QUERY, mode="agentic")

    assert wandered["cited_blocks"] == fast["cited_blocks"] and wandered["final_answer"] is None
    assert wandered["note"] == "agentic search fell back to fast search: the model did not answer within 4 steps"
    assert len(fake.requests) == 4

    router.when("search", {"raw": "junk"})
    broken = await call(searching, "experience_search", space_id=ids["space"], query=QUERY, mode="agentic")
    assert broken["cited_blocks"] == fast["cited_blocks"]
    assert broken["note"].startswith("agentic search fell back to fast search: the LLM failed (")
    assert "not JSON" in broken["note"]
