"""Render space blocks as Markdown for people and models: pages, folder indexes, SOPs as numbered steps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar


class Block(Protocol):
    """What rendering needs of a block (services.models.Block fits)."""

    @property
    def type(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def data(self) -> dict[str, Any]: ...


B = TypeVar("B", bound=Block)


def render_sop(block: Block, heading: str = "##") -> str:
    """An SOP: when to use it, the preferences behind it, and its tool steps, numbered."""
    data = block.data
    lines = [f"{heading} {block.title}", "", f"**Use when:** {data.get('use_when', '')}"]
    if data.get("preferences"):
        lines.append(f"**Preferences:** {data['preferences']}")
    steps = data.get("tool_sops", [])
    if steps:
        lines += ["", *(f"{n}. `{step['tool_name']}`: {step['action']}" for n, step in enumerate(steps, 1))]
    return "\n".join(lines)


def render_page(page: Block, blocks: Sequence[Block]) -> str:
    """A page with its text and SOP blocks, in order."""
    parts = [f"# {page.title}", f"_Page {page.path}_"]
    for block in blocks:
        if block.type == "sop":
            parts.append(render_sop(block))
        else:
            parts.append(f"## {block.title}\n\n{block.data.get('text', '')}")
    if not blocks:
        parts.append("_This page is empty._")
    return "\n\n".join(parts) + "\n"


def render_folder(title: str, path: str, children: Sequence[B], link: Callable[[B], str]) -> str:
    """An index of a folder (or the space's root): its folders and pages, linked."""
    lines = [f"# {title}", f"_Folder {path}_", ""]
    lines += [f"- [{child.title}]({link(child)}) ({child.type})" for child in children]
    if not children:
        lines.append("_This folder is empty._")
    return "\n".join(lines) + "\n"
