"""What every dashboard view shares: the `View` record, the template environment, `render`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute

from acontext_mcp.container import Container
from acontext_mcp.formats.nesting import loads_shallow

ServiceGetter = Callable[[], Container]
TEMPLATES = Path(__file__).parent / "templates"
# Image types a browser may show inline; any other bytes (SVG included: it can script) are downloads.
MAX_PARTS_SHOWN = 1000
"""Parts of one message a page renders (a message stored before the part limit may hold far more)."""
_MEDIA_TYPE = re.compile(r"[a-z]+/[a-z0-9][a-z0-9.+-]{0,63}")
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"})


@dataclass(frozen=True)
class View:
    """One page family: its nav entry (`label` linking to `path`, relative to the dashboard) and routes."""

    name: str
    label: str
    path: str
    routes: Sequence[BaseRoute]


def pretty_json(value: Any) -> str:
    """Indented JSON of `value`; JSON text (a tool call's arguments) is parsed first, kept as is if invalid."""
    if isinstance(value, str):
        try:
            value = loads_shallow(value)
        except ValueError:  # not JSON, or too deep to indent: shown as written
            return value
    return json.dumps(value, indent=2, ensure_ascii=False)


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def web_url(url: str | None) -> str | None:
    """`url` if it is http(s), else None, so user data never becomes a `javascript:` link."""
    return url if url and urlsplit(url).scheme in ("http", "https") else None


ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True
)
ENVIRONMENT.globals["inline_images"] = INLINE_IMAGES
ENVIRONMENT.globals["max_parts_shown"] = MAX_PARTS_SHOWN
ENVIRONMENT.filters.update(pretty_json=pretty_json, compact_json=compact_json, web_url=web_url)


def int_param(request: Request, name: str, default: int, maximum: int = 2**62) -> int:
    """A whole-number query parameter; anything else is a 400 page."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) > maximum:
        raise HTTPException(400, f"{name} must be a whole number up to {maximum}, got {raw[:40]!r}")
    return int(raw)


def base_url(request: Request) -> str:
    """The dashboard's own path prefix, e.g. /dashboard."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def service_of(request: Request) -> Container:
    getter: ServiceGetter = request.app.state.service
    return getter()


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a page (or fragment) with the shared context: base url, nav views, the active view."""
    state = request.app.state
    shared = {"base": base_url(request), "views": state.views, "active": "", "login": bool(state.tokens)}
    return HTMLResponse(ENVIRONMENT.get_template(template).render({**shared, **context}), status_code=status)


def file_response(data: bytes, media_type: str | None, filename: str | None, inline: bool = True) -> Response:
    """Stored bytes: safe images (and audio) shown inline when `inline`, anything else as a sandboxed download."""
    media_type = media_type if media_type and _MEDIA_TYPE.fullmatch(media_type) else ""  # stored text: never a header
    headers = {"content-security-policy": "default-src 'none'; sandbox", "cache-control": "private, max-age=3600"}
    if inline and (media_type in INLINE_IMAGES or media_type.startswith("audio/")):
        return Response(data, media_type=media_type, headers=headers)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", filename or "") or "attachment"
    headers["content-disposition"] = f'attachment; filename="{name}"'
    return Response(data, media_type="application/octet-stream", headers=headers)
