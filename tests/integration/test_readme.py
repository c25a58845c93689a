"""The README documents every tool, resource template and prompt the server offers."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

pytestmark = pytest.mark.anyio

README = (Path(__file__).parents[2] / "README.md").read_text()


async def test_every_tool_prompt_and_resource_is_in_the_readme(client: Client) -> None:
    tools = [tool.name for tool in (await client.list_tools()).tools]
    prompts = [prompt.name for prompt in (await client.list_prompts()).prompts]
    templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
    missing = [name for name in tools + prompts if f"`{name}(" not in README]
    missing += [uri for uri in templates if uri not in README]
    assert not missing, f"README does not document {missing}"
