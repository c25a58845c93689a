"""Test lanes: the default `pytest` run is the fast lane; `slow` and `fault` tests run with `-m slow`, `-m fault`,
or all together with `-m ""` (scripts/test, .ci/run).

Two rules keep the fast lane fast, checked here for every test that runs:
- a test that starts a process (a server, the console script, `python -c`, npx, a browser) is marked `slow` or
  `fault`: a spawn through `subprocess` (which asyncio's and anyio's process APIs use) during an unmarked test's
  setup, call or teardown fails it. Servers in a thread of the test process (the scripted OpenAI fake, moto) are fine.
- every test under tests/fault/ is marked `fault`.
"""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

LANES = ("slow", "fault")
FAULT_DIR = Path(__file__).parents[1] / "fault"

_running: list[pytest.Item] = []
_spawns: dict[str, list[str]] = {}


def in_a_lane(item: pytest.Item) -> bool:
    return any(item.get_closest_marker(lane) for lane in LANES)


def pytest_configure(config: pytest.Config) -> None:
    platform.processor()  # runs `uname -p` once per process and caches it: libraries ask, no test should be blamed
    original = subprocess.Popen._execute_child  # type: ignore[attr-defined]

    def recorded(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> Any:
        if _running and not in_a_lane(_running[-1]):
            command = args if isinstance(args, (str, bytes)) else " ".join(map(str, args))
            _spawns.setdefault(_running[-1].nodeid, []).append(str(command)[:200])
        return original(self, args, *rest, **kwargs)

    subprocess.Popen._execute_child = recorded  # type: ignore[attr-defined]
    config.add_cleanup(lambda: setattr(subprocess.Popen, "_execute_child", original))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    unmarked = [item.nodeid for item in items
                if FAULT_DIR in item.path.parents and not item.get_closest_marker("fault")]
    if unmarked:
        raise pytest.UsageError(f"tests under tests/fault/ must be marked fault (pytestmark): {unmarked[:5]}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    _running.append(item)
    try:
        return (yield)
    finally:
        _running.pop()
        _spawns.pop(item.nodeid, None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.when in ("call", "teardown") and report.passed and (spawned := _spawns.pop(item.nodeid, None)):
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} started a process but is not marked slow or fault (tests/support/lanes.py); "
            f"mark the module with pytestmark = pytest.mark.slow. Started: {spawned}"
        )
    return report
