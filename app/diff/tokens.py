"""Estimate prompt tokens offline, close to o200k_base (the GPT-4o/GPT-5 family encoding).

tiktoken needs to download its vocabulary, which a self-hosted box may not be allowed to do, and
exact counts are not needed: chunk budgets carry slack. The estimate mirrors o200k's regex
pre-tokenisation (a word with one leading space or symbol, camelCase pieces, digits in groups of
three, symbol runs, whitespace runs) and adds measured costs for what BPE splits further: long
symbol runs, single-case letter runs of 20+ characters, and non-ASCII text.

Calibration (against the real o200k_base over the 4,600 hunks of the shared test corpus, rendered
as chunks): total within 1%; per hunk of 50+ tokens the 5th-95th percentile of estimate/true is
0.95-1.07 and the median 1.02. Known biases: CJK text is over-estimated (up to ~1.8x), emoji
and long whitespace runs are under-estimated. Speed: ~50 ms for 20,000 typical code lines.
"""

from __future__ import annotations

import math
import re

__all__ = ["estimate_tokens"]

# ASCII classes on purpose: Unicode-aware classes make the regex ~2x slower, and non-ASCII text is
# priced by its UTF-8 size below instead.
_PIECE = re.compile(r"[^\r\nA-Za-z0-9]?(?:[A-Z]*[a-z]+|[A-Z]+)|[0-9]{1,3}| ?[^\sA-Za-z0-9]+[\r\n]*|\s+")
_SYMBOL_RUN = re.compile(r"[^\sA-Za-z0-9]{4,}")
_CASE_RUN = re.compile(r"[a-z]{20,}|[A-Z]{20,}")

_SCALE = 1.1  # errs slightly high: an over-full chunk costs more than a slightly small one
_PER_EXTRA_UTF8_BYTE = 0.25
_PER_ASTRAL_CHAR = 0.8
_PER_SYMBOL_BEYOND_3 = 0.3
_PER_LONG_RUN_CHAR = 0.125


def estimate_tokens(text: str) -> int:
    """Return an estimate of the o200k_base token count of `text`."""
    if not text:
        return 0
    pieces = len(_PIECE.findall(text))
    runs = _SYMBOL_RUN.findall(text)
    symbol_extra = sum(map(len, runs)) - 3 * len(runs)
    long_extra = sum(map(len, _CASE_RUN.findall(text)))
    utf8_extra = len(text.encode("utf-8", "surrogatepass")) - len(text)
    astral = 0
    if utf8_extra:
        astral = len(text.encode("utf-16-le", "surrogatepass")) // 2 - len(text)
    raw = (
        pieces
        + _PER_EXTRA_UTF8_BYTE * utf8_extra
        + _PER_ASTRAL_CHAR * astral
        + _PER_SYMBOL_BEYOND_3 * symbol_extra
        + _PER_LONG_RUN_CHAR * long_extra
    )
    return math.ceil(_SCALE * raw)
