"""An independent reading of what we post: markdown-it-py (CommonMark + GFM tables, strikethrough and
URL autolinks), flattened to the things that would be live on GitHub."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("gfm-like")
# GitHub autolinks only `www.` and `scheme://` text, not bare domains (linkify-it's fuzzy links);
# `www.` is checked on the text below instead.
_PARSER.linkify.set({"fuzzy_link": False})
_PARSER.linkify.add("//", None)  # nor protocol-relative `//host` text
LIVE_WWW = re.compile(r"(?:^|[\s*_~(])www\.[A-Za-z0-9]", re.IGNORECASE)
LIVE_MENTION = re.compile(r"(?<![A-Za-z0-9_`])@[A-Za-z0-9]")
# The HTML we write ourselves (markers, the living summary's own markers and history, a review's job
# marker, the collapsible list, the footer); model text must add none.
OWN_HTML = re.compile(
    r"(?:<!-- mini-review:"
    r"(?:fp=[0-9a-f]{16}|summary|notes|history=[A-Za-z0-9+/=]*|job=[A-Za-z0-9_-]{1,64}) -->"
    r"|</?(?:details|summary|sub)>)\s*"
)
LIVE_FENCES = {"suggestion", "mermaid", "geojson", "topojson", "stl", "math", "ascii-math"}


@dataclass
class Rendered:
    images: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    fence_infos: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)  # plain text outside code, where mentions are live

    @property
    def mentions(self) -> list[str]:
        return [t for t in self.text if LIVE_MENTION.search(t)]


def read(markdown: str) -> Rendered:
    found = Rendered()
    _walk(_PARSER.parse(markdown), found)
    return found


def _walk(tokens: list[Token], found: Rendered) -> None:
    for token in tokens:
        if token.type == "image":
            found.images.append(str(token.attrGet("src")))
        elif token.type == "link_open" and not str(token.attrGet("href")).startswith("mailto:"):
            found.links.append(str(token.attrGet("href")))  # e-mail addresses stay mailto: links
        elif token.type in {"html_inline", "html_block"}:
            rest = OWN_HTML.sub("", token.content)
            if rest.strip():
                found.html.append(token.content)
        elif token.type == "fence":
            found.fence_infos.append(token.info.strip().split(" ")[0].lower())
        elif token.type == "text":
            found.text.append(token.content)
            found.links += [f"www-autolink in {token.content!r}"] if LIVE_WWW.search(token.content) else []
        if token.children:
            _walk(token.children, found)
