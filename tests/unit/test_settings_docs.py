"""Every setting's env var is the documented contract, and the README's settings table names each one."""

from __future__ import annotations

from pathlib import Path

from acontext_mcp.settings import ENV_VARS


def test_env_var_table_names_are_the_documented_contract() -> None:
    assert ENV_VARS["data_dir"] == "ACONTEXT_MCP_HOME"
    assert ENV_VARS["max_message_bytes"] == "ACONTEXT_MAX_MESSAGE_BYTES"
    assert ENV_VARS["blob_threshold_bytes"] == "ACONTEXT_BLOB_THRESHOLD_BYTES"


def test_readme_documents_every_env_var() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    missing = [var for var in ENV_VARS.values() if f"`{var}`" not in readme]
    assert not missing, f"README settings table lacks {missing}"
