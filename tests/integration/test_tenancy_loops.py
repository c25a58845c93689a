"""The background loops serve every project, each item inside its own: the observer and the learner of a
session in project "alpha" write only there, and count their model calls there."""

from __future__ import annotations

import pytest
from mcp import Client

from acontext_mcp import Settings
from acontext_mcp.server import build_server
from tests.fakes.openai_server import ScriptedOpenAI
from tests.integration.test_learner import LANDING_SOP, space_session, succeed
from tests.integration.test_observer import llm_settings
from tests.support.llm import Router, fake, router  # noqa: F401 (fixtures)
from tests.support.mcp import call

pytestmark = pytest.mark.anyio


async def test_observer_and_learner_work_in_the_project_of_their_session(
    settings: Settings, fake: ScriptedOpenAI, router: Router
) -> None:
    settings = llm_settings(settings, fake.base_url, learner_retry_base_s=0.01, learner_max_attempts=2,
                            project="alpha")
    async with Client(build_server(settings)) as alpha:
        space_id, session_id = await space_session(alpha)
        await succeed(alpha, router, session_id, "Build the landing page")
        router.calls("extract", [("submit_sop", LANDING_SOP)])
        router.calls("place",
                     [("create_folder", {"parent_path": "/", "title": "web"}),
                      ("create_page", {"parent_path": "/web", "title": "landing_pages"})],
                     [("place_sop", {"page_path": "/web/landing_pages"})])
        [item] = (await call(alpha, "flush_learning", space_id=space_id))["items"]
        assert item["status"] == "learned", item
        block = await call(alpha, "get_block", space_id=space_id, block_id=item["block_id"])
        assert (block["type"], block["path"]) == ("sop", "/web/landing_pages")
        learner, observer = await call(alpha, "get_learner_status"), await call(alpha, "get_observer_status")
        assert learner["learned"] == 1 and learner["tokens"]["calls"] >= 2
        assert observer["tokens"]["calls"] >= 1

    async with Client(build_server(settings.model_copy(update={"project": "default"}))) as other:
        assert (await call(other, "list_spaces"))["items"] == []
        assert (await call(other, "list_sessions"))["items"] == []
        learner, observer = await call(other, "get_learner_status"), await call(other, "get_observer_status")
        assert (learner["learned"], learner["tokens"]["calls"], observer["tokens"]["calls"]) == (0, 0, 0)
