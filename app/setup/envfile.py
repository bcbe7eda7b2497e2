"""Merge settings into a `.env` file that only its owner can read (mode 0600), written atomically.

Existing entries we do not set (and comments) are kept byte for byte, using python-dotenv's own parser
so quoted multi-line values survive. A key file path is dropped when a key is written in its place.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from dotenv.parser import parse_stream

# Set together with GITHUB_APP_PRIVATE_KEY, a leftover path would be a second, conflicting key.
SUPERSEDED = {"GITHUB_APP_PRIVATE_KEY": "GITHUB_APP_PRIVATE_KEY_PATH"}


def quote(value: str) -> str:
    """Double-quote a value the way python-dotenv reads it back (newlines as `\\n`)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")
    return f'"{escaped}"'


def _kept_text(path: Path, replaced: set[str]) -> str:
    if not path.exists():
        return ""
    with path.open(encoding="utf-8") as stream:
        kept = [b.original.string for b in parse_stream(stream) if b.key not in replaced]
    text = "".join(kept)
    return text if not text or text.endswith("\n") else text + "\n"


def write_env(path: Path, values: dict[str, str]) -> None:
    """Set `values` in the env file at `path`, creating it with mode 0600."""
    replaced = set(values) | {SUPERSEDED[k] for k in values if k in SUPERSEDED}
    text = _kept_text(path, replaced)
    text += "".join(f"{key}={quote(value)}\n" for key, value in values.items())
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)  # the umask may only narrow the mode, but be explicit
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
