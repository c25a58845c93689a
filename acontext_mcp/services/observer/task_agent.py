"""The task agent: a language model that reads new messages and keeps a session's task list.

It works through tool calls on a `TaskBoard` (the contract below, so any model can be swapped in),
for at most `max_steps` model calls. A bad call (unknown tool, arguments that are not JSON or
do not fit, a task order that does not exist) is answered with an error the model can read,
and the loop goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from pydantic import Field

from acontext_mcp.errors import InvalidArgument
from acontext_mcp.formats.transcript import transcript
from acontext_mcp.llm import ChatProvider
from acontext_mcp.llm.tool_loop import LoopRun, Tool, ToolArgs, ToolLoop, parse_call
from acontext_mcp.llm.tool_loop import tool_schemas as schemas_of
from acontext_mcp.services.llm_usage import LlmUsage
from acontext_mcp.services.models import ProjectConfigs
from acontext_mcp.services.observer.tasks import TaskBoard

PURPOSE = "task_agent"

SYSTEM_PROMPT = """\
You keep the task list of a conversation between a user and an AI agent, like a TODO list the
agent never has to maintain itself. You see the current list and the newest messages; update the
list with your tools, then call finish.

- A task is a goal the user asked for, or a step the agent planned to reach it. Small talk is not
  a task. Update existing tasks rather than adding duplicates.
- Status: pending (not started), running (being worked on), success (done), failed (given up or
  impossible).
- Progress lines are the agent's own account, in the first person and past tense, concrete and
  short, as in the example below.
- User preferences are what the user asks for about how a task is done: style, tools, constraints,
  in the user's own words. The task itself is not one.
- Status: mark a task success as soon as the agent says it is done and the user does not object;
  failed when the agent says it could not do it, or the user gives up ("never mind, I'll do it
  myself"), even if the user thanks it. A reply from a tool shows the
  task list as it is now: do not set a status the task already has.
- Progress lines and preferences come only from what the messages say; never invent them. Record a
  preference only when the user states it.
- Messages are shown as [label] role: content, with short labels m1, m2, ... Link the messages
  that belong to a task with link_messages, using those labels.
- task_order is a task's position from 1; insert_task with after_task_order 0 puts a task first,
  and inserting shifts the orders of the tasks after it.
- You may make several tool calls in one reply. When the list is up to date, call finish.

Example. Messages:
[m1] user: Add a dark mode toggle to settings.html. Keep it in the header.
[m2] assistant: calls edit_file({"path": "settings.html"}) [c1]
[m3] tool result [c1]: edited settings.html
[m4] assistant: Done: the toggle is in the header.
Calls: insert_task(after_task_order=0, task_description="Add a dark mode toggle to settings.html",
user_preferences=["Keep it in the header"]);
append_task_progress(task_order=1, progress="I have added the toggle to settings.html");
update_task(task_order=1, status="success"); link_messages(task_order=1, message_ids=["m1", "m2", "m3", "m4"]);
finish()"""


class InsertTask(ToolArgs):
    """Add a task after the task at after_task_order (0 = first). Returns the new task's order."""

    after_task_order: int = Field(description="Insert after this task; 0 inserts first")
    task_description: str = Field(description="What the task is, in one sentence")
    user_preferences: list[str] = Field(
        default_factory=list,
        description="How the user wants it done (style, tools, format, constraints), each copied from the "
                    "user's words; [] when they said nothing about how")


class UpdateTask(ToolArgs):
    """Set a task's status, and optionally rewrite its description."""

    task_order: int
    status: Literal["pending", "running", "success", "failed"]
    task_description: str | None = Field(default=None, description="A corrected goal, or null to keep it")


class AppendTaskProgress(ToolArgs):
    """Record something the agent did for a task, in the first person ("I have ...")."""

    task_order: int
    progress: str


class AppendUserPreference(ToolArgs):
    """Record something the user wants about a task."""

    task_order: int
    preference: str


class LinkMessages(ToolArgs):
    """Link messages (by their [label], such as m2) to the task they belong to."""

    task_order: int
    message_ids: list[str] = Field(description='Labels such as "m2" (message ids work too)')


class Finish(ToolArgs):
    """Stop: the task list is up to date."""


def _shown(board: TaskBoard, done: str) -> str:
    """An edit's answer with the task list as it is now, so the model sees the state it changed."""
    return f"ok: {done}. Tasks now:\n{board.render()}"


def _insert(board: TaskBoard, a: InsertTask) -> str:
    board.check_new_task(a.task_description)
    order = board.insert(a.after_task_order, a.task_description)
    refused = []
    for preference in a.user_preferences:
        try:
            board.append_preference(order, preference)
        except InvalidArgument as exc:  # the task stands; say which preference was not kept, and why
            refused.append(f"preference {preference!r} not kept: {exc}")
    return _shown(board, "; ".join([f"inserted task {order}", *refused]))


def _update(board: TaskBoard, a: UpdateTask) -> str:
    # A description rewritten as a task ends is the agent's report of the result, not the user's goal: keep the goal.
    ending = a.status in ("success", "failed") and a.task_description is not None
    board.update(a.task_order, a.status, None if ending else a.task_description)
    kept = " (its description is kept: record results with append_task_progress)" if ending else ""
    return _shown(board, f"task {a.task_order} is {a.status}{kept}")


def _progress(board: TaskBoard, a: AppendTaskProgress) -> str:
    board.append_progress(a.task_order, a.progress)
    return _shown(board, f"progress added to task {a.task_order}")


def _preference(board: TaskBoard, a: AppendUserPreference) -> str:
    board.append_preference(a.task_order, a.preference)
    return _shown(board, f"preference added to task {a.task_order}")


def _link(board: TaskBoard, a: LinkMessages) -> str:
    if not (linked := board.link(a.task_order, a.message_ids)):  # a model repeating itself: say so, to break the loop
        raise InvalidArgument(f"those messages are already linked to task {a.task_order}; nothing changed. "
                              "Set the task's status if it is wrong, or call finish")
    return f"ok: linked {linked} new messages to task {a.task_order}"


def _finish(board: TaskBoard, a: Finish) -> str:
    """The first finish of a batch that ended no task but leaves some open asks the model to check them, once; so does
    the first finish that leaves the list empty after a user's message."""
    if not board.tasks and board.user_evidence and not board.finish_checked:
        board.finish_checked = True
        return ("check before finishing: the list is empty. If the user asked for something, insert_task it (and set "
                "its status from the messages); small talk needs no task. Then call finish again.")
    open_ = [t for t in board.tasks if t.status in ("pending", "running")]
    if open_ and not board.finish_checked and not board.ended_in_batch():
        board.finish_checked = True
        listed = ", ".join(f"{t.order} ({t.status})" for t in open_)
        return (f"check before finishing: tasks {listed} are open. If the messages say a task is done and the user "
                "did not object, update_task it to success; failed if the agent could not do it. Then call finish "
                "again.")
    return "ok: finished"


@dataclass(frozen=True)
class _Tool:
    args: type[ToolArgs]
    apply: Callable[[TaskBoard, Any], str]


TOOLS: dict[str, _Tool] = {
    "insert_task": _Tool(InsertTask, _insert),
    "update_task": _Tool(UpdateTask, _update),
    "append_task_progress": _Tool(AppendTaskProgress, _progress),
    "append_user_preference": _Tool(AppendUserPreference, _preference),
    "link_messages": _Tool(LinkMessages, _link),
    "finish": _Tool(Finish, _finish),
}


def tool_schemas() -> list[dict[str, Any]]:
    """The task agent's tools in the Chat Completions `tools` shape."""
    return schemas_of({name: tool.args for name, tool in TOOLS.items()})


class TaskAgent:
    def __init__(self, provider: ChatProvider, usage: LlmUsage, max_steps: int = 12) -> None:
        self._loop = ToolLoop(provider, usage, max_steps)

    @property
    def model(self) -> str:
        return self._loop.model

    async def run(
        self, board: TaskBoard, messages: list[dict[str, Any]], criteria: ProjectConfigs | None = None
    ) -> LoopRun:
        """Update `board` from `messages` (stored native bodies with their `id`), judging success and failure by
        the project's `criteria` when it set them. The model sees the messages under short labels (m1, m2, ...);
        a run that ends without `finish` is `finished=False`. Raises `LLMError`."""
        labelled = [{**message, "id": f"m{i}"} for i, message in enumerate(messages, 1)]
        board.show([(m["id"], message["id"], transcript([m]).split("] ", 1)[-1])
                    for m, message in zip(labelled, messages, strict=True)])
        tools = {name: Tool(tool.args, partial(tool.apply, board)) for name, tool in TOOLS.items()}
        return await self._loop.run(PURPOSE, system_prompt(criteria), prompt(board, labelled), tools,
                                    final={"finish"})


def system_prompt(criteria: ProjectConfigs | None = None) -> str:
    """The task agent's instructions, with the project's success and failure criteria when set."""
    extra = []
    if criteria is not None and criteria.task_success_criteria:
        extra.append(f"- This project counts a task as success when: {criteria.task_success_criteria}")
    if criteria is not None and criteria.task_failure_criteria:
        extra.append(f"- This project counts a task as failed when: {criteria.task_failure_criteria}")
    return "\n".join([SYSTEM_PROMPT, *extra])


def prompt(board: TaskBoard, messages: list[dict[str, Any]]) -> str:
    return f"Current tasks:\n{board.render()}\n\nNew messages:\n{transcript(messages)}"


def apply_call(board: TaskBoard, name: str, arguments: str) -> str:
    """Run one tool call on the board; the text answers the model, starting with "ok" or "error"."""
    parsed = parse_call({n: t.args for n, t in TOOLS.items()}, name, arguments)
    if isinstance(parsed, str):
        return parsed
    try:
        return TOOLS[name].apply(board, parsed)
    except InvalidArgument as exc:
        return f"error: {name}: {exc}"
