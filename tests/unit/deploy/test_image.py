"""The Dockerfile and its lock, read offline (no Docker engine here: `docker build` itself is unverified)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[3]
LOCK = ROOT / "deploy" / "requirements.lock"
STALE = "deploy/requirements.lock does not match pyproject.toml: run `make lock`"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def locked() -> dict[str, tuple[Version, list[str]]]:
    """Package → (pinned version, its hashes)."""
    pins: dict[str, tuple[Version, list[str]]] = {}
    current = ""
    for raw in LOCK.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("--hash=sha256:"):
            pins[current][1].append(line.removeprefix("--hash=sha256:").rstrip(" \\"))
            continue
        spec = line.rstrip(" \\").split(";")[0].strip()
        name, _, version = spec.partition("==")
        assert version, f"unpinned line in the lock: {line}"
        current = canonicalize_name(name.split("[")[0])
        pins[current] = (Version(version), [])
    return pins


def test_every_locked_package_is_pinned_with_hashes() -> None:
    pins = locked()
    assert pins
    for name, (_version, hashes) in pins.items():
        assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name


def test_lock_covers_every_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = locked()
    for text in project["dependencies"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} missing. {STALE}"
        assert requirement.specifier.contains(pins[name][0], prereleases=True), f"{text}: {STALE}"
    assert "setuptools" in pins  # the build backend, so the image build downloads nothing unpinned


def test_dockerfile_is_multi_stage_hashed_non_root_and_signal_safe() -> None:
    steps = instructions()
    stages = [args for word, args in steps if word == "FROM"]
    assert len(stages) >= 2 and any(" AS build" in s for s in stages)
    runs = " ".join(args for word, args in steps if word == "RUN")
    assert "--require-hashes" in runs and "requirements.lock" in runs
    assert "--no-build-isolation" in runs  # our own package builds with the locked backend
    final = steps[max(i for i, (word, _) in enumerate(steps) if word == "FROM") :]
    users = [args for word, args in final if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    (healthcheck,) = [args for word, args in final if word == "HEALTHCHECK"]
    assert "/healthz" in healthcheck
    # Exec form (JSON arrays) so SIGTERM reaches tini and mini-review, not a shell.
    entrypoint = json.loads(next(args for word, args in final if word == "ENTRYPOINT"))
    command = json.loads(next(args for word, args in final if word == "CMD"))
    assert entrypoint[0].endswith("tini") and command[:2] == ["mini-review", "serve"]
    assert (ROOT / ".dockerignore").read_text().count(".env") >= 1
