"""Secret scrubbing (issue 22, finding 7): a corpus of secret formats and look-alikes, what reaches the LLM and
what comes back from it, and `ACONTEXT_REDACT_STORED`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client

from acontext_mcp import Settings
from acontext_mcp.container import provider_from_settings
from acontext_mcp.llm.scrub import find_secrets, scrub
from acontext_mcp.server import build_server
from tests.fakes.openai_server import ScriptedOpenAI
from tests.support.mcp import call
from tests.support.secret_corpus import LOOKALIKES, SECRETS

pytestmark = pytest.mark.anyio


def scores() -> tuple[float, float, int, int]:
    """Precision and recall over the corpus: a secret text counts as found when its value is gone after scrubbing."""
    found = sum(1 for _, text in SECRETS if find_secrets(text) and scrub(text) != text)
    false = sum(1 for text in LOOKALIKES if find_secrets(text))
    return found / (found + false), found / len(SECRETS), found, false


def test_corpus_precision_and_recall() -> None:
    assert len(SECRETS) >= 30 and len(LOOKALIKES) >= 30
    assert len({kind for kind, _ in SECRETS}) >= 30
    precision, recall, _, _ = scores()
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)


@pytest.mark.parametrize(("kind", "text"), SECRETS, ids=[kind for kind, _ in SECRETS])
def test_each_secret_leaves_a_typed_placeholder(kind: str, text: str) -> None:
    cleaned = scrub(text)
    assert "[REDACTED:" in cleaned
    for word in ("S3cr3tPassw0rd", "Tr0ub4dor3xyz", "AKIAZ7Q4XK2M5N8P3R6T", "ghp_R4nD0m", "MIIEowIBAAKCAQEAvX8r"):
        assert word not in cleaned


def test_scrubbed_json_stays_json() -> None:
    arguments = json.dumps({"url": "postgresql://admin:S3cr3tPassw0rd@db/x", "key": "AKIAZ7Q4XK2M5N8P3R6T"})
    assert "S3cr3t" not in json.loads(scrub(arguments))["url"]


async def test_secrets_neither_reach_the_llm_nor_come_back(tmp_path: Path) -> None:
    secret_text = "deploy with AKIAZ7Q4XK2M5N8P3R6T and password=Tr0ub4dor3xyz"
    with ScriptedOpenAI() as fake:
        echo = {"d": "use sk_live_4eC39HqLyjWDarjtT1zdp7dc"}
        fake.reply(content="noted AKIAZ7Q4XK2M5N8P3R6T", tool_calls=[("insert_task", echo)])
        provider = provider_from_settings(Settings(data_dir=tmp_path, openai_base_url=fake.base_url, llm_max_retries=0))
        assert provider is not None
        reply = await provider.chat([{"role": "user", "content": secret_text}], [])
        await provider.aclose()
        sent = json.dumps(fake.requests)
    assert "AKIAZ7Q4XK2M5N8P3R6T" not in sent and "Tr0ub4dor3xyz" not in sent
    assert "[REDACTED:aws_access_key]" in sent
    assert reply.content == "noted [REDACTED:aws_access_key]"
    assert "sk_live" not in reply.tool_calls[0].arguments and json.loads(reply.tool_calls[0].arguments)


@pytest.mark.parametrize("redact_stored", [False, True])
async def test_stored_messages_are_redacted_only_when_asked(data_dir: Path, redact_stored: bool) -> None:
    settings = Settings(data_dir=data_dir, redact_stored=redact_stored)
    async with Client(build_server(settings)) as client:
        session = (await call(client, "create_session"))["id"]
        text = "my key AKIAZ7Q4XK2M5N8P3R6T"
        await call(client, "send_message", session_id=session, message={"role": "user", "content": text})
        stored = (await call(client, "get_messages", session_id=session))["items"][0]["content"]
    assert (stored == "my key [REDACTED:aws_access_key]") is redact_stored
    assert (stored == text) is not redact_stored
