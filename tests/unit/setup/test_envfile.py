"""The `.env` writer: values read back exactly, other entries kept, mode 0600."""

from __future__ import annotations

import stat
from pathlib import Path

from dotenv import dotenv_values
from hypothesis import given
from hypothesis import strategies as st

from app.setup.envfile import write_env

# dotenv drops a value's carriage returns; everything else printable must survive.
VALUES = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r") | st.just("\n"))


@given(value=VALUES)
def test_any_value_reads_back_unchanged(tmp_path_factory: object, value: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ".env"
        write_env(path, {"GITHUB_WEBHOOK_SECRET": value})
        assert dotenv_values(path)["GITHUB_WEBHOOK_SECRET"] == value


def test_keeps_other_entries_and_replaces_ours(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(
        '# keep me\nOPENAI_API_KEY=sk-1\nMULTI="a\nb"\nGITHUB_APP_ID=1\nGITHUB_APP_PRIVATE_KEY_PATH=/k'
    )
    path.chmod(0o644)
    write_env(
        path, {"GITHUB_APP_ID": "77", "GITHUB_APP_PRIVATE_KEY": "-----BEGIN-----\nabc\n-----END-----\n"}
    )
    values = dotenv_values(path)
    assert values["OPENAI_API_KEY"] == "sk-1" and values["MULTI"] == "a\nb"
    assert values["GITHUB_APP_ID"] == "77" and "GITHUB_APP_PRIVATE_KEY_PATH" not in values
    assert values["GITHUB_APP_PRIVATE_KEY"] == "-----BEGIN-----\nabc\n-----END-----\n"
    assert path.read_text().startswith("# keep me\n")
    assert path.read_text().count("GITHUB_APP_ID") == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [".env"]  # no temporary file left behind


def test_creates_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    write_env(path, {"GITHUB_CLIENT_SECRET": 'quote " and back\\slash'})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert dotenv_values(path)["GITHUB_CLIENT_SECRET"] == 'quote " and back\\slash'
