"""The dashboard in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Screenshots land in test-artifacts/dashboard/. Without chromium (ACONTEXT_CHROMIUM overrides
the path) these tests skip, unless ACONTEXT_REQUIRE_BROWSER=1 (set by .ci/run), where they fail:
scripts/browser installs it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from acontext_mcp.demo import SOP, SOP_PAGE, TASKS
from tests.integration.test_cli import run
from tests.support.dashboard import (
    ARTIFACTS,
    STAR_SOP,
    XSS_HTML,
    XSS_TEXT,
    Seeded,
    Stores,
    seed_dir,
    seed_pending,
    seed_stores,
    with_service,
)
from tests.support.servers import HttpServer, http_server

pytestmark = pytest.mark.slow

CHROMIUM = Path(os.environ.get("ACONTEXT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TOKEN = "let-me-in-please"
WAIT_MS = 10_000

if not CHROMIUM.exists():
    reason = f"{CHROMIUM} is missing: run scripts/browser (installs Debian's chromium) first"
    if os.environ.get("ACONTEXT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"ACONTEXT_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright  # noqa: E402

expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HttpServer, Seeded, Path]]:
    data_dir = tmp_path_factory.mktemp("dashboard") / "data"
    seeded = seed_dir(data_dir)
    with http_server(data_dir) as server:
        yield server, seeded, data_dir


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    yield opened
    context.close()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def console_errors(page: Page) -> list[str]:
    errors: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", record)
    return errors


def test_click_from_the_sessions_list_into_a_session(page: Page, site: tuple[HttpServer, Seeded, Path]) -> None:
    server, seeded, _ = site
    errors = console_errors(page)
    page.goto(f"{server.base_url}/dashboard/")
    expect(page).to_have_url(f"{server.base_url}/dashboard/sessions")
    expect(page.locator("table.sessions tbody tr")).to_have_count(2)
    shot(page, "sessions")
    page.click(f"a.session-link[href$='{seeded.weather}']")
    expect(page).to_have_url(f"{server.base_url}/dashboard/sessions/{seeded.weather}")
    expect(page.locator("li.message")).to_have_count(7)
    expect(page.locator("li.message .role")).to_have_text(
        ["system", "user", "assistant", "tool", "assistant", "user", "assistant"]
    )
    expect(page.locator(".tool-name")).to_have_text("lookup_weather")
    expect(page.locator(".tool-call pre.json")).to_have_text('{\n  "city": "Paris",\n  "units": "metric"\n}')
    expect(page.locator(".tool-result")).to_contain_text("18°C, light rain")
    page.locator(".part.thinking summary").click()
    expect(page.locator(".part.thinking")).to_contain_text("The user wants a summary.")
    images = page.locator(".part.image img")
    expect(images).to_have_count(2)  # the SVG is a download, not an <img>
    page.wait_for_function("[...document.querySelectorAll('.part.image img')].every(i => i.complete)")
    widths = images.evaluate_all("imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
    assert widths == [[160, 160], [8, 8]]  # the blob-backed and the inline image both decode
    with page.expect_download() as download:
        page.get_by_text("⬇ plan.pdf").click()
    assert download.value.suggested_filename == "plan.pdf"
    shot(page, "session")
    assert errors == []  # nothing blocked by the Content-Security-Policy, no script errors


def test_xss_message_renders_as_text_and_no_dialog_fires(page: Page, site: tuple[HttpServer, Seeded, Path]) -> None:
    server, seeded, _ = site
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{server.base_url}/dashboard/sessions")
    expect(page.locator("td.meta")).to_contain_text(["onerror"])
    page.goto(f"{server.base_url}/dashboard/sessions/{seeded.xss}")
    expect(page.locator(".part.text")).to_have_text([XSS_TEXT, XSS_HTML])
    page.locator("summary", has_text="Metadata").click()
    expect(page.locator(".metadata pre")).to_contain_text('"title": "<img src=x onerror=')
    assert page.locator("main script, main img[src='x']").count() == 0
    page.get_by_role("link", name="openai JSON").click()
    expect(page.locator("#converted")).to_contain_text(XSS_TEXT)
    shot(page, "xss")
    assert dialogs == []


def test_format_toggle_shows_each_format(page: Page, site: tuple[HttpServer, Seeded, Path]) -> None:
    server, seeded, _ = site
    page.goto(f"{server.base_url}/dashboard/sessions/{seeded.weather}")
    page.get_by_role("link", name="anthropic JSON").click()
    expect(page.locator("#converted")).to_contain_text('"type": "tool_use"')
    expect(page.locator("#converted")).to_contain_text('"system": "You are a weather agent."')
    shot(page, "session-anthropic")
    page.get_by_role("link", name="openai JSON").click()
    expect(page.locator("#converted")).to_contain_text('"tool_calls"')
    page.get_by_role("link", name="Messages").click()
    expect(page.locator("li.message")).to_have_count(7)


def test_new_messages_appear_without_reloading(page: Page, site: tuple[HttpServer, Seeded, Path]) -> None:
    server, _, data_dir = site

    async def start(service):  # type: ignore[no-untyped-def]
        session = await service.sessions.create_session(metadata={"purpose": "live"})
        await service.messages.send_message(session.id, {"role": "user", "content": "first"})
        return session.id

    session_id = with_service(data_dir, start)
    page.goto(f"{server.base_url}/dashboard/sessions/{session_id}")
    expect(page.locator("li.message")).to_have_count(1)
    first_tokens = int(page.locator("#token-total").inner_text())
    page.evaluate("window.marker = 'same page'")
    with_service(data_dir, lambda s: s.messages.send_message(session_id, {"role": "assistant", "content": "second"}))
    expect(page.locator("li.message .part.text")).to_have_text(["first", "second"])
    expect(page.locator("#message-count")).to_have_text("2")
    counts = with_service(data_dir, lambda s: s.messages.get_token_counts(session_id))
    assert counts.total > first_tokens
    expect(page.locator("#token-total")).to_have_text(str(counts.total))
    assert page.evaluate("window.marker") == "same page"  # no reload happened


def test_search_box_filters_the_list(page: Page, site: tuple[HttpServer, Seeded, Path]) -> None:
    server, seeded, _ = site
    page.goto(f"{server.base_url}/dashboard/sessions")
    page.get_by_role("searchbox", name="Search sessions").fill("weather-bot")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"\?q=weather-bot$"))
    expect(page.locator("a.session-link")).to_have_count(1)
    expect(page.locator("a.session-link")).to_have_text(seeded.weather)


def test_metrics_page_draws_the_charts(page: Page, site: tuple[HttpServer, Seeded, Path]) -> None:
    server, _, _ = site
    page.goto(f"{server.base_url}/dashboard/sessions")
    page.get_by_role("navigation", name="Views").get_by_role("link", name="Metrics").click()
    expect(page.locator("#sessions-per-day rect.series")).to_have_count(30)
    expect(page.locator("#messages-per-day polyline.series")).to_have_count(1)
    tallest = page.locator("#messages-per-day circle.series").last.evaluate("c => c.getAttribute('cy')")
    assert float(tallest) == 0.0  # today has the most messages: its point is at the top
    expect(page.locator("#learner-queue .learner-queue-depth")).to_have_text("0")
    shot(page, "metrics")


def test_unknown_session_shows_the_404_page(page: Page, site: tuple[HttpServer, Seeded, Path]) -> None:
    server, _, _ = site
    response = page.goto(f"{server.base_url}/dashboard/sessions/does-not-exist")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    expect(page.locator("main")).to_contain_text("session 'does-not-exist' not found")
    shot(page, "not-found")


def test_token_login_refuses_a_wrong_token_and_admits_the_right_one(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data_dir = tmp_path_factory.mktemp("guarded") / "data"
    seeded = seed_dir(data_dir)
    with http_server(data_dir, ACONTEXT_MCP_TOKEN=TOKEN) as server:
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(f"{server.base_url}/dashboard/sessions/{seeded.weather}")
        expect(page).to_have_url(re.compile(r"/dashboard/login\?next="))
        page.get_by_label("Token").fill("wrong-token")
        with page.expect_response(lambda r: r.url.endswith("/dashboard/login")) as refused:
            page.get_by_role("button", name="Sign in").click()
        assert refused.value.status == 401
        expect(page.get_by_role("alert")).to_have_text("That token is not right.")
        shot(page, "login-refused")
        page.get_by_label("Token").fill(TOKEN)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{server.base_url}/dashboard/sessions/{seeded.weather}")
        expect(page.locator("li.message")).to_have_count(7)
        (cookie,) = context.cookies()
        assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Strict") and TOKEN not in cookie["value"]
        assert page.evaluate("document.cookie") == ""
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(f"{server.base_url}/dashboard/login")
        page.goto(f"{server.base_url}/dashboard/metrics")
        expect(page).to_have_url(re.compile(r"/dashboard/login\?next=%2Fmetrics$"))
        context.close()


def test_a_newcomer_sees_the_demo_session_its_tasks_the_learned_sop_and_the_chart(
    page: Page, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The issue's "done when": `acontext-mcp demo` (what scripts/serve runs first) on a fresh data dir."""
    data_dir = tmp_path_factory.mktemp("newcomer") / "data"
    loaded = run("demo", "--if-empty", data_dir=data_dir)
    assert loaded.returncode == 0, loaded.stderr
    errors = console_errors(page)
    with http_server(data_dir) as server:
        page.goto(f"{server.base_url}/dashboard")
        expect(page.locator("table.sessions tbody tr")).to_have_count(2)
        page.locator("tr", has_text="iPhone 15 Pro Max").locator("a.session-link").click()
        expect(page.locator("li.message")).to_have_count(8)
        page.get_by_role("link", name="Tasks", exact=True).click()
        expect(page.locator("li.task .description")).to_have_text(TASKS)
        expect(page.locator("li.task .badge")).to_have_text(["success", "pending", "pending"])
        expect(page.locator("#task-1 .progresses li")).to_have_count(2)
        expect(page.locator("#task-1 .preferences li")).to_have_text(["Plain black hero background, no gradient"])
        shot(page, "demo-tasks")
        page.locator("a.message-link", has_text="#6").click()
        expect(page).to_have_url(re.compile(r"/sessions/[^/?#]+#m6$"))
        expect(page.locator("#m6")).to_be_in_viewport()
        expect(page.locator("#m6")).to_contain_text("make the hero background plain black")
        page.go_back()
        page.locator("a.space-link").click()
        expect(page.locator("h1")).to_contain_text("Space demo")
        page.locator("#tree").get_by_role("link", name=SOP_PAGE).click()
        expect(page.locator(".block-sop .sop-steps li")).to_have_count(len(SOP["tool_sops"]))
        expect(page.locator(".block-sop .use-when")).to_have_text(SOP["use_when"])
        shot(page, "demo-space")
        page.get_by_role("navigation", name="Views").get_by_role("link", name="Metrics").click()
        chart = page.locator("#task-success-rate svg")
        expect(chart.locator("circle.series")).to_have_count(7)  # six earlier days and today
        expect(chart.locator("polyline.series")).to_have_count(1)
        shot(page, "demo-metrics")
        page.get_by_role("navigation", name="Views").get_by_role("link", name="Disks").click()
        page.locator("a.disk-link").click()
        page.locator("a.folder-link").click()
        page.get_by_role("link", name="index.html").click()
        expect(page.locator(".artifact-text")).to_contain_text("<title>iPhone 15 Pro Max</title>")
        shot(page, "demo-disk-file")
    assert errors == []


@pytest.fixture(scope="module")
def stores(site: tuple[HttpServer, Seeded, Path]) -> Stores:
    return with_service(site[2], seed_stores)


def test_sop_text_and_artifact_names_render_as_text(
    page: Page, site: tuple[HttpServer, Seeded, Path], stores: Stores
) -> None:
    server, _, _ = site
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{server.base_url}/dashboard/spaces")
    page.locator("a.space-link").click()
    page.locator("#tree").get_by_role("link", name=XSS_HTML).click()
    expect(page.locator(".block-sop .use-when")).to_have_text(XSS_TEXT)
    expect(page.locator(".block-sop .tool-name")).to_have_text(["open_page", XSS_TEXT])
    expect(page.locator(".block-text .text")).to_have_text(XSS_TEXT)
    shot(page, "xss-space")
    page.goto(f"{server.base_url}/dashboard/disks/{stores.disk}")
    page.locator("a.folder-link", has_text="notes/").click()
    page.get_by_role("link", name=f"{XSS_HTML}.txt").click()
    expect(page.locator(".artifact-name")).to_have_text(f"{XSS_HTML}.txt")
    expect(page.locator(".artifact-text")).to_have_text(XSS_TEXT)
    page.goto(f"{server.base_url}/dashboard/disks/{stores.disk}/files/pics/red.png")
    page.wait_for_function("document.querySelector('.preview img').complete")
    assert page.locator(".preview img").evaluate("i => [i.naturalWidth, i.naturalHeight]") == [8, 8]
    shot(page, "disk-image")
    assert page.locator("main script, main img[src='x']").count() == 0
    assert dialogs == []


def test_unknown_space_and_disk_show_the_404_page(page: Page, site: tuple[HttpServer, Seeded, Path]) -> None:
    server, _, _ = site
    for path in ("spaces/no-such-space", "disks/no-such-disk", "sessions/no-such-session/tasks"):
        response = page.goto(f"{server.base_url}/dashboard/{path}")
        assert response is not None and response.status == 404, path
        expect(page.locator("h1")).to_have_text("Not found")


def test_accept_and_reject_pending_experiences(page: Page, tmp_path_factory: pytest.TempPathFactory) -> None:
    data_dir = tmp_path_factory.mktemp("learning") / "data"
    pending = seed_pending(data_dir)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    with http_server(data_dir) as server:
        page.goto(f"{server.base_url}/dashboard/sessions")
        page.get_by_role("navigation", name="Views").get_by_role("link", name="Experiences").click()
        expect(page.locator("article.experience")).to_have_count(2)
        expect(page.locator("article.experience .use-when")).to_have_text([STAR_SOP["use_when"], XSS_TEXT])
        shot(page, "experiences")
        star, xss = (page.locator(f"#experience-{e}") for e in pending.experiences)
        star.get_by_role("button", name="Accept").click()
        expect(page.get_by_role("status")).to_have_text("Experience accepted.")
        expect(page.locator("article.experience")).to_have_count(1)
        xss.get_by_role("button", name="Reject").click()
        expect(page.get_by_role("status")).to_have_text("Experience rejected.")
        expect(page.locator("article.experience")).to_have_count(0)
        page.goto(f"{server.base_url}/dashboard/spaces/{pending.space}?path=/github/basic_ops")
        expect(page.locator(".block-sop .use-when")).to_have_text(STAR_SOP["use_when"])
        shot(page, "experience-accepted")
    assert dialogs == []
