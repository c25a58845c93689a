"""Hypothesis strategies for messages as the openai and anthropic SDKs send them."""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import strategies as st

text = st.text(max_size=40)
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)
b64 = st.binary(max_size=64).map(lambda raw: base64.b64encode(raw).decode())
media = st.sampled_from(["image/png", "image/jpeg", "application/pdf"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)


def _with_optional(base: dict[str, Any], **optional: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(base, optional=optional)


# ---- OpenAI --------------------------------------------------------------------------------

oa_text_part = _with_optional({"type": st.just("text"), "text": text})
oa_image_part = st.fixed_dictionaries({
    "type": st.just("image_url"),
    "image_url": _with_optional(
        {"url": st.one_of(st.just("https://example.com/a.png"),
                          st.builds(lambda m, d: f"data:{m};base64,{d}", media, b64))},
        detail=st.sampled_from(["auto", "low", "high"]),
    ),
})
oa_audio_part = st.fixed_dictionaries({
    "type": st.just("input_audio"),
    "input_audio": st.fixed_dictionaries({"data": b64, "format": st.sampled_from(["wav", "mp3"])}),
})
oa_file_part = st.fixed_dictionaries({
    "type": st.just("file"),
    "file": st.one_of(
        _with_optional({"file_data": st.builds(lambda d: f"data:application/pdf;base64,{d}", b64)}, filename=text),
        _with_optional({"file_data": b64}, filename=text),
        st.fixed_dictionaries({"file_id": ids}),
    ),
})
oa_user_parts = st.lists(st.one_of(oa_text_part, oa_image_part, oa_audio_part, oa_file_part), max_size=4)
oa_tool_call = st.fixed_dictionaries({
    "id": ids,
    "type": st.just("function"),
    "function": st.fixed_dictionaries({"name": ids, "arguments": st.one_of(text, json_values.map(repr))}),
})
oa_assistant_content = st.one_of(
    text,
    st.none(),
    st.lists(st.one_of(oa_text_part, st.fixed_dictionaries({"type": st.just("refusal"), "refusal": text})), max_size=3),
)

openai_messages = st.one_of(
    _with_optional(
        {"role": st.sampled_from(["system", "developer"]),
         "content": st.one_of(text, st.lists(oa_text_part, max_size=2))},
        name=ids,
    ),
    _with_optional({"role": st.just("user"), "content": st.one_of(text, oa_user_parts)}, name=ids),
    _with_optional(
        {"role": st.just("assistant")},
        content=oa_assistant_content,
        tool_calls=st.lists(oa_tool_call, min_size=1, max_size=3),
        refusal=text,
    ),
    st.fixed_dictionaries({
        "role": st.just("tool"),
        "tool_call_id": ids,
        "content": st.one_of(text, st.lists(oa_text_part, max_size=2)),
    }),
)

# ---- Anthropic -----------------------------------------------------------------------------

cache = st.just({"type": "ephemeral"})
an_text = _with_optional({"type": st.just("text"), "text": text}, cache_control=cache)
an_source = st.one_of(
    st.fixed_dictionaries({"type": st.just("base64"), "media_type": media, "data": b64}),
    st.fixed_dictionaries({"type": st.just("url"), "url": st.just("https://example.com/x")}),
    st.fixed_dictionaries({"type": st.just("file"), "file_id": ids}),
)
an_image = _with_optional({"type": st.just("image"), "source": an_source}, cache_control=cache)
an_document = _with_optional(
    {
        "type": st.just("document"),
        "source": st.one_of(
            an_source,
            st.fixed_dictionaries({"type": st.just("text"), "media_type": st.just("text/plain"), "data": text}),
        ),
    },
    title=text,
    context=text,
)
an_tool_result = _with_optional(
    {"type": st.just("tool_result"), "tool_use_id": ids},
    content=st.one_of(text, st.lists(st.one_of(an_text, an_image), max_size=2)),
    is_error=st.booleans(),
)
an_tool_use = st.fixed_dictionaries(
    {"type": st.just("tool_use"), "id": ids, "name": ids, "input": st.dictionaries(text, json_values, max_size=3)}
)
an_thinking = _with_optional({"type": st.just("thinking"), "thinking": text}, signature=text)
an_redacted = st.fixed_dictionaries({"type": st.just("redacted_thinking"), "data": text})

anthropic_messages = st.one_of(
    st.fixed_dictionaries({"role": st.just("system"), "content": st.one_of(text, st.lists(an_text, max_size=2))}),
    st.fixed_dictionaries({
        "role": st.just("user"),
        "content": st.one_of(text, st.lists(st.one_of(an_text, an_image, an_document, an_tool_result), max_size=4)),
    }),
    st.fixed_dictionaries({
        "role": st.just("assistant"),
        "content": st.one_of(text, st.lists(st.one_of(an_text, an_tool_use, an_thinking, an_redacted), max_size=4)),
    }),
)

# ---- Gemini (camelCase as the REST API writes it; `snake` turns a message into google-genai's dump) ----

ge_text = _with_optional({"text": text}, thoughtSignature=text)
ge_thought = _with_optional({"text": text, "thought": st.just(True)}, thoughtSignature=text)
ge_inline = st.fixed_dictionaries({"inlineData": st.fixed_dictionaries({
    "mimeType": st.sampled_from(["image/png", "application/pdf", "audio/wav", "text/plain"]), "data": b64})})
ge_file = st.fixed_dictionaries({"fileData": _with_optional(
    {"fileUri": st.just("https://example.com/f")}, mimeType=st.sampled_from(["image/png", "application/pdf"]))})
ge_call = st.fixed_dictionaries({"functionCall": _with_optional(
    {"id": ids, "name": ids}, args=st.dictionaries(text, json_values, max_size=3))})
ge_response = st.fixed_dictionaries({"functionResponse": st.fixed_dictionaries(
    {"id": ids, "name": ids, "response": st.dictionaries(text, json_values, max_size=3)})})

_SNAKE = {"inlineData": "inline_data", "fileData": "file_data", "functionCall": "function_call",
          "functionResponse": "function_response", "mimeType": "mime_type", "fileUri": "file_uri",
          "thoughtSignature": "thought_signature"}


def snake(message: dict[str, Any]) -> dict[str, Any]:
    def part(p: dict[str, Any]) -> dict[str, Any]:
        return {_SNAKE.get(k, k): ({_SNAKE.get(a, a): b for a, b in v.items()} if k in ("inlineData", "fileData")
                                   else v) for k, v in p.items()}
    return {**message, "parts": [part(p) for p in message["parts"]]}


_gemini_camel = st.one_of(
    st.fixed_dictionaries({"role": st.just("system"), "parts": st.lists(ge_text, max_size=2)}),
    st.fixed_dictionaries({
        "role": st.just("user"), "parts": st.lists(st.one_of(ge_text, ge_inline, ge_file, ge_response), max_size=4)}),
    st.fixed_dictionaries({
        "role": st.just("model"), "parts": st.lists(st.one_of(ge_text, ge_thought, ge_call, ge_inline), max_size=4)}),
)
gemini_messages = st.one_of(_gemini_camel, _gemini_camel.map(snake))
