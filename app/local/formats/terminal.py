"""Make untrusted text (model output, diff lines, file names) safe to print on a terminal."""

from __future__ import annotations

import re

# C0 and C1 controls (ESC, CSI, BEL, ...) but not tab and newline: model or diff text must not be able
# to move the cursor, retitle the window or hide lines with escape sequences.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Replace control characters with a visible stand-in."""
    return _CONTROLS.sub("\N{REPLACEMENT CHARACTER}", text)
