"""Fuzzing the disk path rules: any input is either refused with InvalidArgument or normalised
to a path that stays inside the disk. Budget follows HYPOTHESIS_PROFILE (ci: 100 examples)."""

from __future__ import annotations

import posixpath

from hypothesis import example, given
from hypothesis import strategies as st

from acontext_mcp.errors import InvalidArgument
from acontext_mcp.services.disks import paths

# Characters that make paths interesting: separators, dots, controls, unicode look-alikes.
TRICKY = st.sampled_from(["/", "\\", ".", "..", "\x00", "\n", "%2e", "\u202e", "\uff0e", "\u2215", ":", "~", " ", "*"])
PATHISH = st.lists(st.one_of(TRICKY, st.text(min_size=1, max_size=8)), max_size=12).map("".join)


def confined(path: str) -> bool:
    return path.startswith("/") and posixpath.normpath(path).startswith("/") and ".." not in path.split("/")


@given(PATHISH)
@example("../../etc/passwd")
@example("/todo/../../../etc/")
def test_folder_is_refused_or_confined(value: str) -> None:
    try:
        normalised = paths.folder(value)
    except InvalidArgument as error:
        assert "file_path" in str(error)
        return
    assert confined(normalised) and normalised.endswith("/")
    assert "\x00" not in normalised and "\\" not in normalised
    assert paths.folder(normalised) == normalised  # normalising is idempotent


@given(PATHISH, PATHISH)
@example("/todo/", "../passwd")
def test_file_path_is_refused_or_confined(folder: str, name: str) -> None:
    """As the disk service composes a path: folder and name each checked, then joined."""
    try:
        path = paths.full_path(paths.folder(folder), paths.filename(name))
    except InvalidArgument:
        return
    assert confined(path) and not path.endswith("/")
    assert paths.split(path) == (paths.folder(folder), paths.filename(name))


@given(PATHISH)
@example("todo/../../etc/passwd")
def test_split_is_refused_or_confined(value: str) -> None:
    try:
        folder, name = paths.split(value)
    except InvalidArgument:
        return
    assert confined(folder + name) and "/" not in name
