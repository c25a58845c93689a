"""Skills: what the learner learns becomes Agent Skills (pages rendered to SKILL.md), versioned and reversible,
exported to folders hosts load. The learner's LLM is the scripted OpenAI server, as in test_learner."""
# ruff: noqa: F811 (the `fake` and `router` fixtures are imported, then named as arguments)

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from acontext_mcp import Container, Settings
from acontext_mcp.server import build_server
from acontext_mcp.services.skills.service import MANIFEST
from tests.fakes import seed
from tests.fakes.openai_server import ScriptedOpenAI
from tests.integration.test_learner import LANDING_SOP
from tests.integration.test_observer import llm_settings
from tests.support.llm import Router, fake, router  # noqa: F401 (fixtures)
from tests.support.mcp import call, call_error

pytestmark = pytest.mark.anyio

SKILLS_REF = "skills-ref@0.1.5"  # the Agent Skills reference validator (npm), pinned
DESCRIPTION = ("Build product landing pages with Tailwind CSS in a single index.html and check them in a browser. "
               "Use when asked for a landing page, hero section or marketing page.")
FAILURE = {"text": "Opening the page before the Tailwind CDN script loads shows it unstyled",
           "instead": "Wait for the network to be idle before judging the rendered page"}
SECOND = {"use_when": "Add a pricing section to an existing landing page",
          "preferences": "", "tool_sops": [{"tool_name": "edit_file", "action": "insert the pricing grid"}]}
THIRD = {"use_when": "Deploy a static landing page to GitHub Pages",
         "preferences": "", "tool_sops": [{"tool_name": "git_push", "action": "push to the gh-pages branch"}]}


@pytest.fixture
async def learning(settings: Settings, fake: ScriptedOpenAI) -> AsyncIterator[Client]:
    settings = llm_settings(settings, fake.base_url, learner_retry_base_s=0.01, learner_max_attempts=2)
    async with Client(build_server(settings)) as connected:
        yield connected


async def task_done(client: Client, router: Router, session_id: str, order: int, description: str,
                    status: str = "success", preference: str | None = None, tool: str | None = None) -> None:
    """The user's message (with a preference), the agent calling `tool`; the observer records it as task `order`
    and it ends with `status`."""
    said = f"{description}. {preference}" if preference else description
    await call(client, "send_message", session_id=session_id, message={"role": "user", "content": said})
    if tool:
        await call(client, "send_message", session_id=session_id, message={
            "role": "assistant", "content": None,
            "tool_calls": [{"id": f"call_{order}", "type": "function", "function": {"name": tool, "arguments": "{}"}}]})
        await call(client, "send_message", session_id=session_id,
                   message={"role": "tool", "tool_call_id": f"call_{order}", "content": "done"})
    turn: list[tuple[str, Any]] = [("insert_task", {"after_task_order": order - 1, "task_description": description})]
    if preference:
        turn.append(("append_user_preference", {"task_order": order, "preference": preference}))
    router.calls("observer", turn, match=description)
    await call(client, "flush", session_id=session_id)
    await call(client, "update_task_status", session_id=session_id, task_order=order, status=status)


async def seed_skill(client: Client, router: Router) -> tuple[str, str]:
    """The seed's loop: messages in, the observer's tasks, the learner's first SOP on a new page (a skill)."""
    space_id = (await call(client, "create_space", name="agent"))["id"]
    session_id = (await call(client, "create_session", space_id=space_id))["id"]
    ids = [(await call(client, "send_message", session_id=session_id, message=m))["id"] for m in seed.MESSAGES]
    router.calls("observer", *seed.script(ids))
    router.calls("extract", [("submit_sop", LANDING_SOP)])
    router.calls("place",
                 [("create_folder", {"parent_path": "/", "title": "web"}),
                  ("create_page", {"parent_path": "/web", "title": "landing_pages", "description": DESCRIPTION})],
                 [("place_sop", {"page_path": "/web/landing_pages"})])
    await call(client, "flush", session_id=session_id)
    [item] = (await call(client, "flush_learning", space_id=space_id))["items"]
    assert item["status"] == "learned", item
    return space_id, session_id


async def test_the_seed_loop_ends_in_a_skill_with_sop_and_fact_and_a_failure_adds_a_warning(
    learning: Client, router: Router
) -> None:
    space_id, session_id = await seed_skill(learning, router)
    [skill] = (await call(learning, "list_skills", space_id=space_id))["items"]
    assert (skill["name"], skill["description"], skill["path"], skill["version"]) == (
        "landing-pages", DESCRIPTION, "/web/landing_pages", 1)
    md = (await call(learning, "get_skill", space_id=space_id, name="landing-pages"))["skill_md"]
    assert md.startswith(f'---\nname: landing-pages\ndescription: {json.dumps(DESCRIPTION)}\n---\n\n# landing_pages\n')
    assert "## Procedures" in md and "1. `write_file`: write index.html" in md
    assert f"## Facts\n\n- {seed.PREFERENCE} _Learned " in md and f"session `{session_id}`" in md
    print(md)  # the seed scenario's skill (shown with -s)

    router.calls("warn", [("submit_warning", FAILURE)])
    router.calls("place", [("place_sop", {"page_path": "/web/landing_pages"})])
    await task_done(learning, router, session_id, 4, "Check the new landing page in the browser", status="failed",
                    preference="Always test on a phone-sized viewport")
    [*_, item] = (await call(learning, "flush_learning", space_id=space_id))["items"]
    warning = await call(learning, "get_block", space_id=space_id, block_id=item["block_id"])
    assert (warning["type"], warning["data"], warning["source"]["task_id"]) == ("warning", FAILURE, item["task_id"])
    md = (await call(learning, "get_skill", space_id=space_id, name="landing-pages"))["skill_md"]
    assert f"## Warnings\n\n### {FAILURE['text']}\n\n{FAILURE['text']}\n\n**Instead:** {FAILURE['instead']}" in md
    assert "- Always test on a phone-sized viewport _Learned " in md
    history = (await call(learning, "skill_history", space_id=space_id, name="landing-pages"))["versions"]
    assert [(v["version"], v["author"], v["task_id"]) for v in history] == [
        (2, "learner", item["task_id"]), (1, "learner", history[1]["task_id"])]
    found = await call(learning, "experience_search", space_id=space_id, query="tailwind landing page")
    assert found["skills"][0]["uri"] == f"skill://{space_id}/landing-pages/SKILL.md"
    read = await learning.read_resource(f"skill://{space_id}/landing-pages/SKILL.md")
    assert read.contents[0].text == md  # type: ignore[union-attr]


async def test_three_learned_changes_and_an_edit_are_four_versions_that_diff_and_roll_back(
    learning: Client, router: Router
) -> None:
    space_id, session_id = await seed_skill(learning, router)
    for order, sop in ((4, SECOND), (5, THIRD)):
        router.calls("extract", [("submit_sop", sop)], match=sop["use_when"])
        router.calls("place", [("place_sop", {"page_path": "/web/landing_pages"})], match=sop["use_when"])
        await task_done(learning, router, session_id, order, sop["use_when"], tool=sop["tool_sops"][0]["tool_name"])
        await call(learning, "flush_learning", space_id=space_id)
    third = next(e for e in (await call(learning, "list_space", space_id=space_id))["entries"]
                 if e["title"] == THIRD["use_when"])
    await call(learning, "update_block", space_id=space_id, block_id=third["id"],
               data={**THIRD, "preferences": "Never push to main"})

    history = (await call(learning, "skill_history", space_id=space_id, name="landing-pages"))["versions"]
    assert [(v["version"], v["author"]) for v in history] == [
        (4, "user"), (3, "learner"), (2, "learner"), (1, "learner")]
    diffs = [(await call(learning, "diff_skill", space_id=space_id, name="landing-pages", from_version=n,
                         to_version=n + 1))["diff"] for n in (1, 2, 3)]
    assert f"+### {SECOND['use_when']}" in diffs[0] and diffs[0].startswith("--- landing-pages/SKILL.md@v1\n")
    assert f"+### {THIRD['use_when']}" in diffs[1]
    added = [line for line in diffs[2].splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert added == ["+**Preferences:** Never push to main"]

    v2 = (await call(learning, "get_skill", space_id=space_id, name="landing-pages", version=2))["skill_md"]
    rolled = await call(learning, "rollback_skill", space_id=space_id, name="landing-pages", version=2)
    assert (rolled["version"], rolled["author"], rolled["reason"]) == (5, "rollback", "rolled back to version 2")
    now = await call(learning, "get_skill", space_id=space_id, name="landing-pages")
    assert now["skill_md"].encode() == v2.encode() and now["version"] == 5
    assert THIRD["use_when"] not in json.dumps(await call(learning, "list_space", space_id=space_id))
    # Forward again: roll back the rollback.
    await call(learning, "rollback_skill", space_id=space_id, name="landing-pages", version=4)
    v4 = (await call(learning, "get_skill", space_id=space_id, name="landing-pages", version=4))["skill_md"]
    assert (await call(learning, "get_skill", space_id=space_id, name="landing-pages"))["skill_md"] == v4
    error = await call_error(learning, "rollback_skill", space_id=space_id, name="landing-pages", version=99)
    assert "version '99' not found" in error


async def test_bad_skill_fields_are_refused_and_nothing_is_written(settings: Settings) -> None:
    async with Client(build_server(settings)) as client:
        space_id = (await call(client, "create_space", name="s"))["id"]
        for data, words in (({"name": "Bad_Name"}, "not a valid skill name"),
                            ({"name": "-x"}, "not a valid skill name"),
                            ({"name": "a" * 65}, "over the limit of 64"),
                            ({"description": "d" * 1025}, "over the limit of 1024"),
                            ({"description": " "}, "description is missing")):
            error = await call_error(client, "create_block", space_id=space_id, parent_path="/", type="page",
                                     title="p", data=data)
            assert words in error, error
        assert (await call(client, "list_skills", space_id=space_id))["items"] == []
        assert "skill 'nope' not found" in await call_error(client, "get_skill", space_id=space_id, name="nope")


SKILL_MD = "---\nname: {name}\ndescription: Say hello politely. Use when greeting someone.\nlicense: MIT\n---\n\n" \
           "# Hello\n\nGreet the user by name.\n"


def write_skill(root: Path, name: str, text: str | None = None) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(SKILL_MD.format(name=name) if text is None else text)
    return folder


async def test_export_sync_and_import(service: Container, tmp_path: Path) -> None:
    space = await service.spaces.create_space("s")
    src = tmp_path / "src"
    write_skill(src, "say-hello")
    imported = await service.skills.import_skills(space.id, src)
    assert [(s.name, s.version, s.path) for s in imported.imported] == [("say-hello", 1, "/say-hello")]
    md = (await service.skills.get_skill(space.id, "say-hello")).skill_md
    assert md == ('---\nname: say-hello\ndescription: "Say hello politely. Use when greeting someone."\n'
                  'license: "MIT"\n---\n\n# Hello\n\nGreet the user by name.\n')

    out = tmp_path / "out"
    write_skill(out, "mine", "---\nname: mine\ndescription: not ours\n---\n")  # a folder we did not make
    (out / "say-hello").mkdir()
    done = await service.skills.export(space.id, out)
    assert (done.written, done.skipped) == ([], ["say-hello"])  # a same-named folder we did not make: left alone
    shutil.rmtree(out / "say-hello")
    done = await service.skills.export(space.id, out)
    assert done.written == ["say-hello"] and (out / "say-hello" / "SKILL.md").read_text() == md

    page = await service.spaces.create_block(space.id, "/", "page", "deploy_notes")
    async with anyio.create_task_group() as tg:
        tg.start_soon(service.skills.sync, space.id, out, 0.05)
        await wait_for(lambda: (out / "deploy-notes" / "SKILL.md").is_file())
        start = anyio.current_time()
        await service.spaces.create_block(space.id, "/deploy_notes", "fact", "f", {"text": "Deploys go out Fridays"})
        await wait_for(lambda: "Deploys go out Fridays" in (out / "deploy-notes" / "SKILL.md").read_text())
        assert anyio.current_time() - start < 2.0
        (out / "deploy-notes" / ".SKILL.md.x.tmp").write_text("half")  # as a crash mid-write leaves it
        await service.spaces.delete_block(space.id, page.id, recursive=True)
        await wait_for(lambda: not (out / "deploy-notes").exists())
        tg.cancel_scope.cancel()
    assert (out / "mine" / "SKILL.md").read_text() == "---\nname: mine\ndescription: not ours\n---\n"
    assert json.loads((out / MANIFEST).read_text()) == {"skills": {"say-hello": space.id}}

    zipped = zipfile.ZipFile(__import__("io").BytesIO(await service.skills.zip_skill(space.id, "say-hello")))
    assert zipped.read("say-hello/SKILL.md").decode() == md


async def wait_for(check: Any, deadline_s: float = 10.0) -> None:
    with anyio.fail_after(deadline_s):
        while not check():
            await anyio.sleep(0.02)


async def test_bad_imports_are_refused_and_nothing_is_written(service: Container, tmp_path: Path) -> None:
    space = await service.spaces.create_space("s")
    cases: list[tuple[Path, str]] = []
    write_skill(tmp_path / "a", "no-front", "# Just a body\n")
    cases.append((tmp_path / "a", "has no front matter"))
    write_skill(tmp_path / "b", "other-name", SKILL_MD.format(name="say-hello"))
    cases.append((tmp_path / "b", "differs from its folder"))
    write_skill(tmp_path / "c", "Bad_Name", SKILL_MD.format(name="Bad_Name"))
    cases.append((tmp_path / "c", "not a valid skill name"))
    write_skill(tmp_path / "d", "long", SKILL_MD.format(name="long").replace("Say hello", "x" * 1100))
    cases.append((tmp_path / "d", "over the limit of 1024"))
    write_skill(tmp_path / "e", "good")
    write_skill(tmp_path / "e", "bad", "---\nname: bad\n---\n")  # one bad skill: none of the two is imported
    cases.append((tmp_path / "e", "description is missing"))
    with zipfile.ZipFile(tmp_path / "slip.zip", "w") as archive:
        archive.writestr("say-hello/SKILL.md", SKILL_MD.format(name="say-hello"))
        archive.writestr("../evil/SKILL.md", SKILL_MD.format(name="evil"))
    cases.append((tmp_path / "slip.zip", "unsafe path"))
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("say-hello/SKILL.md", SKILL_MD.format(name="say-hello"))
        archive.writestr("say-hello/assets/zeros.bin", b"\0" * (6 * 1024 * 1024))
    cases.append((tmp_path / "bomb.zip", "zip bomb"))
    from acontext_mcp.errors import AcontextError

    for source, words in cases:
        with pytest.raises(AcontextError, match=words):
            await service.skills.import_skills(space.id, source)
    assert (await service.skills.list_skills(space.id)).items == []
    assert (await service.spaces.list_space(space.id)).entries == []


@pytest.mark.slow  # runs the CLI and npx
async def test_the_seed_skill_exported_by_the_cli_passes_the_reference_validator(
    learning: Client, router: Router, settings: Settings, tmp_path: Path
) -> None:
    if shutil.which("npx") is None:
        pytest.skip("npx is not installed")
    space_id, _ = await seed_skill(learning, router)
    out = tmp_path / "skills"
    env = dict(os.environ)
    if settings.database_url:
        env["ACONTEXT_DATABASE_URL"] = settings.database_url.get_secret_value()
    exported = subprocess.run([sys.executable, "-m", "acontext_mcp", "skills", "export", space_id, "--to", str(out),
                               "--data-dir", str(settings.data_dir)],
                              capture_output=True, text=True, env=env, timeout=120)
    assert exported.returncode == 0, exported.stderr
    assert (out / "landing-pages" / "SKILL.md").is_file()
    checked = subprocess.run(["npx", "-y", SKILLS_REF, "validate", str(out / "landing-pages")],
                             capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr


async def test_the_dashboard_shows_history_with_diffs_and_rolls_back_with_the_csrf_token(
    settings: Settings, service: Container
) -> None:
    from tests.integration.test_dashboard_http import dashboard_client

    space = await service.spaces.create_space("s")
    await service.spaces.create_block(space.id, "/", "page", "notes", {"description": "Team notes. Use always."})
    fact = await service.spaces.create_block(space.id, "/notes", "fact", "f", {"text": "Ships on <Fridays>"})
    await service.spaces.update_block(space.id, fact.id, data={"text": "Ships on Mondays"})
    async with dashboard_client(settings, service) as web:
        listing = (await web.get("/dashboard/skills")).text
        assert f'href="/dashboard/skills/{space.id}/notes"' in listing and "Team notes. Use always." in listing
        response = await web.get(f"/dashboard/skills/{space.id}/notes")
        page = response.text
        assert "<Fridays>" not in page and "+- Ships on Mondays" in page and "-- Ships on &lt;Fridays&gt;" in page
        forms = re.findall(r'<form method="post" action="([^"]+)">(.*?)</form>', page, re.S)
        action, body = next((a, b) for a, b in forms if 'name="version" value="2"' in b)
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]+)"', body))
        refused = await web.post(action, data={"version": "2"})  # no token
        assert refused.status_code == 403
        done = await web.post(action, data=fields)
        assert done.status_code == 303 and "now+version+4" in done.headers["location"]
    md = (await service.skills.get_skill(space.id, "notes")).skill_md
    assert md == await service.skills.version_md(space.id, "notes", 2) and "Ships on <Fridays>" in md
