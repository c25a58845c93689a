"""Issue 17's new features (events, message meta, copy, users, project configs, filter_by_configs, gemini)
through the official `acontext==0.1.22` SDK, unmodified, against a served acontext-mcp."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_acontext_sdk import ROOT, run_in_sdk
from tests.support.servers import http_server

pytestmark = pytest.mark.slow

FEATURES = ROOT / "tests" / "sdk" / "features.py"


def test_new_features_through_the_sdk(tmp_path: Path) -> None:
    with http_server(tmp_path / "data") as server:
        out = json.loads(run_in_sdk("0.1.22", str(FEATURES), f"http://localhost:{server.port}/api/v1"))
    bad = out.pop("bad")
    failed = {name: outcome for name, outcome in out.items() if outcome is not True}
    assert not failed, failed
    expected = {
        "event_unknown_session": (404, "session 'nope' not found"),
        "meta_unknown_message": (404, "message 'nope' not found"),
        "copy_unknown": (404, "session 'nope' not found"),
        "user_unknown": (404, "user 'nobody' not found"),
        "criteria_too_long": (400, "at most 2000 characters"),
        "gemini_no_id": (400, "parts.0.functionCall.id"),
    }
    for case, (status, fragment) in expected.items():
        assert bad[case][0] == status and fragment in bad[case][1], (case, bad[case])
