"""Session tools through an in-process MCP client on a real SQLite file."""

from __future__ import annotations

import pytest
from mcp import Client

from tests.support.mcp import call, call_error

pytestmark = pytest.mark.anyio


async def test_create_get_delete_session(client: Client) -> None:
    space_id = (await call(client, "create_space", name="work"))["id"]
    created = await call(client, "create_session", metadata={"user": "ana", "tags": ["a"]}, space_id=space_id)
    assert created["space_id"] == space_id
    fetched = await call(client, "get_session", session_id=created["id"])
    assert fetched == {**created, "message_count": 0}
    assert fetched["metadata"] == {"user": "ana", "tags": ["a"]}
    assert fetched["created_at"].endswith("+00:00")

    await call(client, "send_message", session_id=created["id"], message={"role": "user", "content": "hi"})
    assert (await call(client, "get_session", session_id=created["id"]))["message_count"] == 1

    assert await call(client, "delete_session", session_id=created["id"]) == {"id": created["id"], "deleted": True}
    error = await call_error(client, "get_session", session_id=created["id"])
    assert f"session '{created['id']}' not found" in error
    assert "list_sessions" in error


async def test_list_sessions_pages_newest_first(client: Client) -> None:
    ids = [(await call(client, "create_session"))["id"] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        page = await call(client, "list_sessions", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [item["id"] for item in page["items"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert seen == list(reversed(ids))


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 10_000}, "limit"),
        ({"cursor": "not-a-cursor"}, "is not a session cursor"),
    ],
)
async def test_list_sessions_rejects_bad_paging(client: Client, arguments: dict, expected: str) -> None:
    assert expected in await call_error(client, "list_sessions", **arguments)


async def test_unknown_session_everywhere(client: Client) -> None:
    for tool, extra in [
        ("get_session", {}),
        ("delete_session", {}),
        ("get_messages", {}),
        ("send_message", {"message": {"role": "user", "content": "x"}}),
    ]:
        assert "session 'missing' not found" in await call_error(client, tool, session_id="missing", **extra)


async def test_unknown_space_is_refused_and_nothing_is_created(client: Client) -> None:
    error = await call_error(client, "create_session", space_id="no-such-space")
    assert "space 'no-such-space' not found" in error and "create_space" in error
    assert (await call(client, "list_sessions"))["items"] == []
