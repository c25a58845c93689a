"""Which bind addresses count as loopback (a public one needs a token or --insecure)."""

from __future__ import annotations

import pytest

from acontext_mcp.auth import is_loopback


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
     ("0.0.0.0", False), ("127.example.com", False), ("10.0.0.1", False), ("example.com", False)],
)
def test_only_loopback_hosts_count_as_local(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
