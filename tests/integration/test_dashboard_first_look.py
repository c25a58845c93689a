"""The demo as a newcomer first sees it, in headless Chromium: the screenshot loads, long tool output is
collapsed (the session page stays under 2,000 px), labels say what things are, charts have a y scale."""

from __future__ import annotations

import pytest

from tests.integration.test_cli import run
from tests.integration.test_dashboard_browser import browser, page, shot  # noqa: F401  (fixtures)
from tests.support.servers import http_server

pytestmark = pytest.mark.slow

from playwright.sync_api import Page, expect  # noqa: E402


def test_the_demo_session_a_space_page_and_metrics_look_right(
    page: Page, tmp_path_factory: pytest.TempPathFactory  # noqa: F811
) -> None:
    data_dir = tmp_path_factory.mktemp("first-look") / "data"
    loaded = run("demo", "--if-empty", data_dir=data_dir)
    assert loaded.returncode == 0, loaded.stderr
    with http_server(data_dir) as server:
        page.goto(f"{server.base_url}/dashboard")
        page.locator("tr", has_text="iPhone 15 Pro Max").locator("a.session-link").click()
        expect(page.locator("li.message")).to_have_count(8)
        image = page.locator("li.message figure.image img")
        expect(image).to_have_count(1)
        image.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        assert page.evaluate("document.documentElement.scrollHeight") < 2000
        expect(page.locator("li.message .role")).to_have_text(
            ["user", "assistant", "tool", "assistant", "tool", "user", "assistant", "user"]
        )
        expect(page.locator("a.space-link")).to_have_text("demo")
        expect(page.locator("#m5 details.long")).to_have_count(1)
        page.locator("#m5 details.long summary").click()
        expect(page.locator("#m5 details.long[open] pre").last).to_contain_text("rendered node 149")
        page.locator("#m5 details.long summary").click()
        shot(page, "first-look-session")

        page.locator("a.space-link").click()
        page.locator("#tree a").last.click()
        expect(page.locator("h1")).to_be_visible()
        shot(page, "first-look-space")

        page.get_by_role("navigation", name="Views").get_by_role("link", name="Metrics").click()
        ticks = page.locator("#task-success-rate .y-tick")
        expect(ticks).to_have_count(3)
        expect(ticks).to_have_text(["0%", "50%", "100%"])
        expect(page.locator("#sessions-per-day .y-tick")).to_have_count(3)
        shot(page, "first-look-metrics")

        page.get_by_role("navigation", name="Views").get_by_role("link", name="Disks").click()
        page.locator("a.disk-link").click()
        folder = page.locator("a.folder-link").first
        expect(folder.locator("svg.icon")).to_have_count(1)
        assert not any(ord(c) > 0xFFFF for c in folder.text_content() or "")  # no emoji left

        response = page.goto(f"{server.base_url}/dashboard/sessions/does-not-exist")
        assert response is not None and response.status == 404
        expect(page.locator("main")).to_contain_text("session 'does-not-exist' not found")
        expect(page.locator("main")).not_to_contain_text("list_sessions")
