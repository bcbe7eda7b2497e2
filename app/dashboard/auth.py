"""Sign-in with GitHub: `/login` → GitHub → `/auth/callback` → back where the user was; `POST /logout`."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.dashboard.context import Dashboard, DashboardDep, ViewerDep
from app.dashboard.sessions import COOKIE, SessionKeys, safe_next
from app.github.oauth import OAuthError
from app.storage.dashboard import SessionRow
from app.storage.db import utcnow

log = logging.getLogger(__name__)
router = APIRouter()
PENDING_TTL = dt.timedelta(minutes=10)
SESSION_TTL = dt.timedelta(hours=8)  # GitHub App user tokens expire after 8 hours


def _state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _set_cookie(dash: Dashboard, response: Response, session_id: str, ttl: dt.timedelta) -> None:
    response.set_cookie(
        COOKIE,
        dash.keys.cookie_value(session_id),
        max_age=int(ttl.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=dash.secure_cookies,
    )


def message_page(dash: Dashboard, status: int, title: str, text: str, viewer: object = None) -> HTMLResponse:
    html = dash.templates.get_template("message.html").render(
        title=title, text=text, viewer=viewer, sign_in_enabled=dash.oauth is not None
    )
    return HTMLResponse(html, status_code=status)


@router.get("/login")
async def login(dash: DashboardDep, next: str = "/") -> Response:  # noqa: A002 - the contract's name
    if dash.oauth is None:
        return message_page(
            dash,
            404,
            "Sign-in is not enabled",
            "Set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET (the GitHub App's OAuth credentials) "
            "to enable it.",
        )
    state = secrets.token_urlsafe(32)
    session_id = SessionKeys.new_id()
    await dash.store.save_session(
        SessionRow(
            id_hash=SessionKeys.hash_id(session_id),
            user_id=None,
            login=None,
            token=None,
            oauth_state=_state_hash(state),
            next_path=safe_next(next),
            expires_at=utcnow() + PENDING_TTL,
        )
    )
    response = RedirectResponse(dash.oauth.authorize_url(redirect_uri=dash.callback_url, state=state), 303)
    _set_cookie(dash, response, session_id, PENDING_TTL)
    return response


@router.get("/auth/callback")
async def callback(request: Request, dash: DashboardDep, code: str = "", state: str = "") -> Response:
    session_id = dash.keys.session_id(request.cookies.get(COOKIE))
    pending = None
    if session_id is not None:
        pending = await dash.store.take_pending(SessionKeys.hash_id(session_id))
    if (
        dash.oauth is None
        or pending is None
        or pending.oauth_state is None
        or not state
        or not hmac.compare_digest(pending.oauth_state, _state_hash(state))
    ):
        return message_page(dash, 400, "Sign-in failed", "This sign-in link expired or was already used.")
    if not code:
        return message_page(dash, 400, "Sign-in cancelled", "GitHub did not confirm the sign-in.")
    try:
        token = await dash.oauth.exchange_code(code, redirect_uri=dash.callback_url)
        user = await dash.oauth.user_api(token.access_token).user()
    except OAuthError as exc:
        log.warning("sign-in failed: %s", exc)
        return message_page(dash, 502, "Sign-in failed", str(exc))
    ttl = min(dt.timedelta(seconds=token.expires_in), SESSION_TTL) if token.expires_in else SESSION_TTL
    new_id = SessionKeys.new_id()  # a fresh id at sign-in: a planted pending cookie gains nothing
    await dash.store.save_session(
        SessionRow(
            id_hash=SessionKeys.hash_id(new_id),
            user_id=user.id,
            login=user.login,
            token=dash.keys.encrypt(token.access_token),
            oauth_state=None,
            next_path=None,
            expires_at=utcnow() + ttl,
        )
    )
    log.info("dashboard sign-in: %s", user.login)
    response = RedirectResponse(safe_next(pending.next_path), 303)
    _set_cookie(dash, response, new_id, ttl)
    return response


@router.post("/logout")
async def logout(
    dash: DashboardDep, viewer: ViewerDep, csrf: Annotated[str, Form()] = ""
) -> Response:
    if viewer.session_id is not None:
        if not dash.keys.csrf_ok(viewer.session_id, csrf):
            return message_page(dash, 403, "Refused", "The form expired; reload the page and try again.")
        await dash.store.delete_session(SessionKeys.hash_id(viewer.session_id))
        dash.policy.forget(viewer)
    response = RedirectResponse("/", 303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=dash.secure_cookies)
    return response
