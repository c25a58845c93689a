"""The skill agent: turns one task that succeeded into an SOP (one that failed into a warning), then decides
where in the space it goes. Pages are skills (services/skills): a page the agent creates gets a spec-valid
skill name and the description the model writes for it.

Two bounded tool loops (services/tool_loop.py). Extract: `submit_sop(use_when, preferences,
tool_sops)` or `skip(reason)` for a task too simple to teach anything. Place: walk the space with
`list_space`, plan new folders and pages with `create_folder` and `create_page`, and finish with
`place_sop(page_path)` or `merge_into(block_id)` (a near-duplicate SOP). Placing only plans: the
tree is written afterwards, in one transaction (`SpaceService.place_sop`), so model junk never
leaves half a tree. An SOP whose tool steps match an existing one, with a similar use_when, is
merged without asking the model.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from acontext_mcp.errors import AcontextError, InvalidArgument, LLMError, NotFound
from acontext_mcp.formats.skill_md import MAX_DESCRIPTION, slug, unique
from acontext_mcp.formats.transcript import transcript
from acontext_mcp.llm.tool_loop import Tool, ToolArgs, ToolLoop
from acontext_mcp.services.observer.models import TaskData
from acontext_mcp.services.spaces.models import CitedBlock, ToolSop
from acontext_mcp.services.spaces.search import SearchService
from acontext_mcp.services.spaces.service import (
    MAX_TITLE_CHARS,
    SpaceService,
    validate_data,
)
from acontext_mcp.services.spaces.tree import split_path

log = logging.getLogger(__name__)

EXTRACT_PURPOSE = "learner_extract"
WARN_PURPOSE = "learner_warn"
PLACE_PURPOSE = "learner_place"
SIMILAR_USE_WHEN = 0.5  # word overlap (Jaccard) of use_when, with the same tool steps, that makes a twin
MAX_LISTED = 200
MIN_USE_WHEN_WORDS = 4  # fewer, and a search worded another way cannot find the SOP
SKIP_CHECK_CALLS = 2  # tool calls in a task that make its first skip a question back to the model
FALLBACK_TITLE_WORDS = 6  # words of an SOP's use_when that name the page it is filed on when the model placed none
NUDGE = "Call one of the tools; a reply without a tool call does nothing."
# The learner's own tools, which a model copying its prompt names as an SOP step.
LEARNER_TOOLS = frozenset({"submit_sop", "submit_warning", "skip", "list_space", "create_folder", "create_page",
                           "place_sop", "merge_into", "finish"})

EXTRACT_PROMPT = """\
You turn a task an AI agent finished successfully into a reusable SOP (standard operating
procedure) for next time, or skip it.

- use_when: the kind of request this SOP is for, in the words of this task, general enough to match
  similar future tasks, not this one instance.
- preferences: the user's preferences that shaped the work, as one short sentence, or "".
- tool_sops: the tool calls that did the work, in order, each with the action to take
  (what to pass, what to check). Leave out dead ends and retries.
- Skip (with a reason) when the task is too simple to be worth a procedure: small talk, a single
  obvious step, nothing reusable."""

WARN_PROMPT = """\
You turn a task an AI agent failed at into a warning for next time, or skip it.

- text: what went wrong and in which kind of situation, general enough to recognise it again
  ("Deploying with the CLI while the build still runs uploads a stale bundle").
- instead: what to do instead next time, as one or two concrete sentences.
- Skip (with a reason) when the failure teaches nothing reusable: the user changed their mind,
  an outage outside the agent's control, small talk."""

PLACE_PROMPT = """\
You file a new SOP into a space: a tree of folders and pages (like Notion). Folders hold folders
and pages; pages hold SOPs. Look around with list_space, reuse a fitting folder and page, or plan
new ones with create_folder and create_page (short lowercase titles, one level per call),
then call place_sop with the page path. If an SOP listed as similar already covers the same
procedure, call merge_into with its block id instead of adding a twin.
Each page is a skill an agent loads by its description: when you create a page, give it a
description saying what the skill does and when to use it (up to 1,024 characters)."""

PLACE_WARNING_PROMPT = """\
You file a new warning (a lesson from a failed task) into a space: a tree of folders and pages
(like Notion). Pages are skills and hold SOPs, warnings and facts. Look around with list_space and
put the warning on the page whose procedures it is about (place_sop with the page path, or
merge_into with the id of the SOP it concerns), or create_folder and create_page for a new one,
with a description saying what the skill does and when to use it."""


@dataclass(frozen=True)
class Placement:
    page_path: str
    merge_into: str | None = None
    page_data: dict[str, Any] | None = None  # the skill's name and description, when the page is new


# Extract


class SubmitSop(ToolArgs):
    """Submit the SOP learned from the task."""

    use_when: str = Field(description="The kind of request this procedure is for")
    preferences: str = Field(default="", description="User preferences that shaped it, or empty")
    tool_sops: list[ToolSop] = Field(description="The tool steps, in order")


class SubmitWarning(ToolArgs):
    """Submit the warning learned from the failed task."""

    text: str = Field(description="What went wrong, and in which kind of situation")
    instead: str = Field(default="", description="What to do instead next time")


class Skip(ToolArgs):
    """Skip the task: it is too simple to learn a procedure from."""

    reason: str = Field(description="Why there is nothing reusable to learn")


@dataclass
class _Extracted:
    calls: list[str]  # the tool of each call the task's messages made, in order
    failed: bool = False  # a failed task: a warning is learned, not an SOP
    sop: dict[str, Any] | None = None
    skip_reason: str | None = None
    skip_checked: bool = False  # the model was asked once to check a skip of a task done in several steps

    @property
    def used(self) -> set[str]:
        """The tools the task's messages called: the only tool names a step may name."""
        return set(self.calls)

    def submit(self, args: SubmitSop) -> str:
        sop = validate_data("sop", args.model_dump())
        if len(words := re.findall(r"\w+", sop["use_when"])) < MIN_USE_WHEN_WORDS:
            raise InvalidArgument(f"use_when is {len(words)} word(s); say in at least {MIN_USE_WHEN_WORDS} what kind "
                                  "of request this procedure is for, as a search for it would be worded")
        if not sop["tool_sops"]:
            raise InvalidArgument("tool_sops is empty: list the tool steps, or call skip if no tool did the work")
        for n, step in enumerate(sop["tool_sops"], 1):
            self._check_step(n, step)
        self.sop, self.skip_reason = sop, None
        return "ok: SOP recorded"

    def _check_step(self, n: int, step: dict[str, Any]) -> None:
        """A step names a tool the messages called (any name, when they show no calls), never one of ours."""
        name = str(step.get("tool_name") or "").strip()
        if name in LEARNER_TOOLS or (name and self.used and name not in self.used):
            raise InvalidArgument(f"tool_sops[{n}].tool_name {name!r} was not called in the messages; "
                                  f"use one the agent called: {', '.join(sorted(self.used)) or '(none)'}")
        if len(re.findall(r"[A-Za-z]", str(step.get("action") or ""))) < 3:
            raise InvalidArgument(f"tool_sops[{n}].action must say what to do with the tool, in words")

    def warn(self, args: SubmitWarning) -> str:
        self.sop, self.skip_reason = validate_data("warning", args.model_dump()), None
        return "ok: warning recorded"

    def skip(self, args: Skip) -> str:
        """Skip; the first skip of a task done in `SKIP_CHECK_CALLS` or more tool calls is asked to check, once (a
        small model skips as "already complete" what it should learn)."""
        if not args.reason.strip():
            raise InvalidArgument("reason must say why the task is skipped")
        if len(self.calls) >= SKIP_CHECK_CALLS and not (self.failed or self.skip_checked or self.sop):
            self.skip_checked = True
            return (f"check before skipping: the agent made {len(self.calls)} tool calls "
                    f"({', '.join(sorted(self.used))}) for this task. A task done in several steps is worth a "
                    "procedure for next time unless it was small talk or one obvious step; that it is finished is "
                    "not a reason. Call submit_sop, or skip again if there is truly nothing reusable.")
        self.skip_reason, self.sop = args.reason.strip(), None
        return "ok: skipped"


# Place


class ListSpace(ToolArgs):
    """List the folders, pages and SOPs under a path ("/" is the root), including ones you planned."""

    path: str = Field(default="/", description='A folder or page path such as "/github"')


class CreateFolder(ToolArgs):
    """Plan a new folder under a folder (or "/")."""

    parent_path: str
    title: str


class CreatePage(ToolArgs):
    """Plan a new page (a skill) under a folder (or "/")."""

    parent_path: str
    title: str
    description: str = Field(default="", description="What the skill does and when to use it, for a model "
                             "deciding whether to load it (up to 1,024 characters)")


class PlaceSop(ToolArgs):
    """Put the new SOP on this page (existing or planned); this ends the task."""

    page_path: str


class MergeInto(ToolArgs):
    """Merge the new SOP into this existing SOP block instead of adding a twin; this ends the task."""

    block_id: str


@dataclass
class _TreePlan:
    """The space's folders and pages (by path: type), its SOPs (id: (page path, title)), and planned additions."""

    containers: dict[str, str]
    sops: dict[str, tuple[str, str]]
    planned: set[str] = field(default_factory=set)
    placement: Placement | None = None
    names: set[str] = field(default_factory=set)  # the skill names taken in the space
    new_pages: dict[str, dict[str, Any]] = field(default_factory=dict)  # planned page path: its data

    def resolve(self, path: str) -> str:
        """A path as written, or the existing or planned folder or page it names loosely (titles compared by
        their slugs, so "/iphone-landing-page" finds "/iPhone Landing Page")."""
        exact = "/" + "/".join(split_path(path))
        if exact in self.containers or exact == "/":
            return exact
        key = [slug(p) for p in split_path(path)]
        return next((p for p in self.containers if [slug(x) for x in split_path(p)] == key), exact)

    def list(self, args: ListSpace) -> str:
        base = self.resolve(args.path)
        if base != "/" and base not in self.containers:
            raise NotFound("path", base, "list / to see the folders and pages that exist")
        prefix = "" if base == "/" else base
        lines = [f"{self.containers[p]} {p}{' (planned)' if p in self.planned else ''}"
                 for p in sorted(self.containers) if p.startswith(prefix + "/") or p == prefix]
        lines += [f"  sop [{block_id}] on {page}: {title}" for block_id, (page, title) in self.sops.items()
                  if page == prefix or page.startswith(prefix + "/")]
        if not lines:
            return "ok: (empty: create_folder or create_page to start)"
        return "ok:\n" + "\n".join(lines[:MAX_LISTED])

    def create_page(self, args: CreatePage) -> str:
        description = " ".join(args.description.split())
        if len(description) > MAX_DESCRIPTION:
            raise InvalidArgument(f"description is {len(description)} characters, over the limit of "
                                  f"{MAX_DESCRIPTION}; shorten it")
        parent = self.resolve(args.parent_path)
        if self.containers.get(f"{parent.rstrip('/')}/{args.title.strip()}") == "folder":
            parent = f"{parent.rstrip('/')}/{args.title.strip()}"  # a page titled as a folder goes inside it
        answer = self.create("page", parent, args.title)
        path = f"{parent.rstrip('/')}/{args.title.strip()}"
        if path in self.planned and path not in self.new_pages:
            name = unique(slug(args.title), self.names)
            self.names.add(name)
            self.new_pages[path] = {"name": name, **({"description": description} if description else {})}
            answer += f" (skill name {name})"
        return answer

    def create(self, type: str, parent_path: str, title: str) -> str:
        parent = self.resolve(parent_path)
        if parent != "/" and self.containers.get(parent) != "folder":
            what = self.containers.get(parent)
            raise InvalidArgument(f"{parent!r} is {'a page' if what else 'not a folder'}; "
                                  f"put a {type} under / or an existing or planned folder")
        title = title.strip()
        if not title or "/" in title or title in (".", "..") or len(title) > MAX_TITLE_CHARS:
            raise InvalidArgument("title must be a non-empty name without '/' (up to 200 characters)")
        path = f"{parent.rstrip('/')}/{title}"
        if path in self.containers:
            return f"ok: {path} already exists as a {self.containers[path]}; use it"
        self.containers[path] = type
        self.planned.add(path)
        return f"ok: planned {type} {path}"

    def fallback(self, summary: str, similar: Sequence[CitedBlock]) -> Placement:
        """Where an entry goes when the model planned but never placed it: the last page it planned, else the page
        of the most similar SOP, else a new page at the root named after `summary` (its use_when, or a warning's
        text), which also becomes the skill's description."""
        if planned := [p for p in self.new_pages if self.containers.get(p) == "page"]:
            return Placement(planned[-1], page_data=self.new_pages[planned[-1]])
        if similar:
            return Placement(similar[0].path)
        words = re.findall(r"[\w'-]+", summary)[:FALLBACK_TITLE_WORDS] or ["learned"]
        title = " ".join(words)[:MAX_TITLE_CHARS].capitalize()
        path = self.resolve(f"/{title}")
        if self.containers.get(path) == "page":
            return Placement(path)
        if path in self.containers:  # a folder of that name: the page goes inside it
            path = f"{path}/{title}"
        name = unique(slug(title), self.names)
        self.names.add(name)
        return Placement(path, page_data={"name": name, "description": " ".join(summary.split())[:MAX_DESCRIPTION]})

    def place(self, args: PlaceSop) -> str:
        path = self.resolve(args.page_path)
        if self.containers.get(path) != "page":
            raise InvalidArgument(f"{path!r} is not a page; create_page first, or pick a page from list_space")
        self.placement = Placement(path, page_data=self.new_pages.get(path))
        return f"ok: the entry goes on {path}"

    def merge(self, args: MergeInto) -> str:
        if args.block_id not in self.sops:
            raise InvalidArgument(f"{args.block_id!r} is not an SOP of this space; use an id list_space shows")
        self.placement = Placement(self.sops[args.block_id][0], args.block_id)
        return "ok: the SOP will be merged"


class SkillAgent:
    def __init__(self, loop: ToolLoop, spaces: SpaceService, search: SearchService) -> None:
        self._loop = loop
        self._spaces = spaces
        self._search = search

    @property
    def model(self) -> str:
        return self._loop.model

    async def extract(self, task: TaskData, messages: list[dict[str, Any]], failed: bool = False
                      ) -> dict[str, Any] | str:
        """The SOP learned from a task (a warning, from a `failed` one), or (a str) the reason it was skipped.

        Raises `LLMError`.
        """
        state = _Extracted(tool_calls(messages), failed=failed)
        submit = {"submit_warning": Tool(SubmitWarning, state.warn)} if failed else \
            {"submit_sop": Tool(SubmitSop, state.submit)}
        tools = {**submit, "skip": Tool(Skip, state.skip)}
        run = await self._loop.run(WARN_PURPOSE if failed else EXTRACT_PURPOSE,
                                   WARN_PROMPT if failed else EXTRACT_PROMPT, _task_prompt(task, messages), tools,
                                   final=set(tools), nudge=NUDGE)
        if not run.finished:
            what = "a warning" if failed else "an SOP"
            raise LLMError(f"the model neither submitted {what} nor skipped within {run.steps} steps")
        return state.sop if state.sop is not None else state.skip_reason or ""

    async def place(self, space_id: str, entry: dict[str, Any], warning: bool = False) -> Placement:
        """Where an SOP (or a `warning`) goes: a twin SOP to merge into, or a page the model picks (for a
        warning, merge_into names the SOP it is about and places it on that SOP's page).

        Raises `LLMError`, `NotFound`.
        """
        similar = await self._similar(space_id, entry)
        twin = None if warning else next((b for b in similar if _is_twin(b.data, entry)), None)
        if twin is not None:
            return Placement(twin.path, twin.block_id)
        tree = await self._spaces.list_space(space_id)
        plan = _TreePlan(
            containers={e.path: e.type for e in tree.entries if e.type in ("folder", "page")},
            sops={e.id: (e.path, e.title) for e in tree.entries if e.type == "sop"},
            names=set((await self._spaces.skill_names(space_id)).values()),
        )
        tools = {
            "list_space": Tool(ListSpace, plan.list),
            "create_folder": Tool(CreateFolder, lambda a: plan.create("folder", a.parent_path, a.title)),
            "create_page": Tool(CreatePage, plan.create_page),
            "place_sop": Tool(PlaceSop, plan.place),
            "merge_into": Tool(MergeInto, plan.merge),
        }
        prompt = _warning_prompt(entry, similar) if warning else _place_prompt(entry, similar)
        run = await self._loop.run(PLACE_PURPOSE, PLACE_WARNING_PROMPT if warning else PLACE_PROMPT, prompt, tools,
                                   final={"place_sop", "merge_into"}, nudge=NUDGE)
        if not run.finished or plan.placement is None:  # a small model lost in the tree: file it anyway
            what = "warning" if warning else "SOP"
            plan.placement = plan.fallback(entry.get("use_when") or entry.get("text") or "", similar)
            log.warning("learner: the model did not place the %s within %d steps; filed on %s", what, run.steps,
                        plan.placement.page_path)
        if warning and plan.placement.merge_into is not None:
            return Placement(plan.placement.page_path)
        return plan.placement

    async def _similar(self, space_id: str, entry: dict[str, Any]) -> list[CitedBlock]:
        words = [entry["use_when"], *(step["tool_name"] for step in entry["tool_sops"])] if "use_when" in entry \
            else [entry["text"], entry.get("instead", "")]
        query = " ".join(words)[:2000]
        try:
            return (await self._search.experience_search(space_id, query, limit=5, types=["sop"])).cited_blocks
        except AcontextError as exc:  # e.g. the index is down: place without the hint, never guess a twin
            log.warning("learner: similar-SOP search failed (%s); placing without it", exc)
            return []


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _is_twin(existing: dict[str, Any], new: dict[str, Any]) -> bool:
    """Same tool steps in the same order, and use_when texts sharing most of their words."""
    if [s["tool_name"] for s in existing.get("tool_sops", [])] != [s["tool_name"] for s in new["tool_sops"]]:
        return False
    a, b = _words(existing.get("use_when", "")), _words(new["use_when"])
    return bool(a | b) and len(a & b) / len(a | b) >= SIMILAR_USE_WHEN


def tool_calls(messages: list[dict[str, Any]]) -> list[str]:
    """The name of each tool call stored native messages make, in order."""
    return [part["name"] for message in messages for part in message.get("parts", [])
            if part.get("type") == "tool-call" and part.get("name")]


def tools_used(messages: list[dict[str, Any]]) -> set[str]:
    """The names of the tools called in stored native messages."""
    return set(tool_calls(messages))


def _task_prompt(task: TaskData, messages: list[dict[str, Any]]) -> str:
    lines = [f"Task: {task.task_description}"]
    lines += [f"Progress: {p}" for p in task.progresses]
    lines += [f"User preference: {p}" for p in task.user_preferences]
    used = tools_used(messages)
    lines += ["", f"Tools the agent called: {', '.join(sorted(used)) if used else 'none'}"]
    lines += ["", "Messages of the task:", transcript(messages) if messages else "(no messages)"]
    return "\n".join(lines)


def _warning_prompt(warning: dict[str, Any], similar: list[CitedBlock]) -> str:
    lines = [f"New warning: {warning['text']}", f"Instead: {warning.get('instead') or '-'}"]
    if similar:
        lines += ["", "SOPs in the space it may be about:"]
        lines += [f"[{b.block_id}] on {b.path}: {b.data.get('use_when', b.title)}" for b in similar]
    return "\n".join(lines)


def _place_prompt(sop: dict[str, Any], similar: list[CitedBlock]) -> str:
    steps = "\n".join(f"{n}. {s['tool_name']}: {s['action']}" for n, s in enumerate(sop["tool_sops"], 1))
    lines = [f"New SOP, use when: {sop['use_when']}", f"Preferences: {sop['preferences'] or '-'}", steps]
    if similar:
        lines += ["", "Similar SOPs already in the space:"]
        lines += [f"[{b.block_id}] on {b.path}: {b.data.get('use_when', b.title)} "
                  f"(tools: {', '.join(s['tool_name'] for s in b.data.get('tool_sops', []))})" for b in similar]
    return "\n".join(lines)
