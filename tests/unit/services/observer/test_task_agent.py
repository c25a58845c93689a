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
    assert second == "ok: inserted task 2"
    zeroth = apply_call(b, "insert_task", '{"after_task_order": 0, "task_description": "zeroth"}')
    assert zeroth == "ok: inserted task 1"
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
        ("link_messages", {"task_order": 1, "message_ids": ["m1"]}),
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
