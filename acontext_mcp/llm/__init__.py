"""Language-model clients behind one small interface (`ChatProvider`).

Nothing here imports a provider SDK at module level: the `openai` package loads on the first call.
"""

from __future__ import annotations

from acontext_mcp.llm.base import ChatProvider, ChatReply, ToolCall
from acontext_mcp.llm.openai_compat import OpenAICompatible
from acontext_mcp.settings import Settings

__all__ = ["ChatProvider", "ChatReply", "OpenAICompatible", "ToolCall", "provider_from_settings"]


def provider_from_settings(settings: Settings) -> ChatProvider | None:
    """The configured provider, or None when no key and no base URL are set."""
    if not settings.llm_enabled:
        return None
    return OpenAICompatible(
        model=settings.llm_model,
        api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else None,
        base_url=settings.openai_base_url,
        timeout_s=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        retry_base_s=settings.llm_retry_base_s,
    )
