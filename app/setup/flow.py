"""The local page of `mini-review setup`: post the manifest to GitHub, convert the code, write `.env`.

Who may use it: the start page answers a browser on this machine (loopback client *and* a localhost
Host header, so a DNS-rebound name cannot reach it), or anyone holding the one-time token printed in
the terminal (it is exchanged for a cookie on first use). The callback needs a `state` that only a
page we served has seen; each state works once.
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import json
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.setup.envfile import write_env
from app.setup.manifest import AppCredentials, build_manifest, new_app_url

log = logging.getLogger(__name__)

LOCAL_NAMES = {"localhost", "127.0.0.1", "[::1]"}
SESSION_COOKIE = "mini_review_setup"
MAX_PENDING_STATES = 32
CODE_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,200}")


@dataclass(frozen=True)
class SetupOptions:
    github_url: str
    api_url: str
    public_url: str
    org: str | None
    app_name: str
    env_path: Path
    extra_env: dict[str, str]


def _page(title: str, body: str, status: int = 200, *, headers: dict[str, str] | None = None) -> HTMLResponse:
    doc = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    base = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
    return HTMLResponse(doc, status_code=status, headers={**base, **(headers or {})})


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header.split("]", 1)[0] + "]"
    return host_header.split(":", 1)[0]


def _is_local(request: Request) -> bool:
    client = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(client).is_loopback
    except ValueError:
        return False
    return loopback and _host_name(request.headers.get("host", "").lower()) in LOCAL_NAMES


class SetupFlow:
    """One run of the manifest flow; `done` is set once `.env` holds the new App's credentials."""

    def __init__(self, options: SetupOptions, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.options = options
        self.token = secrets.token_urlsafe(18)
        self.result: AppCredentials | None = None
        self.done = asyncio.Event()
        self._token_used = False
        self._sessions: set[str] = set()
        self._states: list[str] = []
        self._transport = transport
        self.app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
        self.app.add_api_route("/", self.start, methods=["GET"])
        self.app.add_api_route("/callback", self.callback, methods=["GET"])

    def _admit(self, request: Request) -> str | None:
        """Return '' for a local browser, a new session id for a valid token, None to refuse."""
        if _is_local(request):
            return ""
        cookie = request.cookies.get(SESSION_COOKIE, "")
        if cookie and any(secrets.compare_digest(cookie, s) for s in self._sessions):
            return ""
        given = request.query_params.get("token", "")
        if given and not self._token_used and secrets.compare_digest(given, self.token):
            self._token_used = True
            session = secrets.token_urlsafe(24)
            self._sessions.add(session)
            return session
        return None

    async def start(self, request: Request) -> Response:
        session = self._admit(request)
        if session is None:
            log.warning(
                "setup page refused a request from %s", request.client.host if request.client else "?"
            )
            return _page("Not allowed", "<p>Open the link printed in the terminal.</p>", 403)
        state = secrets.token_urlsafe(32)
        self._states = [*self._states[-(MAX_PENDING_STATES - 1) :], state]
        opts = self.options
        manifest = build_manifest(
            name=opts.app_name, public_url=opts.public_url, redirect_url=f"{request.base_url}callback"
        )
        action = f"{new_app_url(opts.github_url, opts.org)}?state={state}"
        nonce = secrets.token_urlsafe(12)
        body = (
            f"<p>Registering <b>{html.escape(opts.app_name)}</b> on {html.escape(opts.github_url)}"
            f"{' for ' + html.escape(opts.org) if opts.org else ''}: webhooks go to "
            f"<code>{html.escape(manifest['hook_attributes']['url'])}</code>.</p>"
            f'<form id="manifest" method="post" action="{html.escape(action)}">'
            f'<input type="hidden" name="manifest" value="{html.escape(json.dumps(manifest))}">'
            '<button type="submit">Create the GitHub App</button></form>'
            f'<script nonce="{nonce}">document.getElementById("manifest").submit()</script>'
        )
        # 'self' too: a browser applies form-action to the redirect that brings it back here.
        csp = (
            f"default-src 'none'; script-src 'nonce-{nonce}'; form-action {opts.github_url} 'self'; "
            "frame-ancestors 'none'"
        )
        response = _page("mini-review setup", body, headers={"Content-Security-Policy": csp})
        if session:
            response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="lax")
        return response

    def _take_state(self, state: str) -> bool:
        for known in self._states:
            if secrets.compare_digest(known.encode(), state.encode()):
                self._states.remove(known)
                return True
        return False

    async def callback(self, code: str = "", state: str = "") -> Response:
        if not state or not self._take_state(state):
            log.warning("setup callback refused: unknown or already used state")
            return _page("Unknown request", "<p>This link is not from this setup run. Start again.</p>", 400)
        if not CODE_SHAPE.fullmatch(code):
            return _page("No code", "<p>GitHub sent no usable code. <a href='/'>Start again</a>.</p>", 400)
        creds = await self._convert(code)
        if creds is None:
            return _page("GitHub refused", "<p>The code was refused. <a href='/'>Start again</a>.</p>", 502)
        await asyncio.to_thread(
            write_env, self.options.env_path, {**creds.env_entries(), **self.options.extra_env}
        )
        self.result = creds
        self.done.set()
        return RedirectResponse(creds.install_url(self.options.github_url), status_code=303)

    async def _convert(self, code: str) -> AppCredentials | None:
        url = f"{self.options.api_url.rstrip('/')}/app-manifests/{code}/conversions"
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        async with httpx.AsyncClient(timeout=30, transport=self._transport) as client:
            try:
                response = await client.post(url, headers=headers)
            except httpx.HTTPError as exc:
                log.warning("manifest conversion failed: %s", type(exc).__name__)
                return None
        if response.status_code != 201:
            log.warning("manifest conversion answered %d", response.status_code)
            return None
        try:
            return AppCredentials.model_validate_json(response.content)
        except ValidationError:
            log.warning("manifest conversion answered an unexpected body")
            return None
