"""Skills: each space's pages as Agent Skills, a skill's SKILL.md and its history with diffs, and a rollback
button per version (CSRF-guarded like the experience forms). It calls the skills service's `list_skills`,
`get_skill`, `history`, `diff` and `rollback` (the MCP tools of the same names)."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from acontext_mcp.dashboard import csrf
from acontext_mcp.dashboard.pages import View, base_url, render, service_of

MAX_FORM_BYTES = 4 * 1024
MAX_DIFFS = 20  # the newest versions shown with their diff


async def skill_list(request: Request) -> Response:
    service = service_of(request)
    spaces = [(space, (await service.skills.list_skills(space.id)).items)
              for space in (await service.spaces.list_spaces()).items]
    return render(request, "skills.html", active="skills", spaces=spaces)


async def skill_page(request: Request) -> Response:
    service = service_of(request)
    space_id, name = request.path_params["space_id"], request.path_params["name"]
    skill = await service.skills.get_skill(space_id, name)
    history = await service.skills.history(space_id, name)
    diffs = {v.version: (await service.skills.diff(space_id, name, v.version - 1, v.version)).diff
             for v in history.versions[:MAX_DIFFS] if v.version > 1}
    token, nonce = csrf.issue(request)
    response = render(request, "skill.html", active="skills", space_id=space_id, skill=skill,
                      versions=history.versions, diffs=diffs, csrf_token=token, csrf_field=csrf.FIELD,
                      done=request.query_params.get("done"))
    return csrf.set_cookie(request, response, nonce)


async def rollback(request: Request) -> Response:
    """POST a rollback of one skill to a version, then back to the skill."""
    form = parse_qs((await request.body())[:MAX_FORM_BYTES].decode("utf-8", "replace"))
    csrf.check(request, form.get(csrf.FIELD, [""])[0])
    version = form.get("version", [""])[0]
    if not version.isdigit() or int(version) < 1:
        raise HTTPException(400, "version must be a version number")
    space_id, name = request.path_params["space_id"], request.path_params["name"]
    made = await service_of(request).skills.rollback(space_id, name, int(version), "rolled back in the dashboard")
    done = urlencode({"done": f"rolled back to version {version} (now version {made.version})"})
    return RedirectResponse(f"{base_url(request)}/skills/{quote(space_id)}/{quote(name)}?{done}", status_code=303)


VIEW = View(
    name="skills",
    label="Skills",
    path="/skills",
    routes=(
        Route("/skills", skill_list, methods=["GET"]),
        Route("/skills/{space_id}/{name}", skill_page, methods=["GET"]),
        Route("/skills/{space_id}/{name}/rollback", rollback, methods=["POST"]),
    ),
)
