"""What outside clients see through the MCP SDK client: listed resources read back, bad arguments answer
one line naming the argument, descriptions are dedented, and reads are valid for both message APIs."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from mcp import Client, MCPError
from mcp.client.stdio import stdio_client

from acontext_mcp.errors import InvalidArgument
from acontext_mcp.services.disks import paths
from tests.support.mcp import call, call_error
from tests.support.rules import anthropic_problems, openai_problems
from tests.support.servers import stdio_params

pytestmark = pytest.mark.anyio

TRICKY = ["my docs", "a b#c?.md", "%2e%2e", "%41%42", "100%", "a+b=c&d", "ü é", "[x](y)", "~!$'*,;:@"]


def names(seed: int = 7, count: int = 12) -> list[str]:
    """TRICKY plus random names the path rules allow (every printable range, spaces inside)."""
    rng = random.Random(seed)
    found = list(TRICKY)
    while len(found) < len(TRICKY) + count:
        candidate = "".join(chr(rng.choice([rng.randint(32, 126), rng.randint(160, 0x2FFF)])) for _ in range(6))
        try:
            found.append(paths.filename(candidate))
        except InvalidArgument:
            continue
    return found


async def test_every_listed_uri_reads_back(client: Client) -> None:
    disk_id = (await call(client, "create_disk", name="tricky"))["id"]
    written = {}
    for index, name in enumerate(names()):
        folder = f"/{names(seed=index, count=1)[-1]}/" if index % 2 else "/%2e%2e/"
        await call(client, "upsert_artifact", disk_id=disk_id, file_path=folder, filename=name, content=f"#{index}")
        written[f"{paths.folder(folder)}{name}"] = f"#{index}"
    listed = [r for r in (await client.list_resources()).resources if str(r.uri).startswith("disk://")]
    assert {r.name for r in listed} == set(written)
    for resource in listed:
        read = await client.read_resource(str(resource.uri))
        assert read.contents[0].text == written[resource.name], resource.uri  # type: ignore[union-attr]


async def test_bad_tool_arguments_answer_one_line_naming_the_argument(client: Client) -> None:
    session_id = (await call(client, "create_session"))["id"]
    missing = await call_error(client, "send_message", session_id=session_id)
    assert missing == "send_message: argument 'message' is required; see the tool's input schema"
    wrong = await call_error(client, "get_messages", session_id=session_id, limit="many")
    assert "\n" not in wrong and "pydantic" not in wrong and "argument 'limit'" in wrong


async def test_a_prompt_without_a_required_argument_says_which(client: Client) -> None:
    with pytest.raises(MCPError) as info:
        await client.get_prompt("use_skills", {"space_id": "s"})
    assert str(info.value) == "prompt use_skills: argument 'task' is required"


async def test_descriptions_are_dedented(client: Client) -> None:
    for tool in (await client.list_tools()).tools:
        assert "\n " not in (tool.description or ""), tool.name


async def test_parallel_tool_results_read_back_valid_for_anthropic(client: Client) -> None:
    session_id = (await call(client, "create_session"))["id"]
    calls = [{"id": c, "type": "function", "function": {"name": "weather", "arguments": "{}"}} for c in ("a", "b")]
    for message in [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "tool_call_id": "a", "content": "sun"},
        {"role": "user", "content": "quick please"},
        {"role": "tool", "tool_call_id": "b", "content": "rain"},
        {"role": "tool", "tool_call_id": "b", "content": "rain again"},
        {"role": "assistant", "content": "sun and rain"},
    ]:
        await call(client, "send_message", session_id=session_id, message=message)
    chains = (None, [{"type": "token_limit", "limit_tokens": 10_000}], [{"type": "middle_out", "limit_tokens": 10_000}])
    for strategies in chains:
        extra = {"edit_strategies": strategies} if strategies else {}
        read = await call(client, "get_messages", session_id=session_id, format="anthropic", **extra)
        assert anthropic_problems(read["items"], read.get("system")) == []
        assert [m["role"] for m in read["items"]] == ["user", "assistant", "user", "assistant"]
        assert len(read["sources"][2]) == 3
        openai = await call(client, "get_messages", session_id=session_id, format="openai", **extra)
        assert openai_problems(openai["items"]) == []


@pytest.mark.parametrize("content", ["", [], None])
async def test_empty_messages_are_refused(client: Client, content: object) -> None:
    session_id = (await call(client, "create_session"))["id"]
    role = "assistant" if content is None else "user"
    error = await call_error(client, "send_message", session_id=session_id, message={"role": role, "content": content})
    assert "content" in error and "must not be empty" in error


@pytest.mark.slow
async def test_the_first_block_write_prints_no_lancedb_warning(data_dir: Path) -> None:
    """Over stdio, the first index write leaves stderr with the server's own log only."""
    errors = data_dir.parent / "stderr.log"
    with errors.open("w") as errlog:
        async with Client(stdio_client(stdio_params(data_dir, ACONTEXT_LOG_LEVEL="INFO"), errlog=errlog)) as client:
            space_id = (await call(client, "create_space", name="skills"))["id"]
            await call(client, "create_block", space_id=space_id, parent_path="/", type="page", title="first")
            await call(client, "experience_search", space_id=space_id, query="first")
    text = errors.read_text()
    assert "No existing dataset" not in text and "lance::" not in text, text
