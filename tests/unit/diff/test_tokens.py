"""The offline token estimate stays near o200k_base counts, grows with text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.diff.tokens import estimate_tokens

# Reference counts from the real o200k_base encoding (recorded once, offline).
SAMPLES = {
    "python": (
        'def parse(data: bytes) -> list[str]:\n    """Split lines."""\n'
        '    return [line.rstrip("\\r") for line in data.decode("utf-8").split("\\n")]\n' * 5,
        185,
    ),
    "diff": (
        "@@ -10,7 +10,8 @@ class Foo:\n10   def bar(self):\n"
        "11 +     self.value = compute_total(items, tax_rate=0.2)\n12 -     self.value = 0\n"
        "13       return self.value\n" * 5,
        255,
    ),
    "json": (
        '{"name": "mini-review", "version": "0.1.0", "dependencies": {"fastapi": ">=0.115"}}\n' * 5,
        155,
    ),
    "prose": (
        "GitHub review comments need a line and a side; one bad comment fails the whole review.\n" * 5,
        95,
    ),
    "go": (
        "func (s *Server) Handle(w http.ResponseWriter, r *http.Request) {\n"
        "\tif err := s.db.Ping(); err != nil {\n\t\thttp.Error(w, err.Error(), 500)\n\t}\n}\n" * 5,
        220,
    ),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_estimate_is_within_band_of_o200k(name: str) -> None:
    text, reference = SAMPLES[name]
    assert 0.85 * reference <= estimate_tokens(text) <= 1.25 * reference


def test_empty_and_tiny() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("x") >= 1


def test_pathological_runs_are_priced_by_length() -> None:
    assert estimate_tokens("a" * 8000) >= 900  # o200k: ~1000 tokens, not one "word"
    assert estimate_tokens("=" * 400) >= 100
    assert estimate_tokens("🎉" * 40) >= 60  # o200k: 80
    assert estimate_tokens("异常处理" * 50) >= 100  # o200k: ~100-200 for CJK


@given(st.text(max_size=300), st.text(max_size=300))
def test_concatenation_is_roughly_additive(a: str, b: str) -> None:
    whole = estimate_tokens(a + b)
    # Joining can merge a piece at the seam (or split a pair), so allow a small slack either way.
    assert whole >= max(estimate_tokens(a), estimate_tokens(b)) - 2
    assert whole <= estimate_tokens(a) + estimate_tokens(b) + 2
