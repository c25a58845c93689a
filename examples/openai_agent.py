"""A short agent loop on the `openai` client that keeps its whole conversation in acontext-mcp.

Every turn (user, assistant, tool results) is stored through an MCP client, and the session
is read back at the end. Works with any OpenAI-compatible endpoint:

    OPENAI_BASE_URL=http://localhost:11434/v1 OPENAI_API_KEY=ollama \\
        python examples/openai_agent.py --model llama3.1 "What is 17 * 23?"

By default it spawns `acontext-mcp` over stdio; `--mcp-url http://127.0.0.1:8029/mcp` uses a
running HTTP server instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from openai import AsyncOpenAI

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "multiply",
            "description": "Multiply two numbers.",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                "required": ["a", "b"],
            },
        },
    }
]


def run_tool(name: str, arguments: str) -> str:
    if name != "multiply":
        return f"unknown tool {name}"
    args = json.loads(arguments)
    return str(args["a"] * args["b"])


async def store(mcp: Client, session_id: str, message: dict[str, Any]) -> None:
    result = await mcp.call_tool("send_message", {"session_id": session_id, "message": message, "format": "openai"})
    if result.is_error:
        raise RuntimeError(result.content[0].text)  # type: ignore[union-attr]


async def agent(
    question: str, model: str, mcp_target: str | StdioServerParameters, max_steps: int = 5
) -> dict[str, Any]:
    llm = AsyncOpenAI()
    async with Client(mcp_target) as mcp:
        session = (await mcp.call_tool("create_session", {"metadata": {"agent": "openai_agent"}})).structured_content
        assert session is not None
        session_id = session["id"]
        await store(mcp, session_id, {"role": "user", "content": question})
        for _ in range(max_steps):
            read = await mcp.call_tool("get_messages", {"session_id": session_id, "format": "openai"})
            page = read.structured_content
            assert page is not None
            response = await llm.chat.completions.create(model=model, messages=page["items"], tools=TOOLS)
            reply = response.choices[0].message.model_dump(exclude_none=True, include={"role", "content", "tool_calls"})
            await store(mcp, session_id, reply)
            if not reply.get("tool_calls"):
                break
            for call in reply["tool_calls"]:
                output = run_tool(call["function"]["name"], call["function"]["arguments"])
                await store(mcp, session_id, {"role": "tool", "tool_call_id": call["id"], "content": output})
        history = (await mcp.call_tool("get_messages", {"session_id": session_id})).structured_content
        assert history is not None
        return {"session_id": session_id, "messages": history["items"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("question")
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument("--mcp-url", help="streamable HTTP URL of a running server (default: spawn over stdio)")
    args = parser.parse_args()
    target = args.mcp_url or StdioServerParameters(command="acontext-mcp", args=[])
    result = anyio.run(agent, args.question, args.model, target)
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
