"""Each setting is declared once, on its field: `ENV_VARS`, the CLI flags and the README table follow from it."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from acontext_mcp.cli import build_parser
from acontext_mcp.settings import ENV_VARS, Settings, declared, setting, settings_table

README = Path(__file__).parents[2] / "README.md"


def readme_settings_table() -> str:
    """The markdown table under the README's `## Settings` heading."""
    section = README.read_text().split("\n## Settings\n", 1)[1]
    table = re.search(r"^\|.*?(?=\n(?!\|))", section, re.MULTILINE | re.DOTALL)
    assert table, "README's Settings section has no table"
    return table.group(0)


def test_readme_table_is_what_the_fields_declare() -> None:
    """Every setting, its flag, env var and default text, in field order."""
    assert readme_settings_table() == settings_table(), (
        "README's settings table differs from the fields; paste the output of: python -c "
        "'from acontext_mcp.settings import settings_table; print(settings_table())'")


def test_env_vars_come_from_the_fields() -> None:
    assert list(ENV_VARS) == list(Settings.model_fields)
    assert {name: declared(field, "env") for name, field in Settings.model_fields.items()} == ENV_VARS
    assert len(set(ENV_VARS.values())) == len(ENV_VARS), "two settings share an env var"
    assert ENV_VARS["port"] == "ACONTEXT_MCP_PORT" and ENV_VARS["openai_api_key"] == "OPENAI_API_KEY"
    assert ENV_VARS["data_dir"] == "ACONTEXT_MCP_HOME"
    assert ENV_VARS["max_message_bytes"] == "ACONTEXT_MAX_MESSAGE_BYTES"
    assert ENV_VARS["blob_threshold_bytes"] == "ACONTEXT_BLOB_THRESHOLD_BYTES"


def test_each_env_var_sets_its_field(tmp_path: Path) -> None:
    env = {ENV_VARS["data_dir"]: str(tmp_path), ENV_VARS["port"]: "9001", ENV_VARS["log_level"]: "debug",
           ENV_VARS["allowed_hosts"]: "a.example:*, b.example", ENV_VARS["stateless_http"]: "true"}
    settings = Settings.load(env, port=9002)
    assert (settings.data_dir, settings.port, settings.log_level) == (tmp_path, 9002, "DEBUG")
    assert settings.allowed_hosts == ("a.example:*", "b.example") and settings.stateless_http is True


def test_field_constraints_still_validate() -> None:
    with pytest.raises(ValidationError, match="port"):
        Settings.load({ENV_VARS["port"]: "70000"})
    with pytest.raises(ValidationError, match="url_secret"):
        Settings.load({ENV_VARS["url_secret"]: "short"})
    with pytest.raises(ValidationError, match="ACONTEXT_DATABASE_URL must be a postgresql:// URL"):
        Settings.load({ENV_VARS["database_url"]: "mysql://x"})


def test_cli_flags_are_the_declared_ones() -> None:
    flags = {action.option_strings[0]: action.dest for action in build_parser()._actions
             if isinstance(action, argparse.Action) and action.dest in Settings.model_fields}
    assert flags == {declared(field, "flag"): name for name, field in Settings.model_fields.items()
                     if declared(field, "flag")}


def test_a_setting_without_a_plain_default_must_say_what_the_readme_shows() -> None:
    with pytest.raises(TypeError, match="ACONTEXT_X: a setting without a plain default needs shown="):
        setting(env="ACONTEXT_X", doc="x", default_factory=list)
