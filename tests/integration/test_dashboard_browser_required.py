"""Without chromium the browser tests skip with a reason, but fail loudly where CI requires them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

pytestmark = pytest.mark.slow


def run_browser_tests(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "ACONTEXT_REQUIRE_BROWSER"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/integration/test_dashboard_browser.py", "-m", "slow", "-q", "-rs",
         "-n", "0", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "pytest")],
        cwd=ROOT, env={**clean, "ACONTEXT_CHROMIUM": str(tmp_path / "no-chromium"), **env},
        capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize(
    ("required", "exit_code", "says"),
    [("1", 2, "ACONTEXT_REQUIRE_BROWSER=1 but"), ("", 5, "SKIPPED")],  # 5: the only module skipped
)
def test_missing_chromium(tmp_path: Path, required: str, exit_code: int, says: str) -> None:
    result = run_browser_tests(tmp_path, ACONTEXT_REQUIRE_BROWSER=required)
    assert result.returncode == exit_code, result.stdout[-2000:]
    assert says in result.stdout and "no-chromium is missing: run scripts/browser" in result.stdout
