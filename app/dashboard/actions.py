"""What writers may do from the dashboard: re-run a review, pause or resume reviews, forget a learning.

POST only, with the session's CSRF token; the write permission comes from GitHub (the user token's
view of the repository), checked here on the server whatever the page showed.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.dashboard import pages
from app.dashboard.auth import message_page
from app.dashboard.context import Dashboard, DashboardDep, ViewerDep
from app.dashboard.sessions import Viewer
from app.deps import ConversationStoreDep
from app.github.models import RepoRef
from app.jobs.models import ReviewJob

log = logging.getLogger(__name__)
router = APIRouter()
RERUN_TRIGGER = "dashboard:rerun"
CsrfField = Annotated[str, Form()]


async def _writer(
    request: Request, dash: Dashboard, viewer: Viewer, full_name: str, csrf: str
) -> pages.Visible | HTMLResponse:
    if not viewer.signed_in or viewer.session_id is None:
        return message_page(dash, 403, "Refused", "Sign in to do this.", viewer)
    if not dash.keys.csrf_ok(viewer.session_id, csrf):
        return message_page(dash, 403, "Refused", "The form expired; reload the page and try again.", viewer)
    seen = await pages.readable(dash, request, viewer, full_name, api=False)
    if not seen.access.can_write or seen.access.installation_id is None:
        return message_page(dash, 403, "Refused", "Only people with write access can do this.", viewer)
    return seen


@router.post("/repos/{owner}/{name}/pulls/{number}/rerun")
async def rerun(
    request: Request,
    dash: DashboardDep,
    viewer: ViewerDep,
    owner: str,
    name: str,
    number: int,
    csrf: CsrfField = "",
) -> Response:
    seen = await _writer(request, dash, viewer, f"{owner}/{name}", csrf)
    if isinstance(seen, Response):
        return seen
    runs = await dash.store.pull_runs(seen.name, number)
    head = next((r["head_sha"] for r in reversed(runs) if r.get("head_sha")), None)
    if head is None:
        return message_page(dash, 404, "No reviews", "mini-review has no runs for this pull request.", viewer)
    owner_name, _, repo_name = seen.name.partition("/")
    assert seen.access.installation_id is not None
    job = ReviewJob(
        repo=RepoRef(owner=owner_name, name=repo_name, installation_id=seen.access.installation_id),
        number=number,
        head_sha=head,
        trigger=RERUN_TRIGGER,
        requested_by=viewer.login,
    )
    await dash.enqueue_review(job)
    log.info("%s re-ran the review of %s#%s from the dashboard", viewer.login, seen.name, number)
    return RedirectResponse(f"/repos/{seen.name}/pulls/{number}", status_code=303)


async def _set_paused(
    request: Request, dash: Dashboard, viewer: Viewer, full_name: str, csrf: str, paused: bool
) -> Response:
    seen = await _writer(request, dash, viewer, full_name, csrf)
    if isinstance(seen, Response):
        return seen
    assert viewer.login is not None
    await dash.store.set_repo_paused(seen.name, paused, viewer.login)
    log.info("%s %s automatic reviews of %s", viewer.login, "paused" if paused else "resumed", seen.name)
    return RedirectResponse(f"/repos/{seen.name}", status_code=303)


@router.post("/repos/{owner}/{name}/pause")
async def pause(
    request: Request, dash: DashboardDep, viewer: ViewerDep, owner: str, name: str, csrf: CsrfField = ""
) -> Response:
    return await _set_paused(request, dash, viewer, f"{owner}/{name}", csrf, True)


@router.post("/repos/{owner}/{name}/resume")
async def resume(
    request: Request, dash: DashboardDep, viewer: ViewerDep, owner: str, name: str, csrf: CsrfField = ""
) -> Response:
    return await _set_paused(request, dash, viewer, f"{owner}/{name}", csrf, False)


@router.post("/repos/{owner}/{name}/learnings/{learning_id}/delete")
async def forget_learning(
    request: Request,
    dash: DashboardDep,
    viewer: ViewerDep,
    conversation: ConversationStoreDep,
    owner: str,
    name: str,
    learning_id: int,
    csrf: CsrfField = "",
) -> Response:
    seen = await _writer(request, dash, viewer, f"{owner}/{name}", csrf)
    if isinstance(seen, Response):
        return seen
    if conversation is None or not await conversation.delete_learning(seen.name, learning_id):
        return message_page(dash, 404, "No such learning", "It may have been deleted already.", viewer)
    log.info("%s deleted learning %s of %s from the dashboard", viewer.login, learning_id, seen.name)
    return RedirectResponse(f"/repos/{seen.name}#learnings", status_code=303)
