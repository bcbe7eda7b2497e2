"""Session cookies and what they unlock: signed ids, hashed at rest, user tokens encrypted.

The cookie carries a random session id and an HMAC of it under the session secret; the database keeps
only the id's SHA-256 and the user's token encrypted with a key derived from the same secret (Fernet,
from `cryptography`). Stdlib `hmac` signs the id: one keyed hash needs no extra library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.settings import Settings
from app.storage.dashboard import DashboardStore

COOKIE = "mini_session"
SECRET_NAME = "session_secret"


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


class SessionKeys:
    """Everything derived from the session secret."""

    def __init__(self, secret: str) -> None:
        raw = secret.encode()
        self._sign_key = _derive(raw, b"mini-review session cookie")
        self._csrf_key = _derive(raw, b"mini-review csrf")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(raw, b"mini-review user token")))

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def hash_id(session_id: str) -> str:
        return hashlib.sha256(session_id.encode()).hexdigest()

    def cookie_value(self, session_id: str) -> str:
        return f"{session_id}.{self._mac(self._sign_key, session_id)}"

    def session_id(self, cookie: str | None) -> str | None:
        """Return the id a cookie carries when its signature holds, else None."""
        if not cookie or len(cookie) > 200:
            return None
        session_id, _, mac = cookie.rpartition(".")
        if not session_id or not hmac.compare_digest(mac, self._mac(self._sign_key, session_id)):
            return None
        return session_id

    def csrf_token(self, session_id: str) -> str:
        return self._mac(self._csrf_key, session_id)

    def csrf_ok(self, session_id: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.csrf_token(session_id))

    def encrypt(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode()

    def decrypt(self, sealed: str) -> str | None:
        """Return the token, or None when it was sealed under another secret (the secret changed)."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None

    @staticmethod
    def _mac(key: bytes, value: str) -> str:
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


async def load_session_keys(settings: Settings, store: DashboardStore) -> SessionKeys:
    """Use MINI_SESSION_SECRET, or the one generated on first start and kept in the database."""
    if settings.session_secret is not None:
        return SessionKeys(settings.session_secret.get_secret_value())
    return SessionKeys(await store.secret(SECRET_NAME, lambda: secrets.token_urlsafe(48)))


@dataclass(frozen=True)
class Viewer:
    """Who is looking: anonymous, or a signed-in GitHub user (their token lives only in memory here)."""

    session_id: str | None = None
    login: str | None = None
    token: str | None = None
    csrf: str = ""

    @property
    def signed_in(self) -> bool:
        return self.login is not None and self.token is not None

    @property
    def cache_key(self) -> str:
        return SessionKeys.hash_id(self.session_id or "")


ANONYMOUS = Viewer()


def safe_next(path: str | None) -> str:
    """Return a local path to go to after sign-in; anything else (other hosts, schemes) becomes `/`."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    if any(ord(c) < 32 for c in path):
        return "/"
    return path
