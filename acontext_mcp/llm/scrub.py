"""Secret scrubbing: find credentials in text and replace each with a typed placeholder, `[REDACTED:aws_access_key]`.

Detection uses the regex catalogue of Yelp's `detect-secrets` (its maintained per-provider detectors: AWS, GitHub,
GitLab, Slack, Stripe, private keys, JWTs, ...), matched directly over the text because its file scanner costs
milliseconds per line; a few formats it lacks (current OpenAI and Anthropic keys, URL credentials, `password=`
values, bearer tokens) are added here. Its entropy detectors are left out: they flag commit hashes and UUIDs.

`ScrubbingProvider` wraps a `ChatProvider`: every string sent to the model (observer, learner, agentic search)
is scrubbed, and so is every answer, so nothing a model echoes is stored as a task, a skill or a search answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import anyio.to_thread

from acontext_mcp.llm.base import ChatProvider, ChatReply, ToolCall

# detect-secrets detectors whose matches are not credentials by themselves (entropy, keywords, public IPs).
_SKIPPED = {"Base64HighEntropyString", "HexHighEntropyString", "KeywordDetector", "IPPublicDetector"}
_EXTRA: tuple[tuple[str, str], ...] = (
    ("private_key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)"),
    ("openai_key", r"\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}"),
    ("anthropic_key", r"\bsk-ant-[a-z0-9]{2,8}-[A-Za-z0-9_-]{32,}"),
    ("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
    ("huggingface_token", r"\bhf_[A-Za-z0-9]{30,}\b"),
    ("aws_secret_key", r"(?i)aws_secret_access_key[\"']?\s*[:=]\s*[\"']?(?P<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"),
    ("url_credentials", r"://(?P<s>[^/\s:@]+:[^/\s@]+)@"),
    ("password", r"(?i)\b(?:password|passwd|pwd|secret|api_key|apikey|token)=(?P<s>[^\s&'\"<>]{4,})"),
    ("password", r"(?i)\b(?:password|passwd|secret)[\"']?\s*:\s*[\"'](?P<s>[^\"'\s]{4,})[\"']"),
    ("bearer_token", r"(?i)\bbearer\s+(?P<s>[A-Za-z0-9._~+/=-]{16,})"),
)


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int


def _kind(secret_type: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", secret_type.lower()).strip("_")


@cache
def _detectors() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(kind, pattern) for every detect-secrets regex detector, then ours."""
    found: list[tuple[str, re.Pattern[str]]] = [(kind, re.compile(p)) for kind, p in _EXTRA]
    try:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    except ImportError:  # an install without the dependency still scrubs the formats above
        return tuple(found)
    plugins: dict[str, Any] = get_mapping_from_secret_type_to_class()
    for secret_type, plugin in sorted(plugins.items()):
        if plugin.__name__ in _SKIPPED:
            continue
        kind = {"AWS Access Key": "aws_access_key", "Private Key": "private_key"}.get(secret_type, _kind(secret_type))
        found += [(kind, pattern) for pattern in getattr(plugin, "denylist", ())]
    return tuple(found)


_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.+/=")
_EDGE = ":/@'\" \t\r\n="


def _span(match: re.Match[str], text: str) -> tuple[int, int]:
    """The secret within a match: our `s` group, a detector's first group when it is the value (8+ characters),
    else the match without surrounding punctuation, stretched to the end of the token it cuts."""
    if "s" in match.re.groupindex:
        return match.span("s")
    groups = [i for i in range(1, (match.re.groups or 0) + 1) if match.group(i)]
    if groups and len(match.group(groups[0])) >= 8:
        start, end = match.span(groups[0])
    else:
        start, end = match.span()
        while start < end and text[start] in _EDGE:
            start += 1
        while end > start and text[end - 1] in _EDGE:
            end -= 1
    while end < len(text) and text[end] in _TOKEN_CHARS:
        end += 1
    return start, end


def find_secrets(text: str) -> list[Finding]:
    """The secrets in `text`, earliest first, overlapping matches merged (the first detector names it)."""
    spans = sorted(
        (Finding(kind, *_span(m, text)) for kind, pattern in _detectors() for m in pattern.finditer(text)
         if m.end() > m.start()),
        key=lambda f: (f.start, -f.end),
    )
    merged: list[Finding] = []
    for span in spans:
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Finding(last.kind, last.start, max(last.end, span.end))
        else:
            merged.append(span)
    return merged


def scrub(text: str) -> str:
    """`text` with every secret found replaced by `[REDACTED:<kind>]`."""
    if len(text) < 8:
        return text
    out, at = [], 0
    for finding in find_secrets(text):
        out += [text[at:finding.start], f"[REDACTED:{finding.kind}]"]
        at = finding.end
    return "".join(out) + text[at:] if out else text


def scrub_json(value: Any, clean: Callable[[str], str] = scrub) -> Any:
    """Every string in a JSON-like value scrubbed (keys kept)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [scrub_json(item, clean) for item in value]
    if isinstance(value, dict):
        return {key: scrub_json(item, clean) for key, item in value.items()}
    return value


class ScrubbingProvider:
    """A `ChatProvider` that scrubs secrets from what it sends and from what comes back."""

    def __init__(self, inner: ChatProvider) -> None:
        self._inner = inner

    @property
    def model(self) -> str:
        return self._inner.model

    async def chat(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> ChatReply:
        clean = await anyio.to_thread.run_sync(scrub_json, messages)  # a long transcript: off the event loop
        reply = await self._inner.chat(clean, tools)
        return ChatReply(
            content=scrub(reply.content) if reply.content else reply.content,
            tool_calls=[ToolCall(call.id, call.name, scrub(call.arguments)) for call in reply.tool_calls],
            model=reply.model, prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens,
            cached_tokens=reply.cached_tokens,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()
