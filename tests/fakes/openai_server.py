"""A scripted OpenAI-compatible server on a loopback port, for driving the real `openai` client.

    with ScriptedOpenAI() as fake:
        fake.reply(content="hello")                      # next completion: plain text
        fake.reply(tool_calls=[("search", {"q": "x"})])  # next: one tool call
        fake.fail(503)                                    # next: an HTTP error
        client = openai.OpenAI(base_url=fake.base_url, api_key="test")
        ...
        fake.requests                                     # every request body received

When the script is empty, `responder(request)` decides (default: a plain "ok" reply). It runs in a
worker thread, so responders may block (e.g. on a barrier shared by concurrent requests).
Usage reports the request's prompt size as about one token per 4 characters of its messages and tools.

POST /v1/embeddings answers with `hashed_embedding` vectors: deterministic bags of words, so
texts sharing words are close. `fake.synonyms = {"favourite": "star"}` makes words embed alike;
`fake.embedding_requests` records those request bodies.

A request constrained by `response_format: {"type": "json_schema"}` (ACONTEXT_LLM_TOOL_MODE=json_schema)
is answered the way llama.cpp does: a scripted reply's first tool call is written as the JSON object
`{"name", "arguments"}` in `content` (after checking the name is one the schema admits), `tool_calls` null.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import anyio.to_thread
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.servers import free_port, wait_for

Reply = dict[str, Any]  # {"message": {...}} or {"status": int, "body": ...} or {"raw": str}


def completion(
    message: dict[str, Any], model: str, prompt_tokens: int = 10, completion_tokens: int = 5, cached_tokens: int = 0
) -> dict[str, Any]:
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    return {
        "id": f"chatcmpl-{uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens},
        },
    }


def assistant(content: str | None = None, tool_calls: list[tuple[str, dict[str, Any] | str]] | None = None) -> Reply:
    """A reply holding an assistant message; tool call arguments may be a dict or raw (even invalid) JSON text."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{uuid4().hex[:8]}",
                "type": "function",
                "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)},
            }
            for name, args in tool_calls
        ]
    return {"message": message}


def hashed_embedding(text: str, dims: int, synonyms: dict[str, str] | None = None) -> list[float]:
    """A unit vector with one hashed dimension per word (after mapping `synonyms`)."""
    vector = [0.0] * dims
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        word = (synonyms or {}).get(word, word)
        vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % dims] += 1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def as_constrained(message: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The message's tool calls as the JSON text a schema-constrained model writes in `content`: one call as an
    object, several as an array (when the schema admits one)."""
    admitted = {choice["properties"]["name"]["const"] for choice in schema["anyOf"] if "properties" in choice}
    arrays = any(choice.get("type") == "array" for choice in schema["anyOf"])
    written = []
    for call in [c["function"] for c in message["tool_calls"]][: None if arrays else 1]:
        if call["name"] not in admitted:
            raise AssertionError(f"scripted call {call['name']!r} is not among the schema's tools {sorted(admitted)}")
        written.append(f'{{"name": {json.dumps(call["name"])}, "arguments": {call["arguments"] or "{}"}}}')
    content = written[0] if len(written) == 1 else f"[{', '.join(written)}]"
    return {"role": "assistant", "content": content, "tool_calls": None}


class ScriptedOpenAI:
    """Serves POST /v1/chat/completions from a script of replies; records every request."""

    def __init__(self, responder: Callable[[dict[str, Any]], Reply] | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.requests: list[dict[str, Any]] = []
        self.responder = responder or (lambda request: assistant("ok"))
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.synonyms: dict[str, str] = {}
        self.embedding_requests: list[dict[str, Any]] = []
        self._last_prompt = ""
        app = Starlette(routes=[
            Route("/v1/chat/completions", self._complete, methods=["POST"]),
            Route("/v1/embeddings", self._embed, methods=["POST"]),
        ])
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def reply(
        self, content: str | None = None, tool_calls: list[tuple[str, dict[str, Any] | str]] | None = None
    ) -> None:
        self.push(assistant(content, tool_calls))

    def fail(self, status: int, body: Any = None) -> None:
        self.push({"status": status,
                   "body": body or {"error": {"message": "scripted failure", "type": "server_error"}}})

    def push(self, reply: Reply) -> None:
        with self._lock:
            self._script.append(reply)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._script)

    async def _complete(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.requests.append(body)
            reply = self._script.popleft() if self._script else None
        reply = reply or await anyio.to_thread.run_sync(self.responder, body)
        if "status" in reply:
            return JSONResponse(reply["body"], status_code=reply["status"])
        if "raw" in reply:
            return Response(reply["raw"], media_type="application/json")
        message = reply["message"]
        if (body.get("response_format") or {}).get("type") == "json_schema" and message.get("tool_calls"):
            message = as_constrained(message, body["response_format"]["json_schema"]["schema"])
        prompt = json.dumps(body.get("tools", [])) + json.dumps(body.get("messages", []))
        with self._lock:  # like llama.cpp, the prefix shared with the previous request is served from its cache
            cached, self._last_prompt = len(os.path.commonprefix([prompt, self._last_prompt])) // 4, prompt
        return JSONResponse(completion(message, body.get("model", "scripted"), prompt_tokens=len(prompt) // 4,
                                       cached_tokens=cached))

    async def _embed(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.embedding_requests.append(body)
        texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
        dims = body.get("dimensions") or 1536
        data = [
            {"object": "embedding", "index": i, "embedding": hashed_embedding(text, dims, self.synonyms)}
            for i, text in enumerate(texts)
        ]
        tokens = sum(len(text.split()) for text in texts)
        return JSONResponse({"object": "list", "data": data, "model": body.get("model", "scripted"),
                             "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    def __enter__(self) -> ScriptedOpenAI:
        self._thread.start()
        wait_for(lambda: self._server.started, timeout=10, what="the scripted OpenAI server")
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
