"""The dashboard's tasks, spaces, disks, experiences and metrics views over plain HTTP (in-process ASGI)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from acontext_mcp import Container, Settings
from acontext_mcp.demo import (
    PREFERENCE,
    PROGRESSES,
    SOP,
    SOP_PATH,
    SOP_TITLE,
    TASKS,
    Demo,
    load_demo,
)
from tests.fakes.openai_server import ScriptedOpenAI
from tests.integration.test_dashboard_http import dashboard_client, links, web  # noqa: F401 (web: fixture)
from tests.support.dashboard import (
    BINARY,
    SMALL_PNG,
    STAR_SOP,
    SVG,
    XSS_HTML,
    XSS_TEXT,
    Pending,
    Stores,
    seed_pending,
    seed_stores,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def demo(service: Container) -> Demo:
    return await load_demo(service)


@pytest.fixture
async def stores(service: Container) -> Stores:
    return await seed_stores(service)


def text_of(page: str, css_class: str) -> list[str]:
    """The unescaped text of each element with this class (no nested tags expected)."""
    return [html.unescape(t) for t in re.findall(rf'class="{css_class}"[^>]*>([^<]*)<', page)]


def assert_escaped(page: str) -> None:
    assert "<script>alert" not in page and "<img src=x" not in page


# Tasks


async def test_tasks_tab_shows_order_status_progress_preferences_and_message_links(
    web: httpx.AsyncClient, demo: Demo
) -> None:
    session_page = (await web.get(f"/dashboard/sessions/{demo.session_id}")).text
    (tab,) = links(session_page, r"/tasks$")
    page = (await web.get(tab)).text
    assert re.findall(r'<span class="order">(\d)\.</span>', page) == ["1", "2", "3"]
    assert re.findall(r'class="badge badge-(\w+)">', page)[1:] == ["success", "pending", "pending"]
    assert text_of(page, "description") == TASKS
    assert re.findall(r"<li>([^<]+)</li>", page) == [*PROGRESSES, PREFERENCE]
    anchors = links(page, r"#m\d+$")
    assert [a.rsplit("#", 1)[1] for a in anchors] == [f"m{n}" for n in range(1, 8)]
    assert all(a.startswith(f"/dashboard/sessions/{demo.session_id}#") for a in anchors)
    for n in range(1, 8):  # each anchor names a message the viewer renders
        assert f'id="m{n}"' in session_page
    assert 'class="badge badge-disabled">disabled<' in page and "observer disabled" in page


async def test_message_links_point_at_the_page_holding_the_message(
    web: httpx.AsyncClient, service: Container
) -> None:
    session = await service.sessions.create_session()
    ids = [(await service.messages.send_message(session.id, {"role": "user", "content": f"m{n}"})).id
           for n in range(1, 103)]
    board = await service.tasks.load_board(session.id)
    board.insert(0, "long task")
    board.link(1, [ids[0], ids[101]])
    async with service.db.transaction() as tx:
        await board.save(tx)
    page = (await web.get(f"/dashboard/sessions/{session.id}/tasks")).text
    first, last = links(page, r"#m\d+$")
    assert first == f"/dashboard/sessions/{session.id}#m1"
    assert last == f"/dashboard/sessions/{session.id}?after=100#m102"
    assert 'id="m102"' in (await web.get(last.split("#")[0])).text


async def test_tasks_tab_for_a_session_without_tasks(web: httpx.AsyncClient, service: Container) -> None:
    session = await service.sessions.create_session()
    page = (await web.get(f"/dashboard/sessions/{session.id}/tasks")).text
    assert 'id="no-tasks"' in page and "the observer is off" in page


async def test_task_text_is_escaped(web: httpx.AsyncClient, service: Container) -> None:
    session = await service.sessions.create_session()
    board = await service.tasks.load_board(session.id)
    board.insert(0, XSS_TEXT)
    board.append_progress(1, XSS_HTML)
    board.append_preference(1, XSS_TEXT)
    async with service.db.transaction() as tx:
        await board.save(tx)
    page = (await web.get(f"/dashboard/sessions/{session.id}/tasks")).text
    assert_escaped(page)
    assert text_of(page, "description") == [XSS_TEXT]
    assert "&lt;img src=x onerror=" in page


@dataclass
class Observed:
    ok: str
    broken: str
    service: Container
    settings: Settings


@pytest.fixture
async def observed(data_dir: Path) -> AsyncIterator[Observed]:
    """One session observed by the scripted LLM, one whose batch failed for good."""
    with ScriptedOpenAI() as fake:
        settings = Settings(data_dir=data_dir, openai_base_url=fake.base_url, llm_max_retries=0,
                            observer_idle_s=1000, observer_batch=100, observer_max_attempts=1)
        async with Container.open(settings) as service:
            ok = await service.sessions.create_session()
            await service.messages.send_message(ok.id, {"role": "user", "content": "write the report"})
            fake.reply(tool_calls=[("insert_task", {"after_task_order": 0, "task_description": "Write the report"})])
            fake.reply(tool_calls=[("finish", {})])
            await service.observer.flush(ok.id, timeout_s=20)
            broken = await service.sessions.create_session()
            await service.messages.send_message(broken.id, {"role": "user", "content": "this one fails"})
            fake.fail(500)
            with pytest.raises(Exception, match="gave up"):
                await service.observer.flush(broken.id, timeout_s=20)
            yield Observed(ok.id, broken.id, service, settings)


async def test_observer_failure_shows_on_the_tasks_tab_and_metrics(observed: Observed) -> None:
    async with dashboard_client(observed.settings, observed.service) as browser:
        ok = (await browser.get(f"/dashboard/sessions/{observed.ok}/tasks")).text
        assert text_of(ok, "description") == ["Write the report"]
        assert 'class="badge badge-idle">idle<' in ok
        broken = (await browser.get(f"/dashboard/sessions/{observed.broken}/tasks")).text
        assert 'class="badge badge-failed">failed<' in broken and "1 message waiting" in broken
        assert re.search(r'class="alert last-error">Last error: [^<]*500', broken)
        metrics = (await browser.get("/dashboard/metrics", params={"days": 7})).text
    usage = await observed.service.observer.status()
    spent = usage.tokens.prompt_tokens + usage.tokens.completion_tokens
    assert usage.tokens.calls == 4 and spent > 0  # the open task's finish is checked once: 2 calls, and 2 failed
    assert f"{spent} tokens in 4 calls in the last 7 days" in metrics
    assert re.search(r'class="queue-depth">1<', metrics)
    assert re.search(rf'class="alert last-error">Last error: session {observed.broken}: [^<]*500', metrics)
    assert f'href="/dashboard/sessions/{observed.broken}/tasks"' in metrics
    assert 'class="observer-enabled">on (' in metrics


# Metrics


async def test_success_rate_chart_has_a_point_per_day_with_finished_tasks(
    web: httpx.AsyncClient, service: Container, demo: Demo
) -> None:
    outcomes = await service.metrics.task_outcomes(days=8)
    assert [(d.success, d.failed) for d in outcomes] == [(0, 0), (1, 1), (2, 1), (1, 2), (3, 1), (2, 0), (3, 1), (1, 0)]
    page = (await web.get("/dashboard/metrics", params={"days": 30})).text
    panel = page[page.index('id="task-success-rate"'):page.index('id="sessions-per-day"')]
    rates = re.findall(r'<circle class="series" [^>]*><title>[\d-]+: (\d+)%<', panel)
    assert rates == ["50", "67", "33", "75", "100", "75", "100"]
    assert "13 of 19 finished tasks succeeded" in panel


async def test_success_rate_is_scaled_to_percent(web: httpx.AsyncClient, service: Container) -> None:
    session = await service.sessions.create_session()
    board = await service.tasks.load_board(session.id)
    for n, status in enumerate(["success", "failed", "success", "success"]):
        board.insert(n, f"task {n}")
        board.update(n + 1, status)
    async with service.db.transaction() as tx:
        await board.save(tx)
    page = (await web.get("/dashboard/metrics", params={"days": 7})).text
    panel = page[page.index('id="task-success-rate"'):page.index('id="sessions-per-day"')]
    (point,) = re.findall(r'<circle class="series" cx="[\d.]+" cy="([\d.]+)" r="3"><title>[\d-]+: (\d+%)<', panel)
    assert point == ("40.0", "75%")  # 160 px high, 75% is 40 px below the top
    assert "3 of 4 finished tasks succeeded" in panel


# Spaces


async def test_spaces_list_tree_and_page_with_sop_steps(web: httpx.AsyncClient, demo: Demo) -> None:
    listing = (await web.get("/dashboard/spaces")).text
    assert text_of(listing, "name") == ["demo"]
    (space,) = links(listing, rf"/spaces/{demo.space_id}$")
    tree = (await web.get(space)).text
    assert text_of(tree, "tree-folder") == ["web", "landing_pages"]
    (page_link,) = links(tree, r"build_product_landing_page$")
    page = (await web.get(page_link)).text
    assert f"page {SOP_PATH}" in page and 'aria-current="page">build_product_landing_page<' in page
    assert text_of(page, "use-when") == [SOP["use_when"]]
    assert text_of(page, "sop-preferences") == [SOP["preferences"]]
    assert text_of(page, "tool-name") == [step["tool_name"] for step in SOP["tool_sops"]]
    assert text_of(page, "action") == [step["action"] for step in SOP["tool_sops"]]
    assert f"{SOP_TITLE} <span class=\"badge\">SOP</span>" in page
    folder = (await web.get(f"/dashboard/spaces/{demo.space_id}", params={"path": "/web"})).text
    assert "landing_pages" in folder and "folder /web" in folder


async def test_space_text_and_sop_text_is_escaped(web: httpx.AsyncClient, stores: Stores) -> None:
    pages = [(await web.get("/dashboard/spaces")).text, (await web.get(f"/dashboard/spaces/{stores.space}")).text,
             (await web.get(f"/dashboard/spaces/{stores.space}", params={"path": stores.page_path})).text]
    for page in pages:
        assert_escaped(page)
    page = pages[2]
    assert text_of(page, "use-when") == [XSS_TEXT] and text_of(page, "sop-preferences") == [XSS_HTML]
    assert text_of(page, "tool-name") == ["open_page", XSS_TEXT]
    assert text_of(page, "text") == [XSS_TEXT]


# Disks


async def test_disk_tree_preview_and_download(web: httpx.AsyncClient, stores: Stores) -> None:
    listing = (await web.get("/dashboard/disks")).text
    assert_escaped(listing)
    root = (await web.get(links(listing, rf"/disks/{stores.disk}$")[0])).text
    folders = re.findall(r'class="folder-link"[^>]*><svg class="icon".*?</svg> ([^<]+)<', root)
    assert [html.unescape(f) for f in folders] == ["notes/", "pics/"]
    assert text_of(root, "file-link") == ["data.bin"]
    pics = (await web.get(links(root, r"path=/pics/$")[0])).text
    assert text_of(pics, "file-link") == ["drawing.svg", "red.png"]
    png_page = (await web.get(links(pics, r"red\.png$")[0])).text
    (img,) = re.findall(r'<img src="([^"]+)"', png_page)
    served = await web.get(img)
    assert (served.headers["content-type"], served.content) == ("image/png", SMALL_PNG)
    svg_page = (await web.get(links(pics, r"drawing\.svg$")[0])).text
    assert "<img" not in svg_page and "&lt;svg" in svg_page  # SVG shows as escaped text, never as an image
    svg = await web.get(f"/dashboard/disks/{stores.disk}/raw/pics/drawing.svg")
    assert svg.headers["content-type"] == "application/octet-stream" and svg.content == SVG
    binary_page = (await web.get(f"/dashboard/disks/{stores.disk}/files/data.bin")).text
    assert "No preview for application/octet-stream" in binary_page
    (download,) = links(binary_page, r"download=1$")
    got = await web.get(download)
    assert got.content == BINARY and got.headers["content-disposition"] == 'attachment; filename="data.bin"'


async def test_artifact_names_and_contents_are_escaped(web: httpx.AsyncClient, stores: Stores) -> None:
    notes = (await web.get(f"/dashboard/disks/{stores.disk}", params={"path": "/notes/"})).text
    assert_escaped(notes)
    assert text_of(notes, "file-link") == [f"{XSS_HTML}.txt"]
    page = (await web.get(links(notes, r"/files/")[0])).text
    assert_escaped(page)
    assert text_of(page, "artifact-name") == [f"{XSS_HTML}.txt"] and text_of(page, "artifact-text") == [XSS_TEXT]
    raw = await web.get(links(page, r"download=1$")[0])
    assert raw.content == XSS_TEXT.encode() and raw.headers["content-type"] == "application/octet-stream"


# Unknown ids and bad input


@pytest.mark.parametrize("path", [
    "/dashboard/sessions/nope/tasks", "/dashboard/spaces/nope", "/dashboard/spaces/{space}?path=/no/such/page",
    "/dashboard/disks/nope", "/dashboard/disks/nope/files/a.txt", "/dashboard/disks/{disk}/files/notes/none.txt",
    "/dashboard/disks/{disk}/raw/none.txt", "/dashboard/disks/{disk}?path=/no/such/folder/",
])
async def test_unknown_ids_give_a_404_page(web: httpx.AsyncClient, stores: Stores, path: str) -> None:
    response = await web.get(path.format(space=stores.space, disk=stores.disk))
    if "no/such/folder" in path:  # an empty folder is just empty
        assert response.status_code == 200 and "This folder is empty." in response.text
        return
    assert response.status_code == 404, path
    assert "<h1>Not found</h1>" in response.text and "Traceback" not in response.text


@pytest.mark.parametrize("path", ["/dashboard/disks/{disk}/files/notes/", "/dashboard/disks/{disk}/files/a/b%00.txt",
                                  "/dashboard/spaces/{space}?path=/a//b"])
async def test_bad_paths_give_a_400_page(web: httpx.AsyncClient, stores: Stores, path: str) -> None:
    response = await web.get(path.format(space=stores.space, disk=stores.disk))
    assert response.status_code == 400 and "<h1>Bad request</h1>" in response.text


# Pending experiences


@pytest.fixture
def pending(data_dir: Path, database_url: str | None, service: Container) -> Pending:
    return seed_pending(data_dir, database_url)


def form_of(page: str, experience_id: str, decision: str) -> tuple[str, dict[str, str]]:
    forms = re.findall(r'<form method="post" action="([^"]+)">(.*?)</form>', page, re.S)
    action, body = next((a, b) for a, b in forms if a.endswith(experience_id) and f'value="{decision}"' in b)
    return action, dict(re.findall(r'name="([^"]+)" value="([^"]+)"', body))


async def test_accept_and_reject_post_with_the_csrf_token(
    web: httpx.AsyncClient, service: Container, pending: Pending
) -> None:
    star, xss = pending.experiences
    response = await web.get("/dashboard/experiences")
    cookie = response.headers["set-cookie"]
    assert "acontext_csrf=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = response.text
    assert_escaped(page)
    assert "The learner is off on this server" in page
    assert text_of(page, "use-when") == [STAR_SOP["use_when"], XSS_TEXT]
    assert text_of(page, "page-path") == ["/github/basic_ops", "/web"]
    for experience, decision in ((star, "accept"), (xss, "reject")):
        action, fields = form_of(page, experience, decision)
        done = await web.post(action, data=fields)
        assert done.status_code == 303 and done.headers["location"] == f"/dashboard/experiences?done={decision}ed"
        assert f"Experience {decision}ed." in (await web.get(done.headers["location"])).text
    tree = await service.spaces.list_space(pending.space)
    assert [(e.type, e.path) for e in tree.entries] == [
        ("folder", "/github"), ("page", "/github/basic_ops"), ("sop", "/github/basic_ops")]
    assert (await service.learner.list_pending(pending.space)).items == []
    action, fields = form_of(page, star, "accept")
    again = await web.post(action, data=fields)
    assert again.status_code == 409 and "already accepted" in again.text
    metrics = (await web.get("/dashboard/metrics")).text
    assert 'class="learner-queue-depth">0<' in metrics and 'class="learner-enabled">off<' in metrics


@pytest.mark.parametrize("attack", ["no token", "wrong token", "no cookie", "other origin", "bad decision"])
async def test_forged_posts_are_refused(
    web: httpx.AsyncClient, service: Container, pending: Pending, attack: str
) -> None:
    action, fields = form_of((await web.get("/dashboard/experiences")).text, pending.experiences[0], "accept")
    headers = {}
    if attack == "no token":
        del fields["csrf"]
    elif attack == "wrong token":
        fields["csrf"] = "0" * 64
    elif attack == "no cookie":
        web.cookies.clear()
    elif attack == "other origin":
        headers["origin"] = "http://evil.example"
    else:
        fields["decision"] = "maybe"
    response = await web.post(action, data=fields, headers=headers)
    assert response.status_code == (400 if attack == "bad decision" else 403)
    assert len((await service.learner.list_pending(pending.space)).items) == 2
    assert (await service.spaces.list_space(pending.space)).entries == []


@pytest.mark.parametrize("shared", [True, False])
async def test_a_form_one_replica_rendered_posts_to_another_with_a_shared_url_secret(
    data_dir: Path, service: Container, pending: Pending, shared: bool
) -> None:
    settings = Settings(data_dir=data_dir, url_secret="r" * 32 if shared else None)
    async with dashboard_client(settings, service) as first, dashboard_client(settings, service) as second:
        action, fields = form_of((await first.get("/dashboard/experiences")).text, pending.experiences[0], "accept")
        second.cookies.update(first.cookies)
        response = await second.post(action, data=fields)
    assert response.status_code == (303 if shared else 403)
    assert len((await service.learner.list_pending(pending.space)).items) == (1 if shared else 2)
