"""Agent Skills `SKILL.md` files: render a page (a skill) and its entries, parse one back, check names.

A skill's front matter follows the Agent Skills specification: `name` (1-64 lowercase letters,
digits and single hyphens, equal to the folder name), `description` (1-1,024 characters),
optional `license`, `compatibility`, `metadata` (a string map), `allowed-tools`. The body is the
page's own text (an imported skill's body) or a title, then its entries by kind: procedures
(SOPs, from tasks that succeeded), warnings (from tasks that failed), facts (user preferences)
and notes (text blocks), each dated and linked to where it was learned. Rendering is a pure
function of its input, so the same page state gives the same bytes (history and rollback rely on it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from acontext_mcp.errors import InvalidArgument

MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_COMPATIBILITY = 500
NAME_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
OPTIONAL_FIELDS = ("license", "compatibility", "metadata", "allowed-tools")
ENTRY_TYPES = ("sop", "warning", "fact", "text")


@dataclass(frozen=True)
class Entry:
    """One entry of a skill: an sop, warning, fact or text block with where it was learned (or None)."""

    type: str
    title: str
    data: Mapping[str, Any]
    source: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class SkillDoc:
    name: str
    description: str
    title: str
    entries: Sequence[Entry] = ()
    body: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)  # license, compatibility, metadata, allowed-tools


def check_name(name: Any, field_name: str = "name") -> str:
    """A spec-valid skill name, or `InvalidArgument` saying what is wrong."""
    if not isinstance(name, str) or not name:
        raise InvalidArgument(f"{field_name} is missing: a skill needs a name of lowercase letters, digits and hyphens")
    if len(name) > MAX_NAME:
        raise InvalidArgument(f"{field_name} {name[:80]!r} is {len(name)} characters, over the limit of {MAX_NAME}")
    if not NAME_RE.match(name):
        raise InvalidArgument(f"{field_name} {name!r} is not a valid skill name: use lowercase letters, digits and "
                              "single hyphens, not starting or ending with a hyphen (e.g. landing-pages)")
    return name


def check_description(description: Any, field_name: str = "description") -> str:
    if not isinstance(description, str) or not description.strip():
        raise InvalidArgument(f"{field_name} is missing: say what the skill does and when to use it")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidArgument(f"{field_name} is {len(description)} characters, over the limit of {MAX_DESCRIPTION}")
    return description


def slug(text: str) -> str:
    """A spec-valid name made from a title or path: `/web/Landing_Pages` -> `web-landing-pages`."""
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:MAX_NAME].strip("-")
    return name or "skill"


def unique(name: str, taken: Iterable[str]) -> str:
    """`name`, or `name-2`, `name-3`, ... (kept within the length limit) when taken."""
    used = taken if isinstance(taken, AbstractSet) else set(taken)
    candidate, n = name, 1
    while candidate in used:
        n += 1
        suffix = f"-{n}"
        candidate = name[:MAX_NAME - len(suffix)].rstrip("-") + suffix
    return candidate


def one_line(text: str) -> str:
    return " ".join(text.split())


def describe(title: str, entries: Sequence[Entry]) -> str:
    """A description for a skill that has none: what it covers and when to load it, within the limit."""
    uses = [one_line(str(e.data.get("use_when", ""))) for e in entries if e.type == "sop"]
    uses = [u.rstrip(".") for u in uses if u]
    if uses:
        text = (f"Learned procedures for: {'; '.join(uses)}. Use when a task matches one of these, to follow "
                "the steps that worked before and avoid known mistakes.")
    else:
        text = f"What an agent learned about {one_line(title)}: warnings and facts to apply to such tasks."
    return text if len(text) <= MAX_DESCRIPTION else text[:MAX_DESCRIPTION - 1].rstrip() + "…"


def _learned(source: Mapping[str, Any] | None) -> str:
    if not source:
        return ""
    parts = [f"Learned {str(source.get('learned_at', ''))[:10]}".rstrip()]
    if source.get("session_id"):
        parts.append(f"session `{source['session_id']}`")
    if source.get("task_id"):
        parts.append(f"task `{source['task_id']}`")
    return "_" + ", ".join(parts) + "._"


def _scalar(value: Any) -> str:
    """A YAML scalar: JSON's double-quoted strings are valid YAML."""
    return json.dumps(value, ensure_ascii=False)


def front_matter(doc: SkillDoc) -> str:
    lines = ["---", f"name: {doc.name}", f"description: {_scalar(one_line(doc.description))}"]
    for key in OPTIONAL_FIELDS:
        value = doc.extra.get(key)
        if value is None:
            continue
        if key == "metadata" and isinstance(value, Mapping):
            lines.append("metadata:")
            lines += [f"  {_scalar(str(k))}: {_scalar(str(v))}" for k, v in value.items()]
        else:
            lines.append(f"{key}: {_scalar(value if isinstance(value, str) else str(value))}")
    return "\n".join([*lines, "---"])


def render(doc: SkillDoc) -> str:
    """The SKILL.md of a skill."""
    parts = [front_matter(doc), doc.body.strip() if doc.body.strip() else f"# {doc.title}"]
    by_type: dict[str, list[Entry]] = {}
    for entry in doc.entries:
        by_type.setdefault(entry.type, []).append(entry)
    if sops := by_type.get("sop"):
        parts.append("## Procedures")
        for e in sops:
            lines = [f"### {e.title}", "", f"**Use when:** {e.data.get('use_when', '')}"]
            if e.data.get("preferences"):
                lines.append(f"**Preferences:** {e.data['preferences']}")
            steps = e.data.get("tool_sops") or []
            if steps:
                lines += ["", *(f"{n}. `{s['tool_name']}`: {s['action']}" for n, s in enumerate(steps, 1))]
            if learned := _learned(e.source):
                lines += ["", learned]
            parts.append("\n".join(lines))
    if warnings := by_type.get("warning"):
        parts.append("## Warnings")
        for e in warnings:
            lines = [f"### {e.title}", "", str(e.data.get("text", ""))]
            if e.data.get("instead"):
                lines += ["", f"**Instead:** {e.data['instead']}"]
            if learned := _learned(e.source):
                lines += ["", learned]
            parts.append("\n".join(lines))
    if facts := by_type.get("fact"):
        parts.append("## Facts")
        parts.append("\n".join(f"- {one_line(str(e.data.get('text', '')))}"
                               + (f" {_learned(e.source)}" if e.source else "") for e in facts))
    if notes := by_type.get("text"):
        parts.append("## Notes")
        parts += [f"### {e.title}\n\n{str(e.data.get('text', '')).strip()}" for e in notes]
    return "\n\n".join(parts) + "\n"


def parse(text: str) -> tuple[dict[str, Any], str]:
    """A SKILL.md's front matter (checked: name, description and the optional fields) and its body.

    Raises `InvalidArgument` for a file without front matter, bad YAML, or fields the spec does not allow.
    """
    import yaml  # only imports need it

    if not text.startswith("---"):
        raise InvalidArgument("SKILL.md has no front matter: it must start with a '---' line, then name and "
                              "description, then '---'")
    match = re.match(r"^---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|$)", text, re.S)
    if match is None:
        raise InvalidArgument("SKILL.md's front matter is not closed: add a '---' line after it")
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"SKILL.md's front matter is not valid YAML: {one_line(str(exc))[:200]}") from None
    if not isinstance(meta, dict):
        raise InvalidArgument("SKILL.md's front matter must be a YAML mapping with name and description")
    unknown = sorted(str(k) for k in meta if k not in ("name", "description", *OPTIONAL_FIELDS))
    if unknown:
        raise InvalidArgument(f"SKILL.md's front matter has fields the spec does not allow: {', '.join(unknown)}")
    check_name(meta.get("name"))
    check_description(meta.get("description"))
    if "compatibility" in meta and len(str(meta["compatibility"])) > MAX_COMPATIBILITY:
        raise InvalidArgument(f"compatibility is over the limit of {MAX_COMPATIBILITY} characters")
    if "metadata" in meta and not isinstance(meta["metadata"], dict):
        raise InvalidArgument("metadata must be a map of strings")
    return meta, text[match.end():]
