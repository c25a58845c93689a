"""Shared fixtures: a settings object on a fresh data dir, the service, and an in-process MCP client."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from mcp import Client

from acontext_mcp import AcontextService, Settings
from acontext_mcp.server import build_server

# HYPOTHESIS_PROFILE=thorough runs the property tests far longer than CI's default budget.
hypothesis_settings.register_profile("ci", max_examples=100, deadline=None)
hypothesis_settings.register_profile("thorough", max_examples=2000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir)


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[AcontextService]:
    async with AcontextService.open(settings) as opened:
        yield opened


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    async with Client(build_server(settings)) as connected:
        yield connected
