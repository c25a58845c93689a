"""Language-model clients behind one small interface (`ChatProvider`).

Nothing here imports a provider SDK at module level: the `openai` package loads on the first call.
"""

from __future__ import annotations

from acontext_mcp.llm.base import ChatProvider, ChatReply, ToolCall
from acontext_mcp.llm.openai_compat import OpenAICompatible

__all__ = ["ChatProvider", "ChatReply", "OpenAICompatible", "ToolCall"]
