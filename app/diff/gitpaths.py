"""Read file paths out of git's diff header lines: C-quoted names, `a/`/`b/` prefixes, names with spaces.

Hand-written on purpose: unidiff hands quoted names back still quoted and escaped, splits a
`diff --git` line at its last " b/" (wrong for a name holding " b/"), and its header regexes
backtrack on long crafted names; no maintained library decodes git's quoting. Everything here is a
single left-to-right scan (no regex), so a long name costs linear time.
"""

from __future__ import annotations

__all__ = ["GitPathError", "git_line_paths", "header_path", "unquote_git_path"]


class GitPathError(ValueError):
    """A quoted path never closes."""


_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Decode the C-quoted string that opens at `text[start]`; return it and the index after it."""
    out = bytearray()
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            return out.decode("utf-8", errors="replace"), i + 1
        if ch == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if "0" <= nxt <= "7":
                j = i + 1
                while j < n and j < i + 4 and "0" <= text[j] <= "7":
                    j += 1
                out.append(int(text[i + 1 : j], 8) & 0xFF)
                i = j
                continue
            out.append(_C_ESCAPES.get(nxt, ord(nxt) if nxt.isascii() else 63))
            i += 2
            continue
        out += ch.encode("utf-8", errors="replace")
        i += 1
    raise GitPathError(f"unterminated quoted path: {text[start : start + 80]!r}")


def unquote_git_path(raw: str) -> str:
    """Undo git's C-quoting of a path (`"a/\\303\\251"` -> `a/é`); plain paths pass through."""
    if raw.startswith('"'):
        return _read_quoted(raw, 0)[0]
    return raw


def _strip(path: str, prefix: str) -> str:
    return path[len(prefix) :] if path.startswith(prefix) else path


def header_path(raw: str, prefix: str) -> str | None:
    """Read the path of a `---`/`+++` line body (after the marker); None for /dev/null."""
    # git appends a tab when the name has spaces; classic diff puts a timestamp after it.
    path = _read_quoted(raw, 0)[0] if raw.startswith('"') else raw.partition("\t")[0]
    if path == "/dev/null":
        return None
    return _strip(path, prefix)


def git_line_paths(rest: str) -> tuple[str | None, str | None]:
    """Split the body of a `diff --git` line into (old, new) paths, when it is unambiguous."""
    if rest.startswith('"'):
        old, end = _read_quoted(rest, 0)
        tail = rest[end + 1 :]
        new = _read_quoted(tail, 0)[0] if tail.startswith('"') else tail
        return _strip(old, "a/"), _strip(new, "b/")
    if rest.endswith('"'):
        cut = rest.find(' "')
        if cut > 0:
            return _strip(rest[:cut], "a/"), _strip(_read_quoted(rest, cut + 1)[0], "b/")
    # Unquoted names may hold spaces; the common case of equal names is split exactly in the middle.
    half = (len(rest) - 1) // 2
    if len(rest) % 2 == 1 and rest[half] == " " and rest[2:half] == rest[half + 3 :]:
        return rest[2:half], rest[half + 3 :]
    cut = rest.find(" b/")
    if cut > 0:
        return _strip(rest[:cut], "a/"), rest[cut + 3 :]
    return None, None
