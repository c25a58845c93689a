"""docs/deploy.md: its YAML parses, and its replicas get every shared setting (no Docker engine runs it here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from acontext_mcp.settings import ENV_VARS

DOC = Path(__file__).parents[2] / "docs" / "deploy.md"
KNOWN = set(ENV_VARS.values())
SHARED = {
    "ACONTEXT_DATABASE_URL", "ACONTEXT_ARTIFACT_URL", "ACONTEXT_BLOB_URL", "ACONTEXT_LANCEDB_URI",
    "ACONTEXT_URL_SECRET", "ACONTEXT_MCP_TOKEN", "ACONTEXT_STATELESS_HTTP", "ACONTEXT_PUBLIC_URL",
    "ACONTEXT_MCP_ALLOWED_HOSTS",
}


def yaml_blocks() -> list[list[Any]]:
    text = DOC.read_text()
    return [list(yaml.safe_load_all(block)) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def test_compose_runs_two_stateless_replicas_behind_a_balancer() -> None:
    [compose], _ = yaml_blocks()
    services = compose["services"]
    replicas = [s for name, s in services.items() if name.startswith("acontext-")]
    assert len(replicas) == 2 and {"postgres", "minio", "lb"} <= services.keys()
    for replica in replicas:
        assert "--stateless" in replica["command"]
        assert replica["environment"].keys() >= SHARED
        assert replica["environment"]["AWS_ENDPOINT_URL"] == "http://minio:9000"
    nginx = DOC.read_text().split("```nginx\n", 1)[1].split("```", 1)[0]
    assert all(f"server {name}:8029;" in nginx for name in services if name.startswith("acontext-"))


def test_kubernetes_sketch_is_a_deployment_and_a_service() -> None:
    _, documents = yaml_blocks()
    assert [d["kind"] for d in documents] == ["Deployment", "Service"]
    [container] = documents[0]["spec"]["template"]["spec"]["containers"]
    assert "--stateless" in container["args"]


def test_every_acontext_variable_in_the_doc_is_a_setting() -> None:
    named = set(re.findall(r"\bACONTEXT_[A-Z_]+\b", DOC.read_text()))
    assert named >= SHARED
    assert named <= KNOWN, f"not settings: {sorted(named - KNOWN)}"
