"""Pending experiences: SOPs the learner holds for confirmation, per space, with accept and reject.

The only write the dashboard makes (besides signing in). It calls the learner service's
`list_pending` and `confirm` (the `list_pending_experiences` and `confirm_experience` tools),
which need no LLM.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from acontext_mcp.dashboard import csrf
from acontext_mcp.dashboard.pages import View, base_url, render, service_of

MAX_FORM_BYTES = 4 * 1024
DECISIONS = {"accept": True, "reject": False}


async def experience_list(request: Request) -> Response:
    service = service_of(request)
    spaces = [(space, (await service.learner.list_pending(space.id)).items)
              for space in (await service.spaces.list_spaces()).items]
    token, nonce = csrf.issue(request)
    response = render(request, "experiences.html", active="experiences", spaces=spaces,
                      learning=service.learner.enabled, csrf_token=token, csrf_field=csrf.FIELD,
                      done=request.query_params.get("done"))
    return csrf.set_cookie(request, response, nonce)


async def decide(request: Request) -> Response:
    """POST accept or reject for one pending experience, then back to the list."""
    form = parse_qs((await request.body())[:MAX_FORM_BYTES].decode("utf-8", "replace"))
    csrf.check(request, form.get(csrf.FIELD, [""])[0])
    decision = form.get("decision", [""])[0]
    if decision not in DECISIONS:
        raise HTTPException(400, "decision must be accept or reject")
    params = request.path_params
    await service_of(request).learner.confirm(params["space_id"], params["experience_id"], DECISIONS[decision])
    done = urlencode({"done": f"{decision}ed"})
    return RedirectResponse(f"{base_url(request)}/experiences?{done}", status_code=303)


VIEW = View(
    name="experiences",
    label="Experiences",
    path="/experiences",
    routes=(
        Route("/experiences", experience_list, methods=["GET"]),
        Route("/experiences/{space_id}/{experience_id}", decide, methods=["POST"]),
    ),
)
