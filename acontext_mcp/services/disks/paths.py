"""Artifact paths: normalise folders and file names, refuse anything that could escape a disk.

A folder is written `/todo/` (root `/`); a file name is one segment. Paths are names inside a
disk's records only (bytes live under random storage keys), but hostile or confusing names are
refused outright rather than silently rewritten, so what the caller stored is what it reads back.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from fnmatch import fnmatchcase
from itertools import accumulate

from acontext_mcp.errors import InvalidArgument

MAX_SEGMENT_BYTES = 255
MAX_PATH_CHARS = 1024
MAX_PATTERN_CHARS = 1024
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def folder(value: str, field: str = "file_path") -> str:
    """`todo`, `/todo`, `/todo/` -> `/todo/`; `` and `/` -> `/`. Raises `InvalidArgument`."""
    value = unicodedata.normalize("NFC", value)
    if len(value) > MAX_PATH_CHARS:
        raise InvalidArgument(f"{field} is {len(value)} characters, over the limit of {MAX_PATH_CHARS}; "
                              "use a shorter folder path")
    inner = value.removeprefix("/").removesuffix("/")
    if not inner:
        return "/"
    segments = inner.split("/")
    for segment in segments:
        _check_segment(segment, field, value)
    return f"/{'/'.join(segments)}/"


def filename(value: str, field: str = "filename") -> str:
    """One file name, no folders. Raises `InvalidArgument`."""
    value = unicodedata.normalize("NFC", value)
    if "/" in value:
        raise InvalidArgument(f"{field} {value!r} contains '/'; pass only the name and put folders in file_path")
    _check_segment(value, field, value)
    return value


def full_path(folder_path: str, name: str, field: str = "filename") -> str:
    """`/todo/` + `a.md` -> `/todo/a.md`, refusing a total over `MAX_PATH_CHARS`."""
    joined = f"{folder_path}{name}"
    if len(joined) > MAX_PATH_CHARS:
        raise InvalidArgument(f"{field}: the full path is {len(joined)} characters, over the limit of "
                              f"{MAX_PATH_CHARS}; use a shorter folder or file name")
    return joined


def split(value: str, field: str = "path") -> tuple[str, str]:
    """`todo/todo.md` -> (`/todo/`, `todo.md`). Raises `InvalidArgument`."""
    head, _, tail = value.rpartition("/")
    if not tail:
        raise InvalidArgument(f"{field} {value!r} names a folder; add the file name, e.g. 'todo/todo.md'")
    folder_path, name = folder(head, field), filename(tail, field)
    return folder_path, name


def glob_pattern(pattern: str) -> list[str]:
    """Split a glob such as `**/*.md` or `/todo/*.md` into segments. Raises `InvalidArgument`."""
    if not pattern.strip("/"):
        raise InvalidArgument("pattern is empty; try '**/*' for every file or '**/*.md' for markdown files")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise InvalidArgument(f"pattern is {len(pattern)} characters, over the limit of {MAX_PATTERN_CHARS}")
    if "\x00" in pattern or "\\" in pattern:
        raise InvalidArgument("pattern must not contain NUL bytes or backslashes; separate folders with '/'")
    return pattern.strip("/").split("/")


def glob_match(pattern: Sequence[str], parts: Sequence[str]) -> bool:
    """Whether path segments match glob segments: `**` spans any number of folders, `*`/`?`/`[]` one segment."""
    reachable = [True] + [False] * len(parts)  # reachable[j]: the pattern so far matches parts[:j]
    for segment in pattern:
        if segment == "**":
            reachable = list(accumulate(reachable, lambda seen, here: seen or here))
        else:
            reachable = [False] + [reachable[j] and fnmatchcase(parts[j], segment) for j in range(len(parts))]
    return reachable[-1]


def _check_segment(segment: str, field: str, whole: str) -> None:
    where = f"{field} {whole!r}"
    if not segment:
        raise InvalidArgument(f"{where} has an empty name (from '//' or nothing at all); "
                              "use names separated by single '/', e.g. '/todo/'")
    if segment in (".", ".."):
        raise InvalidArgument(f"{where} contains {segment!r}, which is not allowed: paths stay inside the disk; "
                              "write the folder from the disk root, e.g. '/todo/'")
    if "\\" in segment:
        raise InvalidArgument(f"{where} contains a backslash; separate folders with '/'")
    for char in segment:
        if char == "\x00":
            raise InvalidArgument(f"{where} contains a NUL byte; remove it")
        if unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS:
            raise InvalidArgument(f"{where} contains the control character U+{ord(char):04X}; use printable names")
        if unicodedata.category(char) == "Cf":  # zero-width space and joiners, soft hyphen, BOM: invisible
            raise InvalidArgument(f"{where} contains the invisible character U+{ord(char):04X}; remove it")
        if (plain := unicodedata.normalize("NFKC", char)) != char and any(c in "./\\:" or c.isspace() for c in plain):
            raise InvalidArgument(f"{where} contains U+{ord(char):04X}, which looks like {plain!r}; "
                                  f"write {plain.strip() or 'a plain space'!r} instead")
    if segment != segment.strip():
        raise InvalidArgument(f"{where} has a name with leading or trailing whitespace; trim it")
    if (size := len(segment.encode())) > MAX_SEGMENT_BYTES:
        raise InvalidArgument(f"{where} has a name of {size} bytes, over the limit of {MAX_SEGMENT_BYTES}; "
                              "shorten it")
