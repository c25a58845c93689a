"""A scripted Anthropic Messages API server on a loopback port, streaming SSE as the real API does,
for driving the real Claude Code CLI with no network.

    with ScriptedAnthropic() as fake:
        fake.reply(text("Let me look."), tool_use("Bash", {"command": "ls"}))  # next turn: text + a tool call
        fake.reply(thinking("hmm"), text("Done."))                               # the turn after
        env = {"ANTHROPIC_BASE_URL": fake.base_url, "ANTHROPIC_API_KEY": "test"}
        ...
        fake.requests                                                             # every /v1/messages body

Requests that are not the main conversation (Claude Code also asks small side questions, e.g. a
title or a topic check: requests without `tools`) get a short text reply and do not consume the
script. When the script is empty, the main conversation gets `text("ok")`.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.servers import free_port, wait_for

Block = dict[str, Any]


def text(value: str) -> Block:
    return {"type": "text", "text": value}


def thinking(value: str) -> Block:
    return {"type": "thinking", "thinking": value, "signature": f"sig-{uuid4().hex[:16]}"}


def tool_use(name: str, arguments: dict[str, Any]) -> Block:
    return {"type": "tool_use", "id": f"toolu_{uuid4().hex[:20]}", "name": name, "input": arguments}


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()


async def _stream(blocks: list[Block], model: str, input_tokens: int) -> AsyncIterator[bytes]:
    """The SSE events of one message: start, each block (start, deltas, stop), delta with stop reason, stop."""
    message = {
        "id": f"msg_{uuid4().hex[:24]}", "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": 1, "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 0},
    }
    yield _event("message_start", {"message": message})
    for index, block in enumerate(blocks):
        kind = block["type"]
        if kind == "text":
            yield _event("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}})
            delta = {"type": "text_delta", "text": block["text"]}
            yield _event("content_block_delta", {"index": index, "delta": delta})
        elif kind == "thinking":
            yield _event("content_block_start", {"index": index, "content_block": {
                "type": "thinking", "thinking": "", "signature": ""}})
            yield _event("content_block_delta", {"index": index, "delta": {
                "type": "thinking_delta", "thinking": block["thinking"]}})
            yield _event("content_block_delta", {"index": index, "delta": {
                "type": "signature_delta", "signature": block["signature"]}})
        else:
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            yield _event("content_block_start", {"index": index, "content_block": start})
            yield _event("content_block_delta", {"index": index, "delta": {
                "type": "input_json_delta", "partial_json": json.dumps(block["input"])}})
        yield _event("content_block_stop", {"index": index})
    stop = "tool_use" if any(block["type"] == "tool_use" for block in blocks) else "end_turn"
    yield _event("message_delta", {"delta": {"stop_reason": stop, "stop_sequence": None},
                                   "usage": {"output_tokens": 10}})
    yield _event("message_stop", {})


class ScriptedAnthropic:
    """Serves POST /v1/messages (streaming or not) from a script of replies; records every request."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.requests: list[dict[str, Any]] = []
        self._script: deque[list[Block]] = deque()
        self._lock = threading.Lock()
        app = Starlette(routes=[
            Route("/v1/messages", self._messages, methods=["POST"]),
            Route("/v1/messages/count_tokens", self._count, methods=["POST"]),
        ])
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def reply(self, *blocks: Block) -> None:
        with self._lock:
            self._script.append(list(blocks))

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._script)

    @property
    def conversation(self) -> list[dict[str, Any]]:
        """The main conversation's requests (those offering tools), in order."""
        with self._lock:
            return [body for body in self.requests if body.get("tools")]

    async def _messages(self, request: Request) -> Response:
        body = await request.json()
        main = bool(body.get("tools"))
        with self._lock:
            self.requests.append(body)
            blocks = (self._script.popleft() if self._script else None) if main else None
        blocks = blocks or [text("ok")]
        model = body.get("model", "claude-scripted")
        tokens = len(json.dumps(body.get("messages", []))) // 4
        if body.get("stream"):
            return StreamingResponse(_stream(blocks, model, tokens), media_type="text/event-stream")
        stop = "tool_use" if any(block["type"] == "tool_use" for block in blocks) else "end_turn"
        return JSONResponse({
            "id": f"msg_{uuid4().hex[:24]}", "type": "message", "role": "assistant", "model": model,
            "content": blocks, "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": tokens, "output_tokens": 10},
        })

    async def _count(self, request: Request) -> Response:
        body = await request.json()
        return JSONResponse({"input_tokens": len(json.dumps(body.get("messages", []))) // 4})

    def __enter__(self) -> ScriptedAnthropic:
        self._thread.start()
        wait_for(lambda: self._server.started, timeout=10, what="the scripted Anthropic server")
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
