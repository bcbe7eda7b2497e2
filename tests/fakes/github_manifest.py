"""The fake GitHub's App-manifest flow: the new-App pages and `POST /app-manifests/{code}/conversions`.

Rules kept from https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest:
- the form posts a `manifest` field (JSON) to `/settings/apps/new` or
  `/organizations/{org}/settings/apps/new`, `state` in the query; `url` and `hook_attributes.url`
  are required; GitHub (here, without the confirmation click) redirects to the manifest's
  `redirect_url` with `code` and the same `state`;
- a code converts once, within an hour, with no authentication, into the App's id, slug, pem,
  webhook secret and OAuth client id/secret (201).
The App it "creates" is the fake's own (same id and key), so the credentials work against the fake.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

CODE_TTL_SECONDS = 3600


class _AppIdentity(Protocol):
    app_id: int
    private_key_pem: str


@dataclass(frozen=True)
class RegisteredApp:
    manifest: dict[str, Any]
    org: str | None
    state: str
    credentials: dict[str, Any]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message, "documentation_url": "https://docs.github.com/rest"}, status)


class ManifestFlow:
    """Holds registered Apps and pending codes; `router` is mounted before the fake's catch-all route."""

    def __init__(self, identity: _AppIdentity) -> None:
        self._identity = identity
        self._lock = threading.Lock()
        self._codes: dict[str, tuple[float, RegisteredApp]] = {}
        self.registered: list[RegisteredApp] = []
        self.conversions: list[RegisteredApp] = []
        self.router = APIRouter()
        self.router.add_api_route("/settings/apps/new", self._new_app, methods=["POST"])
        self.router.add_api_route("/organizations/{org}/settings/apps/new", self._new_app, methods=["POST"])
        self.router.add_api_route("/app-manifests/{code}/conversions", self._convert, methods=["POST"])

    def expire_codes(self) -> None:
        """Age every pending code past GitHub's one hour."""
        with self._lock:
            self._codes = {c: (t - CODE_TTL_SECONDS - 1, app) for c, (t, app) in self._codes.items()}

    async def _new_app(self, request: Request, org: str | None = None) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        try:
            manifest = json.loads(form["manifest"][0])
        except (KeyError, IndexError, json.JSONDecodeError):
            return Response("Invalid GitHub App manifest: not JSON", status_code=422)
        problem = self._check(manifest)
        if problem:
            return Response(f"Invalid GitHub App manifest: {problem}", status_code=422)
        state = request.query_params.get("state", "")
        slug = str(manifest.get("name") or "app").lower().replace(" ", "-")
        credentials = {
            "id": self._identity.app_id,
            "slug": slug,
            "node_id": "A_kwFake",
            "name": manifest.get("name"),
            "owner": {"login": org or "octocat", "type": "Organization" if org else "User"},
            "html_url": f"{request.base_url}apps/{slug}",
            "pem": self._identity.private_key_pem,
            "webhook_secret": secrets.token_hex(20),
            "client_id": f"Iv1.{secrets.token_hex(8)}",
            "client_secret": secrets.token_hex(20),
            "permissions": manifest.get("default_permissions", {}),
            "events": manifest.get("default_events", []),
        }
        app = RegisteredApp(manifest=manifest, org=org, state=state, credentials=credentials)
        code = secrets.token_hex(10)
        with self._lock:
            self.registered.append(app)
            self._codes[code] = (time.time(), app)
        query = urlencode({"code": code, **({"state": state} if state else {})})
        return RedirectResponse(f"{manifest['redirect_url']}?{query}", status_code=302)

    @staticmethod
    def _check(manifest: object) -> str | None:
        if not isinstance(manifest, dict):
            return "not an object"
        hook = manifest.get("hook_attributes")
        if not isinstance(manifest.get("url"), str) or not manifest["url"]:
            return "url is required"
        if not isinstance(hook, dict) or not isinstance(hook.get("url"), str):
            return "hook_attributes.url is required"
        if not isinstance(manifest.get("redirect_url"), str):
            return "redirect_url is required for this flow"
        if not isinstance(manifest.get("default_permissions", {}), dict):
            return "default_permissions must be an object"
        return None

    async def _convert(self, code: str) -> JSONResponse:
        with self._lock:
            entry = self._codes.pop(code, None)
        if entry is None or entry[0] + CODE_TTL_SECONDS < time.time():
            return _error(404, "Not Found")
        with self._lock:
            self.conversions.append(entry[1])
        return JSONResponse(entry[1].credentials, status_code=201)
