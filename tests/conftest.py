"""Shared fixtures: a settings object on a fresh data dir, the service, and an in-process MCP client.

`settings` (and so `service` and `client`) runs each test on both engines: SQLite in the data dir,
and a scratch PostgreSQL database (`tests/support/postgres.py`).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from mcp import Client
from mcp.server.mcpserver import MCPServer

from acontext_mcp import Container, Settings
from acontext_mcp.server import build_server
from tests.support.postgres import env_for, scratch_database

# HYPOTHESIS_PROFILE=thorough runs the property tests far longer than CI's default budget.
hypothesis_settings.register_profile("ci", max_examples=100, deadline=None)
hypothesis_settings.register_profile("thorough", max_examples=2000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# The `embed` extra (installed with `dev`) would make every server the tests start embed with the local model:
# they run full-text only, as before, unless a test asks for embeddings (tests/unit/store/test_local_embeddings.py).
os.environ.setdefault("ACONTEXT_EMBEDDING", "none")

pytest_plugins = ["tests.support.lanes"]  # the fast lane's rules: which tests must be marked slow or fault


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for SQLite in the data dir, else the URL of a scratch PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    with scratch_database() as url:
        yield url


@pytest.fixture
def database_env(database_url: str | None) -> dict[str, str]:
    """The environment a server process needs to use the test's database."""
    return env_for(database_url)


@pytest.fixture
def settings(data_dir: Path, database_url: str | None) -> Settings:
    return Settings(data_dir=data_dir, database_url=database_url)


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[Container]:
    async with Container.open(settings) as opened:
        yield opened


class _Next:
    """The settings the shared server's next connection opens its container from: the running test's."""

    settings: Settings | None = None


@pytest.fixture(scope="session")
def shared_server() -> MCPServer[Container]:
    """One server for the session's `client`s: building one (37 tool schemas) costs more than most tests.

    Each connection runs the server's lifespan, which opens a fresh container from the test's settings.
    """

    def provide() -> AbstractAsyncContextManager[Container]:
        assert _Next.settings is not None, "the client fixture sets the settings first"
        return Container.open(_Next.settings)

    return build_server(Settings(), provide=provide)


@pytest.fixture
async def client(settings: Settings, shared_server: MCPServer[Container]) -> AsyncIterator[Client]:
    _Next.settings = settings
    try:
        async with Client(shared_server) as connected:
            yield connected
    finally:
        _Next.settings = None
