"""REST: learning spaces and agent skills (SDK 0.1.x routes) over the real HTTP app, in process."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from acontext_mcp import Settings
from acontext_mcp.server import build_http_app
from tests.integration.test_rest_api import BASE, ok, refused

SKILL_MD = "---\nname: say-hello\ndescription: Say hello politely. Use when greeting someone.\n---\n\n# Hello\n"


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    with TestClient(build_http_app(settings), base_url=BASE) as client:
        yield client


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_learning_spaces_and_their_sessions(api: TestClient) -> None:
    space = ok(api.post("/api/v1/learning_spaces", json={"meta": {"name": "agent"}}))
    assert space["meta"] == {"name": "agent", "confirm_before_learning": False} and space["user_id"] is None
    assert ok(api.get(f"/api/v1/learning_spaces/{space['id']}"))["id"] == space["id"]
    patched = ok(api.patch(f"/api/v1/learning_spaces/{space['id']}", json={"meta": {"confirm_before_learning": True}}))
    assert patched["meta"] == {"name": "agent", "confirm_before_learning": True}
    listed = ok(api.get("/api/v1/learning_spaces", params={"filter_by_meta": json.dumps({"name": "agent"})}))
    assert [s["id"] for s in listed["items"]] == [space["id"]] and listed["has_more"] is False

    session = ok(api.post("/api/v1/session", json={}))
    learning = ok(api.post(f"/api/v1/learning_spaces/{space['id']}/learn", json={"session_id": session["id"]}))
    assert (learning["learning_space_id"], learning["session_id"], learning["status"]) == (
        space["id"], session["id"], "completed")  # nothing to observe or learn
    assert [s["session_id"] for s in ok(api.get(f"/api/v1/learning_spaces/{space['id']}/sessions"))] == [
        session["id"]]
    assert "'session_id' is required" in refused(api.post(f"/api/v1/learning_spaces/{space['id']}/learn", json={}),
                                                 400)
    assert "one learning space" in refused(api.post(f"/api/v1/learning_spaces/{space['id']}/skills",
                                                    json={"skill_id": "x"}), 501)
    ok(api.delete(f"/api/v1/learning_spaces/{space['id']}"))
    refused(api.get(f"/api/v1/learning_spaces/{space['id']}"), 404)


def test_agent_skills_upload_catalog_files_zip_and_delete(api: TestClient) -> None:
    space = ok(api.post("/api/v1/learning_spaces", json={}))
    upload = {"file": ("say-hello.zip", zipped({"say-hello/SKILL.md": SKILL_MD}), "application/zip")}
    skill = ok(api.post("/api/v1/agent_skills", files=upload, data={"meta": json.dumps({"space_id": space["id"]})}))
    assert (skill["name"], skill["file_index"]) == ("say-hello", [{"path": "SKILL.md", "mime": "text/markdown"}])
    assert ok(api.get("/api/v1/agent_skills"))["items"][0]["name"] == "say-hello"
    assert [s["id"] for s in ok(api.get(f"/api/v1/learning_spaces/{space['id']}/skills"))] == [skill["id"]]
    file = ok(api.get(f"/api/v1/agent_skills/{skill['id']}/file", params={"file_path": "SKILL.md"}))
    assert file["content"]["raw"].startswith("---\nname: say-hello\n")
    archive = zipfile.ZipFile(io.BytesIO(api.get(f"/api/v1/agent_skills/{skill['id']}/download_zip").content))
    assert archive.read("say-hello/SKILL.md").decode() == file["content"]["raw"]

    bad = {"file": ("x.zip", zipped({"../x/SKILL.md": SKILL_MD}), "application/zip")}
    assert "unsafe path" in refused(api.post("/api/v1/agent_skills", files=bad), 400)
    bare = {"file": ("x.zip", zipped({"SKILL.md": "# no front matter\n"}), "application/zip")}
    assert "no front matter" in refused(api.post("/api/v1/agent_skills", files=bare), 400)

    ok(api.delete(f"/api/v1/agent_skills/{skill['id']}"))
    refused(api.get(f"/api/v1/agent_skills/{skill['id']}"), 404)
