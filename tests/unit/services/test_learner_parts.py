"""Pure parts of the learner: merging twin SOPs, telling twins apart, planning a place, and the queue's schedule."""

from __future__ import annotations

import pytest

from acontext_mcp.errors import InvalidArgument, NotFound
from acontext_mcp.queue.work import RetryPolicy, split_due
from acontext_mcp.services.skill_agent import (
    CreateFolder,
    CreatePage,
    ListSpace,
    MergeInto,
    PlaceSop,
    _is_twin,
    _TreePlan,
)
from acontext_mcp.services.spaces.service import merge_sops, sop_title


def sop(use_when: str, *tools: str, preferences: str = "") -> dict:
    return {"use_when": use_when, "preferences": preferences,
            "tool_sops": [{"tool_name": t, "action": f"use {t}"} for t in tools]}


@pytest.mark.parametrize(("existing", "new", "expected_tools", "expected_preferences"), [
    (sop("a", "x", "y", preferences="dark"), sop("b", "x", "z", preferences="short"), ["x", "y", "z"], "dark; short"),
    (sop("a", "x", preferences="Dark theme, no gradient"), sop("b", "x", preferences="dark theme"), ["x"],
     "Dark theme, no gradient"),
    (sop("a", "x"), sop("b", "x", preferences="fast"), ["x"], "fast"),
])
def test_merge_unites_steps_and_preferences(existing: dict, new: dict, expected_tools: list[str],
                                            expected_preferences: str) -> None:
    merged = merge_sops(existing, new)
    assert merged["use_when"] == "a"
    assert [s["tool_name"] for s in merged["tool_sops"]] == expected_tools
    assert merged["preferences"] == expected_preferences


@pytest.mark.parametrize(("existing", "new", "twin"), [
    (sop("Build a landing page with Tailwind", "write", "open"), sop("Build a Tailwind landing page", "write", "open"),
     True),
    (sop("Build a landing page with Tailwind", "write", "open"), sop("Build a landing page with Tailwind", "write"),
     False),
    (sop("Build a landing page with Tailwind", "write"), sop("Star a GitHub repository", "write"), False),
])
def test_twins_share_tool_steps_and_most_words(existing: dict, new: dict, twin: bool) -> None:
    assert _is_twin(existing, new) is twin


def test_sop_titles_are_cut_use_when() -> None:
    assert sop_title(sop("  Star   a repo ")) == "Star a repo"
    assert len(sop_title(sop("x" * 300))) == 80


def test_placement_plans_without_writing() -> None:
    plan = _TreePlan(containers={"/web": "folder", "/web/pages": "page"}, sops={"b1": ("/web/pages", "Landing")})
    assert "sop [b1] on /web/pages: Landing" in plan.list(ListSpace(path="/web"))
    assert plan.create("page", "/web", "docs") == "ok: planned page /web/docs"
    assert "already exists" in plan.create("folder", "/", "web")
    with pytest.raises(InvalidArgument, match="is a page"):
        plan.create("page", "/web/pages", "deeper")
    with pytest.raises(InvalidArgument, match="without '/'"):
        plan.create("folder", "/", "a/b")
    with pytest.raises(NotFound):
        plan.list(ListSpace(path="/nowhere"))
    with pytest.raises(InvalidArgument, match="not a page"):
        plan.place(PlaceSop(page_path="/web"))
    with pytest.raises(InvalidArgument, match="not an SOP"):
        plan.merge(MergeInto(block_id="b2"))
    assert plan.place(PlaceSop(page_path="/web/docs")).startswith("ok")
    assert (plan.placement.page_path, plan.placement.merge_into) == ("/web/docs", None)  # type: ignore[union-attr]
    plan.merge(MergeInto(block_id="b1"))
    assert (plan.placement.page_path, plan.placement.merge_into) == ("/web/pages", "b1")  # type: ignore[union-attr]
    assert CreateFolder(parent_path="/", title="x", extra="ignored").title == "x"


def test_placement_names_stay_consistent() -> None:
    """A planned title and the path the model places at may differ in case and spelling; a page titled like an
    existing folder goes inside that folder; a parent named loosely is the folder it means."""
    plan = _TreePlan(containers={"/Web": "folder"}, sops={})
    assert plan.create("folder", "/", "iPhone 15 Pro Max Landing Page") == (
        "ok: planned folder /iPhone 15 Pro Max Landing Page")
    with pytest.raises(InvalidArgument, match="not a page"):
        plan.place(PlaceSop(page_path="/iphone-15-pro-max-landing-page"))  # a folder, found by its slug
    answer = plan.create_page(CreatePage(parent_path="/", title="Web"))
    assert answer == "ok: planned page /Web/Web (skill name web)"
    assert plan.create_page(CreatePage(parent_path="web", title="Pricing")).startswith("ok: planned page /Web/Pricing")
    assert plan.place(PlaceSop(page_path="/web/pricing")) == "ok: the entry goes on /Web/Pricing"
    assert plan.placement is not None and plan.placement.page_path == "/Web/Pricing"
    assert "page /Web/Web (planned)" in plan.list(ListSpace(path="/WEB"))


def test_schedule_split_and_backoff() -> None:
    assert split_due([("a", 5.0), ("b", 12.0), ("c", 10.0), ("d", 11.5)], now=10.0) == (["a", "c"], 1.5)
    assert split_due([], now=1.0) == ([], None)
    policy = RetryPolicy(max_attempts=3, retry_base_s=1.0)
    assert [policy.next_attempt(n)[1] for n in (1, 2, 3)] == [False, False, True]
