"""Route a scripted OpenAI server's requests by which agent made them, so concurrent agents each get their script."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fakes.openai_server import Reply, ScriptedOpenAI, assistant

# The tool that tells each agent's requests apart.
AGENTS = {"insert_task": "observer", "submit_sop": "extract", "submit_warning": "warn", "place_sop": "place",
          "answer": "search"}


def agent_of(request: dict[str, Any]) -> str:
    names = {tool["function"]["name"] for tool in request.get("tools", [])}
    return next(agent for tool, agent in AGENTS.items() if tool in names)


def prompt_of(request: dict[str, Any]) -> str:
    return next(m["content"] for m in request["messages"] if m["role"] == "user")


class Router:
    """A responder: each agent's replies come from its own queue; `when(agent, match)` scripts replies only for
    requests whose first user prompt contains `match`. An empty queue answers with `fallback(agent, request)`."""

    def __init__(self, fallback: Callable[[str, dict[str, Any]], Reply] | None = None) -> None:
        self._queues: dict[tuple[str, str], deque[Reply]] = {}
        self._lock = threading.Lock()
        self.fallback = fallback or (lambda agent, request: assistant(tool_calls=[("finish", {})]
                                                                       if agent == "observer" else None))

    def when(self, agent: str, *replies: Reply, match: str = "") -> None:
        with self._lock:
            self._queues.setdefault((agent, match), deque()).extend(replies)

    def calls(self, agent: str, *turns: list[tuple[str, Any]], match: str = "") -> None:
        self.when(agent, *(assistant(tool_calls=turn) for turn in turns), match=match)

    def __call__(self, request: dict[str, Any]) -> Reply:
        agent, prompt = agent_of(request), prompt_of(request)
        with self._lock:
            for (name, match), queue in self._queues.items():
                if name == agent and match in prompt and queue:
                    return queue.popleft()
        return self.fallback(agent, request)


@pytest.fixture
def router() -> Router:
    return Router()


@pytest.fixture
def fake(router: Router) -> Iterator[ScriptedOpenAI]:
    """A scripted OpenAI server answering through `router` (import both fixtures into the test module)."""
    with ScriptedOpenAI(responder=router) as server:
        yield server
