"""The dashboard over plain HTTP (in-process ASGI): status codes, escaping, paging, attachments, login."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from acontext_mcp import Container, Settings
from acontext_mcp.dashboard import build_dashboard
from acontext_mcp.dashboard.auth import COOKIE
from acontext_mcp.services.cursors import encode
from tests.support.dashboard import (
    LARGE_PNG,
    SMALL_PNG,
    SVG,
    WAV,
    XSS_TEXT,
    Seeded,
    seed,
)

pytestmark = pytest.mark.anyio
TOKEN = "correct horse battery staple"


def dashboard_client(settings: Settings, service: Container) -> httpx.AsyncClient:
    app = Starlette(routes=[Mount("/dashboard", app=build_dashboard(settings, lambda: service))])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8030")


@pytest.fixture
async def seeded(service: Container) -> Seeded:
    return await seed(service)


@pytest.fixture
async def web(settings: Settings, service: Container) -> AsyncIterator[httpx.AsyncClient]:
    async with dashboard_client(settings, service) as client:
        yield client


@pytest.fixture
async def guarded(data_dir: Path, service: Container) -> AsyncIterator[httpx.AsyncClient]:
    async with dashboard_client(Settings(data_dir=data_dir, token=TOKEN), service) as client:
        yield client


def links(html: str, pattern: str) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', html) if re.search(pattern, href)]


async def test_home_redirects_to_the_sessions_list(web: httpx.AsyncClient) -> None:
    response = await web.get("/dashboard/")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/sessions"


async def test_every_view_renders_with_a_strict_content_security_policy(web: httpx.AsyncClient, seeded: Seeded) -> None:
    for path in ("/dashboard/sessions", f"/dashboard/sessions/{seeded.weather}", "/dashboard/metrics",
                 f"/dashboard/sessions/{seeded.weather}/tasks", "/dashboard/spaces", "/dashboard/disks",
                 "/dashboard/experiences",
                 *(f"/dashboard/sessions/{seeded.weather}?format={f}" for f in ("openai", "anthropic", "acontext"))):
        response = await web.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self';" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        for view in ("sessions", "spaces", "disks", "experiences", "metrics"):
            assert f'<a href="/dashboard/{view}"' in response.text


async def test_user_text_is_escaped_everywhere(web: httpx.AsyncClient, seeded: Seeded) -> None:
    pages = [await web.get(f"/dashboard/sessions/{seeded.xss}"), await web.get("/dashboard/sessions"),
             await web.get(f"/dashboard/sessions/{seeded.xss}?format=openai")]
    for page in pages:
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in pages[0].text
    assert "&lt;img src=x onerror=" in pages[0].text  # the metadata and the assistant's text
    assert XSS_TEXT not in pages[2].text and "&lt;script&gt;" in pages[2].text


async def test_session_viewer_shows_roles_tool_calls_thinking_and_attachments(
    web: httpx.AsyncClient, seeded: Seeded
) -> None:
    html = (await web.get(f"/dashboard/sessions/{seeded.weather}")).text
    assert re.findall(r'class="role">(\w+)<', html) == ["system", "user", "assistant", "tool", "assistant", "user",
                                                         "assistant"]
    assert '<code class="tool-name">lookup_weather</code>' in html
    assert "{\n  &#34;city&#34;: &#34;Paris&#34;,\n  &#34;units&#34;: &#34;metric&#34;\n}" in html  # pretty JSON
    assert "18°C, light rain" in html and "The user wants a summary." in html
    per_message = [int(n) for n in re.findall(r'data-tokens="(\d+)"', html)]
    assert len(per_message) == 7 and all(n > 0 for n in per_message)
    assert f'<dd id="token-total">{sum(per_message)}</dd>' in html
    images = re.findall(r'<img src="([^"]+)"', html)
    assert [path.rsplit("/parts/", 1)[1] for path in images] == ["1", "2"]
    for path, expected in zip(images, (LARGE_PNG, SMALL_PNG), strict=True):
        served = await web.get(path)
        assert (served.status_code, served.headers["content-type"], served.content) == (200, "image/png", expected)
    plan, drawing = links(html, r"/parts/[12]$")[-2:]
    assert 'download>⬇ plan.pdf' in html
    pdf = await web.get(plan)
    assert pdf.content == b"%PDF-1.4 plan" and pdf.headers["content-disposition"] == 'attachment; filename="plan.pdf"'
    svg = await web.get(drawing)  # SVG can carry script: never served inline
    assert svg.content == SVG and svg.headers["content-type"] == "application/octet-stream"
    assert svg.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in svg.headers["content-security-policy"]
    (audio,) = re.findall(r'<audio controls src="([^"]+)"', html)
    served = await web.get(audio)
    assert (served.headers["content-type"], served.content) == ("audio/wav", WAV)


async def test_format_toggle_shows_the_converted_json(web: httpx.AsyncClient, seeded: Seeded) -> None:
    openai = (await web.get(f"/dashboard/sessions/{seeded.weather}?format=openai")).text
    anthropic = (await web.get(f"/dashboard/sessions/{seeded.weather}?format=anthropic")).text
    assert "&#34;tool_calls&#34;" in openai and "&#34;tool_use&#34;" not in openai
    assert "&#34;tool_use&#34;" in anthropic and "&#34;system&#34;: &#34;You are a weather agent.&#34;" in anthropic
    assert "characters)" in openai  # the large image's base64 is cut short
    assert len(openai) < len(LARGE_PNG)


async def test_unknown_ids_and_paths_give_a_404_page(web: httpx.AsyncClient, seeded: Seeded) -> None:
    for path in ("/dashboard/sessions/no-such-session", "/dashboard/sessions/no-such-session?format=openai",
                 "/dashboard/sessions/no-such-session/messages", "/dashboard/no-such-page",
                 f"/dashboard/sessions/{seeded.weather}/messages/no-such-message/parts/0",
                 f"/dashboard/sessions/{seeded.xss}/messages/x/parts/0"):
        response = await web.get(path)
        assert response.status_code == 404, path
        assert "<h1>Not found</h1>" in response.text and "Traceback" not in response.text


async def test_attachment_requests_for_parts_without_bytes_are_404(web: httpx.AsyncClient, seeded: Seeded) -> None:
    html = (await web.get(f"/dashboard/sessions/{seeded.weather}")).text
    image = re.findall(r'<img src="([^"]+)"', html)[0]
    base = image.rsplit("/parts/", 1)[0]
    for suffix in ("/parts/0", "/parts/9", "/parts/1/0"):  # a text part, no such part, not a tool result
        assert (await web.get(base + suffix)).status_code == 404
    other_session = image.replace(seeded.weather, seeded.xss)  # a message of another session
    assert (await web.get(other_session)).status_code == 404


@pytest.mark.parametrize(
    "path", ["/dashboard/sessions?cursor=bogus", "/dashboard/sessions/{id}?after=-1",
             "/dashboard/sessions/{id}?format=xml",
             "/dashboard/sessions/{id}/messages?after=x", "/dashboard/sessions/{id}?after=%C2%B2",
             "/dashboard/sessions/{id}?after=99999999999999999999999", "/dashboard/metrics?days=5",
             "/dashboard/metrics?days=abc", "/dashboard/sessions?cursor=" + encode("session", 10**30)]
)
async def test_bad_parameters_give_a_400_page(web: httpx.AsyncClient, seeded: Seeded, path: str) -> None:
    response = await web.get(path.format(id=seeded.weather))
    assert response.status_code == 400
    assert "<h1>Bad request</h1>" in response.text and "Traceback" not in response.text


async def test_unexpected_errors_give_a_500_page_without_details(settings: Settings) -> None:
    def broken() -> Container:
        raise RuntimeError("secret internals")

    app = Starlette(routes=[Mount("/dashboard", app=build_dashboard(settings, broken))])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8030") as web:
        response = await web.get("/dashboard/sessions")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text


async def test_search_matches_id_prefix_and_metadata_text(web: httpx.AsyncClient, seeded: Seeded) -> None:
    async def found(query: str) -> list[str]:
        html = (await web.get("/dashboard/sessions", params={"q": query})).text
        return re.findall(r'class="session-link" href="/dashboard/sessions/([^"]+)"', html)

    assert await found("weather-BOT") == [seeded.weather]
    assert await found(seeded.xss[:8]) == [seeded.xss]
    assert await found("onerror") == [seeded.xss]
    assert await found("%") == []  # a literal, not a wildcard
    assert sorted(await found("")) == sorted([seeded.weather, seeded.xss])
    assert "No session matches" in (await web.get("/dashboard/sessions", params={"q": "<zzz>"})).text


async def test_sessions_list_pages_with_a_cursor_and_shows_counts(
    web: httpx.AsyncClient, service: Container
) -> None:
    ids = [(await service.sessions.create_session(metadata={"batch": "paging"})).id for _ in range(53)]
    await service.messages.send_message(ids[-1], {"role": "user", "content": "hello"})
    first = (await web.get("/dashboard/sessions", params={"q": "paging"})).text
    shown = re.findall(r'class="session-link" href="/dashboard/sessions/([^"]+)"', first)
    assert shown == ids[::-1][:50]
    assert re.search(r'<td class="num">1</td>', first)  # the newest has one message
    (older,) = links(first, r"cursor=")
    second = (await web.get(older)).text
    assert re.findall(r'class="session-link" href="/dashboard/sessions/([^"]+)"', second) == ids[::-1][50:]
    assert not links(second, r"cursor=")


async def test_message_fragment_returns_only_newer_messages(web: httpx.AsyncClient, seeded: Seeded) -> None:
    page = await web.get(f"/dashboard/sessions/{seeded.weather}")
    assert 'data-after="7"' in page.text
    newer = await web.get(f"/dashboard/sessions/{seeded.weather}/messages", params={"after": 5})
    assert re.findall(r'data-seq="(\d+)"', newer.text) == ["6", "7"]
    assert (newer.headers["x-after"], newer.headers["x-has-more"]) == ("7", "false")
    none = await web.get(f"/dashboard/sessions/{seeded.weather}/messages", params={"after": 7})
    assert none.status_code == 200 and "data-seq" not in none.text and "x-after" not in none.headers


async def test_messages_page_with_a_later_page_does_not_poll(web: httpx.AsyncClient, service: Container) -> None:
    session = await service.sessions.create_session()
    for n in range(101):
        await service.messages.send_message(session.id, {"role": "user", "content": f"m{n}"})
    first = (await web.get(f"/dashboard/sessions/{session.id}")).text
    assert "data-poll-url" not in first and len(re.findall(r'data-seq="', first)) == 100
    (later,) = links(first, r"after=100$")
    last = (await web.get(later)).text
    assert re.findall(r'data-seq="(\d+)"', last) == ["101"] and "data-poll-url" in last


async def test_metrics_counts_sessions_and_messages_per_day(web: httpx.AsyncClient, seeded: Seeded) -> None:
    html = (await web.get("/dashboard/metrics", params={"days": 7})).text
    assert "2 in the last 7 days" in html and "9 in the last 7 days" in html
    assert len(re.findall(r"<rect class=\"series\"", html)) == 14  # sessions and LLM tokens
    assert len(re.findall(r"<circle class=\"series\"", html)) == 7  # messages; no task finished: no rate points
    assert "0 tokens in 0 calls" in html and 'class="learner-queue-depth">0<' in html


async def test_token_login_flow(guarded: httpx.AsyncClient, seeded: Seeded) -> None:
    page = f"/dashboard/sessions/{seeded.weather}"
    bounced = await guarded.get(page)
    assert bounced.status_code == 303
    assert bounced.headers["location"] == f"/dashboard/login?next=%2Fsessions%2F{seeded.weather}"
    assert (await guarded.get("/dashboard/static/dashboard.css")).status_code == 200
    form = await guarded.get(bounced.headers["location"])
    assert form.status_code == 200 and f'name="next" value="/sessions/{seeded.weather}"' in form.text

    wrong = await guarded.post("/dashboard/login", data={"token": "guess", "next": f"/sessions/{seeded.weather}"})
    assert wrong.status_code == 401 and "That token is not right." in wrong.text
    assert COOKIE not in wrong.cookies and (await guarded.get(page)).status_code == 303

    right = await guarded.post("/dashboard/login", data={"token": TOKEN, "next": f"/sessions/{seeded.weather}"})
    assert right.status_code == 303 and right.headers["location"] == page
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/dashboard/" in cookie
    assert TOKEN not in cookie
    assert (await guarded.get(page)).status_code == 200

    signed_out = await guarded.post("/dashboard/logout")
    assert signed_out.status_code == 303 and (await guarded.get(page)).status_code == 303


async def test_login_never_redirects_off_site(guarded: httpx.AsyncClient) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = await guarded.post("/dashboard/login", data={"token": TOKEN, "next": target})
        assert response.headers["location"] == "/dashboard/", target


async def test_bearer_token_opens_the_dashboard_without_a_cookie(guarded: httpx.AsyncClient) -> None:
    assert (await guarded.get("/dashboard/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).status_code == 200
    assert (await guarded.get("/dashboard/metrics", headers={"Authorization": "Bearer nope"})).status_code == 303
    assert (await guarded.post("/dashboard/logout", headers={"Authorization": "Bearer nope"})).status_code == 401


async def test_without_a_token_there_is_no_login(web: httpx.AsyncClient) -> None:
    response = await web.get("/dashboard/login")
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/"
    assert "Sign out" not in (await web.get("/dashboard/metrics")).text


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8030", "127.0.0.1.evil.example:8030"])
async def test_unknown_host_headers_are_refused(web: httpx.AsyncClient, host: str) -> None:
    response = await web.get("/dashboard/sessions", headers={"Host": host})
    assert response.status_code == 421 and "session-link" not in response.text


async def test_allowed_hosts_extend_the_loopback_names(data_dir: Path, service: Container) -> None:
    settings = Settings(data_dir=data_dir, allowed_hosts="ctx.example.com:*")
    async with dashboard_client(settings, service) as web:
        for host, status in (("ctx.example.com:443", 200), ("ctx.example.com", 200), ("localhost:9", 200),
                             ("[::1]:8030", 200), ("other.example.com", 421)):
            assert (await web.get("/dashboard/metrics", headers={"Host": host})).status_code == status, host
