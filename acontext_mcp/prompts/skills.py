"""Prompt: use_skills(space_id, task), the space's best SOPs for a task, ready to follow."""

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS
from pydantic import Field

from acontext_mcp.errors import AcontextError
from acontext_mcp.formats.markdown import render_sop
from acontext_mcp.glue import service_of

TOP_SOPS = 3


def register(server: MCPServer) -> None:
    @server.prompt()
    async def use_skills(
        ctx: Context,
        space_id: Annotated[str, Field(description="The space whose skills to use")],
        task: Annotated[str, Field(description="The task to do")],
    ) -> str:
        """The task, with the space's most relevant SOPs (tool steps that worked before) to follow."""
        try:
            found = await service_of(ctx).search.experience_search(space_id, task, limit=TOP_SOPS, types=["sop"])
        except AcontextError as exc:
            raise MCPError(INVALID_PARAMS, str(exc)) from exc
        if not found.cited_blocks:
            return f"Task: {task}\n\nThis space has no learned procedure for this yet; work it out step by step."
        sops = "\n\n".join(
            render_sop(block, heading="###") + f"\n\n_From {block.path} (block {block.block_id})_"
            for block in found.cited_blocks
        )
        skills = "".join(f"- `{skill.name}` ({skill.uri}): load it whole with get_skill\n" for skill in found.skills)
        return (
            f"Task: {task}\n\n"
            "These procedures worked for similar tasks before. Follow the one that fits, adapting its steps "
            "to the details of this task; if none fits, work it out step by step.\n\n"
            f"## Skills from this space\n\n{sops}\n"
            + (f"\nThey come from these skills (with their warnings and facts):\n{skills}" if skills else "")
        )
