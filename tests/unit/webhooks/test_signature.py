from hypothesis import given
from hypothesis import strategies as st

from app.webhooks.signature import is_valid_signature, sign

SECRET = b"It's a Secret to Everybody"


def test_known_vector_from_github_docs() -> None:
    # GitHub's documented example: secret "It's a Secret to Everybody", payload "Hello, World!".
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign(SECRET, b"Hello, World!") == expected
    assert is_valid_signature(SECRET, b"Hello, World!", expected)


def test_rejects_missing_malformed_and_wrong() -> None:
    body = b"{}"
    good = sign(SECRET, body)
    assert not is_valid_signature(SECRET, body, None)
    assert not is_valid_signature(SECRET, body, "")
    assert not is_valid_signature(SECRET, body, good.replace("sha256=", "sha1="))
    assert not is_valid_signature(SECRET, body, good[:-1] + ("0" if good[-1] != "0" else "1"))
    assert not is_valid_signature(b"other", body, good)
    assert not is_valid_signature(SECRET, body, "sha256=ü")


@given(st.binary(max_size=512), st.binary(min_size=1, max_size=64))
def test_signature_round_trip_and_body_sensitivity(body: bytes, secret: bytes) -> None:
    header = sign(secret, body)
    assert is_valid_signature(secret, body, header)
    assert not is_valid_signature(secret, body + b"x", header)
