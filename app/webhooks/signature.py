"""GitHub webhook signatures (`X-Hub-Signature-256`): pure, constant-time."""

from __future__ import annotations

import hashlib
import hmac


def sign(secret: bytes, body: bytes) -> str:
    """Return the header value GitHub would send for `body`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def is_valid_signature(secret: bytes, body: bytes, header: str | None) -> bool:
    """Check the header against the raw body; a missing or malformed header is simply invalid."""
    if not header or not header.startswith("sha256="):
        return False
    expected = sign(secret, body)
    # compare_digest on equal-type ASCII bytes runs in time independent of where they differ.
    try:
        return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("ascii"))
    except UnicodeEncodeError:
        return False
