"""Path rules: normal folders and names pass normalised; hostile ones are refused with a clear error."""

from __future__ import annotations

import pytest

from acontext_mcp.errors import InvalidArgument
from acontext_mcp.services.disks import paths


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", "/"), ("/", "/"), ("todo", "/todo/"), ("/todo", "/todo/"), ("todo/", "/todo/"), ("/a/b c/", "/a/b c/"),
     ("/caf\u0065\u0301/", "/caf\u00e9/"), ("/%2e%2e/", "/%2e%2e/"), ("/.hidden/", "/.hidden/")],
    ids=["empty", "root", "bare", "leading", "trailing", "nested-space", "nfc", "percent-literal", "dotfile"],
)
def test_folder_normalises(value: str, expected: str) -> None:
    assert paths.folder(value) == expected


HOSTILE_FOLDERS = {
    "dotdot": ("../etc/", "'..'"),
    "dotdot-inside": ("/todo/../../etc/", "'..'"),
    "dot": ("/a/./b/", "'.'"),
    "double-slash": ("//etc/passwd/", "empty name"),
    "url": ("file:///etc/", "empty name"),
    "backslash": ("..\\..\\windows\\", "backslash"),
    "drive": ("C:\\Windows\\", "backslash"),
    "nul": ("/todo/\x00/", "NUL"),
    "newline": ("/todo\n/", "U+000A"),
    "escape": ("/\x1b[31m/", "U+001B"),
    "bidi": ("/\u202egnp.exe/", "U+202E"),
    "line-separator": ("/a\u2028b/", "U+2028"),
    "spaces": ("/ ../", "whitespace"),
    "long-segment": ("/" + "a" * 256 + "/", "over the limit of 255"),
    "long-utf8-segment": ("/" + "é" * 128 + "/", "256 bytes"),
    "long-total": ("/" + "/".join(["abcdefgh"] * 120) + "/", "over the limit of 1024"),
}


@pytest.mark.parametrize(("value", "expected"), HOSTILE_FOLDERS.values(), ids=HOSTILE_FOLDERS.keys())
def test_folder_refuses_hostile(value: str, expected: str) -> None:
    with pytest.raises(InvalidArgument, match="file_path") as caught:
        paths.folder(value)
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", "empty name"), (".", "'.'"), ("..", "'..'"), ("a/b.md", "contains '/'"), ("x\x00.md", "NUL"),
     ("a" * 256, "over the limit"), ("   ", "whitespace"), ("a\\b", "backslash"), ("r\u202efdp.exe", "U+202E")],
    ids=["empty", "dot", "dotdot", "slash", "nul", "long", "blank", "backslash", "bidi"],
)
def test_filename_refuses_hostile(value: str, expected: str) -> None:
    with pytest.raises(InvalidArgument, match="filename") as caught:
        paths.filename(value)
    assert expected in str(caught.value)


def test_full_path_limit_counts_folder_and_name() -> None:
    folder = paths.folder("/" + "/".join(["a" * 200] * 5) + "/")
    with pytest.raises(InvalidArgument, match="over the limit of 1024"):
        paths.full_path(folder, "b" * 30)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("todo/todo.md", ("/todo/", "todo.md")), ("a.md", ("/", "a.md")), ("/x/y/z.txt", ("/x/y/", "z.txt"))],
)
def test_split(value: str, expected: tuple[str, str]) -> None:
    assert paths.split(value) == expected


def test_split_refuses_a_folder() -> None:
    with pytest.raises(InvalidArgument, match="names a folder"):
        paths.split("todo/")


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("**/*.md", "a.md", True),
        ("**/*.md", "todo/deep/a.md", True),
        ("**/*.md", "todo/a.txt", False),
        ("*.md", "a.md", True),
        ("*.md", "todo/a.md", False),
        ("/todo/*.md", "todo/a.md", True),
        ("todo/*", "todo/deep/a.md", False),
        ("todo/**", "todo/deep/a.md", True),
        ("todo/**/a.md", "todo/a.md", True),
        ("report-??.txt", "report-01.txt", True),
        ("report-??.txt", "report-1.txt", False),
        ("[ab].md", "b.md", True),
        ("[!ab].md", "b.md", False),
    ],
)
def test_glob_match(pattern: str, path: str, matches: bool) -> None:
    assert paths.glob_match(paths.glob_pattern(pattern), path.split("/")) is matches


@pytest.mark.parametrize("pattern", ["", "/", "a\x00", "a\\b", "*" * 1025])
def test_glob_pattern_refuses(pattern: str) -> None:
    with pytest.raises(InvalidArgument, match="pattern"):
        paths.glob_pattern(pattern)
