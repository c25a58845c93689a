"""The task agent's tool calls on a task board: the contract, and errors answered to the model."""

from __future__ import annotations

import json

import pytest

from acontext_mcp.services.observer.task_agent import (
    TOOLS,
    apply_call,
    prompt,
    tool_schemas,
)
from acontext_mcp.services.observer.tasks import TaskBoard


def board(*descriptions: str) -> TaskBoard:
    new = TaskBoard("s1", [], known_message_ids={"m1", "m2"})
    for i, description in enumerate(descriptions):
        new.insert(i, description)
    return new


def test_tool_contract() -> None:
    schemas = {s["function"]["name"]: s["function"] for s in tool_schemas()}
    assert list(schemas) == [
        "insert_task", "update_task", "append_task_progress", "append_user_preference", "link_messages", "finish"
    ]
    assert schemas["insert_task"]["parameters"]["required"] == ["after_task_order", "task_description"]
    assert schemas["update_task"]["parameters"]["properties"]["status"]["enum"] == [
        "pending", "running", "success", "failed"
    ]
    assert schemas["update_task"]["parameters"]["required"] == ["task_order", "status"]
    assert schemas["link_messages"]["parameters"]["properties"]["message_ids"]["type"] == "array"
    assert schemas["finish"]["parameters"]["properties"] == {}
    assert "title" not in json.dumps(schemas)
    assert all(s["description"] for s in schemas.values())


def test_insert_shifts_later_tasks() -> None:
    b = board("first", "third")
    second = apply_call(b, "insert_task", '{"after_task_order": 1, "task_description": "second"}')
    assert second == "ok: inserted task 2. Tasks now:\n1. [pending] first\n2. [pending] second\n3. [pending] third"
    zeroth = apply_call(b, "insert_task", '{"after_task_order": 0, "task_description": "zeroth"}')
    assert zeroth.startswith("ok: inserted task 1. Tasks now:\n1. [pending] zeroth\n")
    assert [(t.order, t.data.task_description, t.status) for t in b.tasks] == [
        (1, "zeroth", "pending"), (2, "first", "pending"), (3, "second", "pending"), (4, "third", "pending")
    ]


def test_update_progress_preference_link() -> None:
    b = board("landing page")
    for name, args in [
        ("update_task", {"task_order": 1, "status": "running", "task_description": "Build the landing page"}),
        ("append_task_progress", {"task_order": 1, "progress": "I have written the hero"}),
        ("append_user_preference", {"task_order": 1, "preference": "dark theme"}),
        ("link_messages", {"task_order": 1, "message_ids": ["m2", "m1", "m2"]}),
        ("update_task", {"task_order": 1, "status": "success"}),
    ]:
        assert apply_call(b, name, json.dumps(args)).startswith("ok"), name
    [task] = b.tasks
    assert task.status == "success"
    assert task.data.task_description == "Build the landing page"
    assert task.data.progresses == ["I have written the hero"]
    assert task.data.user_preferences == ["dark theme"]
    assert task.message_ids == ["m2", "m1"]
    assert "1. [success] Build the landing page" in b.render()
    assert "progress: I have written the hero" in b.render()


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("delete_task", "{}", "unknown tool 'delete_task'; use one of insert_task"),
        ("insert_task", '{"after_task_order": 1,', "not valid JSON"),
        ("insert_task", "[1, 2]", "insert_task arguments: Input should be a valid dictionary"),
        ("insert_task", '{"after_task_order": 5, "task_description": "x"}', "between 0 (insert first) and 1"),
        ("insert_task", '{"after_task_order": 0, "task_description": "  "}', "task_description must be non-empty"),
        ("insert_task", '{"task_description": "x"}', "after_task_order: Field required"),
        ("update_task", '{"task_order": 2, "status": "success"}', "task_order 2 does not exist (orders 1 to 1)"),
        ("update_task", '{"task_order": 1, "status": "done"}', "status: Input should be 'pending'"),
        ("append_task_progress", '{"task_order": 0, "progress": "x"}', "task_order 0 does not exist"),
        ("append_user_preference", '{"task_order": "one", "preference": "x"}',
         "task_order: Input should be a valid integer"),
        ("link_messages", '{"task_order": 1, "message_ids": ["nope"]}', "unknown message ids ['nope']"),
    ],
)
def test_invalid_calls_are_answered_with_an_error_and_change_nothing(name: str, arguments: str, expected: str) -> None:
    b = board("only task")
    before = [t.model_dump() for t in b.tasks]
    answer = apply_call(b, name, arguments)
    assert answer.startswith("error")
    assert expected in answer
    assert [t.model_dump() for t in b.tasks] == before


def test_empty_board_says_to_insert_first() -> None:
    answer = apply_call(board(), "append_task_progress", '{"task_order": 1, "progress": "x"}')
    assert "no tasks yet; insert_task first" in answer
    assert "(no tasks yet)" in prompt(board(), [])


def test_finish_and_empty_arguments() -> None:
    assert apply_call(board(), "finish", "") == "ok: finished"
    assert set(TOOLS) >= {"finish"}


def test_each_tool_is_described_once() -> None:
    """The docstring is the function's description; the parameters do not repeat it."""
    for schema in tool_schemas():
        assert schema["function"]["description"]
        assert "description" not in schema["function"]["parameters"]


def test_a_near_duplicate_task_is_refused_but_another_number_is_a_new_task() -> None:
    b = board("Fix issue 12 in the parser")
    answer = apply_call(b, "insert_task", '{"after_task_order": 1, "task_description": "fix issue 12 in parser"}')
    assert answer == ("error: insert_task: task 1 already says this ('Fix issue 12 in the parser'); "
                      "update_task 1 instead of inserting a duplicate")
    assert apply_call(b, "insert_task", '{"after_task_order": 1, "task_description": "Fix issue 13 in the parser"}'
                      ).startswith("ok")
    assert len(b.tasks) == 2


def test_a_status_cycling_within_one_batch_is_stopped() -> None:
    b = board("deploy")
    for status in ("running", "success"):
        assert apply_call(b, "update_task", json.dumps({"task_order": 1, "status": status})).startswith("ok")
    assert apply_call(b, "update_task", '{"task_order": 1, "status": "success"}').startswith("ok")  # no change
    answer = apply_call(b, "update_task", '{"task_order": 1, "status": "failed"}')
    assert answer == ("error: update_task: task 1's status already changed 2 times in this batch; it stays "
                      "success: call finish")
    assert b.tasks[0].status == "success"


def test_progress_and_preferences_must_come_from_the_messages() -> None:
    b = board("landing page")
    b.show([("m1", "id-1", "user: Build a landing page, keep the hero plain black"),
            ("m2", "id-2", "assistant: calls write_file({\"path\": \"index.html\"}) [c1]")])
    invented = apply_call(b, "append_task_progress", '{"task_order": 1, "progress": "I have deployed to Vercel"}')
    assert invented == ("error: append_task_progress: progress shares no word with the new messages; record only "
                        "what the messages show the agent did")
    assert apply_call(b, "append_task_progress", '{"task_order": 1, "progress": "I have written index.html"}'
                      ).startswith("ok")
    again = apply_call(b, "append_task_progress", '{"task_order": 1, "progress": "I have written index.html."}')
    assert "already has this progress" in again
    assert "no word with the new messages" in apply_call(
        b, "append_user_preference", '{"task_order": 1, "preference": "Use write_file"}')  # the agent's, not the user's
    assert apply_call(b, "append_user_preference", '{"task_order": 1, "preference": "plain black hero"}'
                      ).startswith("ok")
    assert b.tasks[0].data.progresses == ["I have written index.html"]
    assert b.tasks[0].data.user_preferences == ["plain black hero"]


def test_messages_are_linked_by_their_short_labels() -> None:
    b = board("landing page")
    b.show([("m1", "m2", "user: hi"), ("m2", "m1", "assistant: hello")])  # label -> stored id
    assert apply_call(b, "link_messages", '{"task_order": 1, "message_ids": ["m1", "[M2]"]}') == (
        "ok: linked 2 new messages to task 1")
    assert b.tasks[0].message_ids == ["m2", "m1"]
    assert apply_call(b, "link_messages", '{"task_order": 1, "message_ids": ["2", "m1"]}') == (
        "error: link_messages: those messages are already linked to task 1; nothing changed. Set the task's status "
        "if it is wrong, or call finish")


def test_a_task_that_ends_keeps_its_goal_as_description() -> None:
    b = board("Remove duplicate rows from sales.csv")
    answer = apply_call(b, "update_task", json.dumps(
        {"task_order": 1, "status": "success", "task_description": "54 duplicate rows removed"}))
    assert answer.startswith("ok: task 1 is success (its description is kept: record results with "
                             "append_task_progress)")
    assert b.tasks[0].data.task_description == "Remove duplicate rows from sales.csv"
    apply_call(b, "update_task", json.dumps({"task_order": 1, "status": "running", "task_description": "Dedupe"}))
    assert b.tasks[0].data.task_description == "Dedupe"  # a goal corrected while it runs is kept


def test_finishing_with_open_tasks_and_none_ended_is_checked_once() -> None:
    b = board("Build the landing page", "Add the specs")
    answer = apply_call(b, "finish", "{}")
    assert answer.startswith("check before finishing: tasks 1 (pending), 2 (pending) are open.")
    assert apply_call(b, "finish", "{}") == "ok: finished"
    ended = board("Build the landing page", "Add the specs")
    apply_call(ended, "update_task", '{"task_order": 1, "status": "success"}')
    assert apply_call(ended, "finish", "{}") == "ok: finished"  # a batch that ended a task leaves the rest alone


def test_finishing_with_an_empty_list_after_a_user_message_is_checked_once() -> None:
    b = board()
    b.show([("m1", "m1", "user: Remove duplicate rows from sales.csv")])
    assert apply_call(b, "finish", "{}").startswith("check before finishing: the list is empty.")
    assert apply_call(b, "finish", "{}") == "ok: finished"
    quiet = board()
    quiet.show([("m1", "m1", "assistant: hello")])
    assert apply_call(quiet, "finish", "{}") == "ok: finished"


def test_a_task_is_inserted_with_the_preferences_the_user_stated() -> None:
    b = TaskBoard("s1", [], known_message_ids={"id-1"})
    b.show([("m1", "id-1", "user: Build a landing page with Tailwind. Keep the header plain white, no shadows.")])
    answer = apply_call(b, "insert_task", json.dumps({
        "after_task_order": 0, "task_description": "Build a landing page with Tailwind",
        "user_preferences": ["Keep the header plain white, no shadows", "Use Tailwind's dark mode classes"]}))
    # A guess that borrows one of the user's words is refused; the task and the stated preference stand.
    assert answer.startswith("ok: inserted task 1; preference \"Use Tailwind's dark mode classes\" not kept: "
                             "preference has words nobody said (classes, dark, mode)")
    assert b.tasks[0].data.user_preferences == ["Keep the header plain white, no shadows"]
    schema = {s["function"]["name"]: s["function"] for s in tool_schemas()}["insert_task"]["parameters"]
    assert schema["properties"]["user_preferences"]["type"] == "array"


def test_a_task_must_come_from_the_messages() -> None:
    b = TaskBoard("s1", [], known_message_ids={"id-1"})
    b.show([("m1", "id-1", "user: Upgrade pandas to 3.0 and make sure the tests still pass.")])
    copied = apply_call(b, "insert_task", json.dumps({  # the finish check's own words, copied as a task
        "after_task_order": 0, "task_description": "Check before finishing: the list is empty. If the user asked "
                                                   "for something, insert_task it"}))
    assert copied == ("error: insert_task: task_description shares no word with the new messages; record only what "
                      "the messages ask for")
    assert apply_call(b, "insert_task", '{"after_task_order": 0, "task_description": "Upgrade pandas to 3.0"}'
                      ).startswith("ok: inserted task 1")
