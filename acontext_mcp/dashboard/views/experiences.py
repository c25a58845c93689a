"""Pending experiences: SOPs the learner holds for confirmation, per space, with accept and reject.

The only write the dashboard makes (besides signing in). It calls the learner service's
`list_pending` and `confirm` (the `list_pending_experiences` and `confirm_experience` tools);
without a learner the page says so.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from acontext_mcp.dashboard import csrf
from acontext_mcp.dashboard.pages import View, base_url, render, service_of

MAX_FORM_BYTES = 4 * 1024
DECISIONS = {"accept": True, "reject": False}


def learner_of(request: Request) -> Any | None:
    """The service's learner, if this server has one that holds experiences for confirmation."""
    learner = getattr(service_of(request), "learner", None)
    return learner if hasattr(learner, "confirm") else None


async def experience_list(request: Request) -> Response:
    learner = learner_of(request)
    spaces: list[tuple[Any, list[Any]]] = []
    if learner is not None:
        for space in (await service_of(request).spaces.list_spaces()).items:
            pending = (await learner.list_pending(space.id)).items
            spaces.append((space, [item for item in pending if item.status == "pending"]))
    token, nonce = csrf.issue(request)
    response = render(request, "experiences.html", active="experiences", available=learner is not None,
                      spaces=spaces, csrf_token=token, csrf_field=csrf.FIELD,
                      done=request.query_params.get("done"))
    return csrf.set_cookie(request, response, nonce)


async def decide(request: Request) -> Response:
    """POST accept or reject for one pending experience, then back to the list."""
    form = parse_qs((await request.body())[:MAX_FORM_BYTES].decode("utf-8", "replace"))
    csrf.check(request, form.get(csrf.FIELD, [""])[0])
    decision = form.get("decision", [""])[0]
    if decision not in DECISIONS:
        raise HTTPException(400, "decision must be accept or reject")
    learner = learner_of(request)
    if learner is None:
        raise HTTPException(503, "the learner is not available yet on this server")
    params = request.path_params
    await learner.confirm(params["space_id"], params["experience_id"], DECISIONS[decision])
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
