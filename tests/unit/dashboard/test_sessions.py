"""Session cookies, CSRF tokens, token sealing and the after-sign-in redirect."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.dashboard.sessions import SessionKeys, safe_next


def test_cookie_round_trip_and_tampering() -> None:
    keys = SessionKeys("a" * 40)
    sid = keys.new_id()
    cookie = keys.cookie_value(sid)
    assert keys.session_id(cookie) == sid
    assert keys.session_id(cookie[:-1] + ("0" if cookie[-1] != "0" else "1")) is None
    assert keys.session_id(keys.new_id() + "." + cookie.rpartition(".")[2]) is None
    assert SessionKeys("b" * 40).session_id(cookie) is None  # another secret signs nothing here
    assert keys.session_id(None) is None and keys.session_id("no-dot") is None


def test_csrf_is_per_session() -> None:
    keys = SessionKeys("secret-value-for-tests")
    one, two = keys.new_id(), keys.new_id()
    assert keys.csrf_ok(one, keys.csrf_token(one))
    assert not keys.csrf_ok(two, keys.csrf_token(one))
    assert not keys.csrf_ok(one, "") and not keys.csrf_ok(one, None)


def test_tokens_are_sealed_and_a_new_secret_cannot_open_them() -> None:
    keys = SessionKeys("first-secret")
    sealed = keys.encrypt("ghu_usertoken123")
    assert "ghu_usertoken123" not in sealed
    assert keys.decrypt(sealed) == "ghu_usertoken123"
    assert SessionKeys("second-secret").decrypt(sealed) is None


def test_ids_are_stored_hashed() -> None:
    sid = SessionKeys.new_id()
    assert sid not in SessionKeys.hash_id(sid) and len(SessionKeys.hash_id(sid)) == 64


def test_next_keeps_local_paths_only() -> None:
    assert safe_next("/runs/abc?x=1") == "/runs/abc?x=1"
    for bad in (None, "", "https://evil.example", "//evil.example", "/\\evil.example", "runs", "/a\nb"):
        assert safe_next(bad) == "/"


@given(st.text(max_size=60))
def test_next_never_points_off_site(value: str) -> None:
    target = safe_next(value)
    assert target.startswith("/") and not target.startswith("//") and "\\" not in target
