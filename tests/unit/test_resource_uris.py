"""Every URI resources/list gives reads back: for any name the path rules allow, the URI we list
matches its template (as the SDK matches a resources/read) and gives back the same path."""

from __future__ import annotations

import unicodedata

from hypothesis import assume, given
from hypothesis import strategies as st
from mcp.shared.uri_template import UriTemplate

from acontext_mcp.errors import InvalidArgument
from acontext_mcp.resources.disks import TEMPLATE, artifact_uri
from acontext_mcp.resources.spaces import space_uri
from acontext_mcp.services.disks import paths

DISK = UriTemplate.parse(TEMPLATE)
SPACE = UriTemplate.parse("space://{space_id}/{+path}")
TRICKY = ["my docs", "a b#c?.md", "%2e%2e", "%41", "100%", "a+b", "q=1&r=2", "ü", "e\u0301", ";@:!$'()*,", "[x]", "~"]
segments = st.one_of(st.sampled_from(TRICKY), st.text(min_size=1, max_size=12))


def allowed(segment: str) -> str:
    try:
        return paths.filename(segment)
    except InvalidArgument:
        assume(False)
        raise


@given(st.lists(segments, min_size=1, max_size=4), st.text(alphabet="abcdef0123456789-", min_size=1, max_size=8))
def test_listed_disk_uris_read_back(raw: list[str], disk_id: str) -> None:
    names = [allowed(segment) for segment in raw]
    path = "/" + "/".join(names)
    matched = DISK.match(artifact_uri(disk_id, path))
    assert matched is not None
    assert matched["disk_id"] == disk_id
    assert paths.split(str(matched["path"])) == (paths.folder("/".join(names[:-1])), names[-1])


@given(st.lists(segments.filter(lambda s: "/" not in s and s.strip()), min_size=1, max_size=3))
def test_listed_space_uris_read_back(titles: list[str]) -> None:
    matched = SPACE.match(space_uri("s1", "/" + "/".join(titles)))
    assert matched is not None and matched["path"] == "/".join(titles)


def test_the_names_from_the_issue() -> None:
    assert artifact_uri("d", "/my docs/a b#c?.md") == "disk://d/my%20docs/a%20b%23c%3F.md"
    assert DISK.match(artifact_uri("d", "/%2e%2e/x.md"))["path"] == "%2e%2e/x.md"  # type: ignore[index]
    assert unicodedata.is_normalized("NFC", paths.filename("e\u0301"))
