"""`mini-review review` on real git repositories made here, against the fake model over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sarif_kit.validate import validation_errors

from app.local.formats.json_report import JsonReport
from tests.e2e.harness import OPENAI_KEY
from tests.e2e.local_git import Repo, line_of, new_repo, run_review
from tests.fakes.openai_server import ChunkView, FakeOpenAI, default_brain, finding
from tests.fakes.server import free_port, serve_in_thread

APP_BASE = "import os\n\n\ndef load(path):\n    return open(path).read()\n"
APP_HEAD = APP_BASE + "\n\ndef save(path, data):\n    open(path, 'w').write(data)  # BUG: never closed\n"
OLD_NAME = "def helper():\n    return 1\n\n\ndef other():\n    return 2\n"
NEW_NAME = "def helper():\n    return 1  # BUG: wrong constant\n\n\ndef other():\n    return 2\n"
LATIN1 = "caf\xe9 = 'cr\xe8me'\n".encode("latin-1")
LATIN1_HEAD = LATIN1 + "valeur = 1  # BUG: pas bon\n".encode("latin-1")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
def model() -> Iterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI()
    with serve_in_thread(fake.app) as url:
        yield fake, url


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """main: three source files and a lockfile; feature: edits, a rename, a binary, non-UTF-8 text."""
    r = new_repo(tmp_path)
    r.write("src/app.py", APP_BASE)
    r.write("src/old_name.py", OLD_NAME)
    r.write("src/legacy.py", LATIN1)
    r.write("package-lock.json", '{"lockfileVersion": 3}\n')
    r.write(".github/mini-review.yml", "paths:\n  exclude: ['docs/**']\n")
    r.commit("base")
    r.git("checkout", "-q", "-b", "feature")
    r.write("src/app.py", APP_HEAD)
    r.git("mv", "src/old_name.py", "src/new_name.py")
    r.write("src/new_name.py", NEW_NAME)
    r.write("src/legacy.py", LATIN1_HEAD)
    r.write("assets/logo.png", PNG)
    r.write("package-lock.json", '{"lockfileVersion": 3, "packages": {}}\n')
    r.write("docs/guide.md", "# Guide\nBUG in the docs\n")
    r.commit("feature work")
    return r


def env_for(url: str, **extra: str) -> dict[str, str]:
    return {"OPENAI_API_KEY": OPENAI_KEY, "OPENAI_BASE_URL": f"{url}/v1", **extra}


def expected_lines() -> dict[str, int]:
    return {
        "src/app.py": line_of(APP_HEAD, "BUG"),
        "src/new_name.py": line_of(NEW_NAME, "BUG"),
        "src/legacy.py": line_of(LATIN1_HEAD.decode("latin-1"), "BUG"),
    }


def review_json(repo: Repo, url: str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_review(
        ["--repo", str(repo.path), "--base", "main", "--format", "json", *extra],
        cwd=repo.path.parent,
        env=env_for(url),
    )
    assert result.stdout, result.stderr
    return result.code, json.loads(result.stdout)


def test_json_findings_land_on_the_heads_lines_and_skips_are_listed(repo: Repo, model: Any) -> None:
    fake, url = model
    code, report = review_json(repo, url)
    assert code == 0
    JsonReport.model_validate(report)  # the documented schema
    assert report["schema_version"] == 1
    placed = {(f["path"], f["line"], f["side"]) for f in report["findings"]}
    assert placed == {(path, line, "RIGHT") for path, line in expected_lines().items()}
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert set(skipped) == {"package-lock.json", "assets/logo.png", "docs/guide.md"}
    assert report["complete"] is True
    assert report["base"] == repo.git("rev-parse", "main")
    assert report["head"] == repo.git("rev-parse", "feature")
    assert report["usage"]["calls"] == len(fake.requests) == 1  # three small files share one call
    # The renamed file is reviewed under its new name; the lockfile, binary and excluded docs never sent.
    sent = {path for request in fake.requests for path in request.paths}
    assert sent == {"src/app.py", "src/new_name.py", "src/legacy.py"}
    assert all(f["code"] and "BUG" in f["code"] for f in report["findings"])


def test_fingerprints_are_stable_across_runs(repo: Repo, model: Any) -> None:
    _, url = model
    first = {f["fingerprint"] for f in review_json(repo, url)[1]["findings"]}
    second = {f["fingerprint"] for f in review_json(repo, url)[1]["findings"]}
    assert first == second and len(first) == 3


def test_sarif_validates_and_locates_results_on_head_lines(repo: Repo, model: Any) -> None:
    _, url = model
    result = run_review(
        ["--repo", str(repo.path), "--base", "main", "--format", "sarif"],
        cwd=repo.path.parent,
        env=env_for(url),
    )
    assert result.code == 0, result.stderr
    sarif = json.loads(result.stdout)
    assert validation_errors(sarif) == []
    run = sarif["runs"][0]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == [
        "mini-review/lint",
        "mini-review/test",
        "mini-review/risk",
    ]
    located = {
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in run["results"]
    }
    assert located == set(expected_lines().items())
    assert all(r["partialFingerprints"]["miniReviewFingerprint/v1"] for r in run["results"])
    assert {r["level"] for r in run["results"]} == {"error"}  # major findings


def test_github_workflow_commands(repo: Repo, model: Any) -> None:
    _, url = model
    result = run_review(
        ["--repo", str(repo.path), "--base", "main", "--format", "github"],
        cwd=repo.path.parent,
        env=env_for(url),
    )
    assert result.code == 0, result.stderr
    commands = [line for line in result.stdout.splitlines() if line.startswith("::")]
    expected = {f"::error file={path},line={line}," for path, line in expected_lines().items()}
    assert {c[: c.index(",title=") + 1] for c in commands} == expected


def test_text_report_groups_by_file_and_ends_with_the_footer(repo: Repo, model: Any) -> None:
    _, url = model
    out = tmp_out = repo.path.parent / "report.txt"
    result = run_review(
        ["--repo", str(repo.path), "--base", "main", "--output", str(tmp_out)],
        cwd=repo.path.parent,
        env=env_for(url),
    )
    assert result.code == 0, result.stderr
    text = "\n" + out.read_text()
    assert "\x1b[" not in text  # no colour when not on a terminal
    for path, line in expected_lines().items():
        assert f"\n{path}\n  L{line} " in text
    assert "not reviewed: package-lock.json: lockfile" in text
    assert "not reviewed: assets/logo.png: binary" in text
    assert "tokens:" in text and "cost $" in text


@pytest.mark.parametrize(("fail_on", "code"), [("major", 1), ("critical", 0), ("nit", 1)])
def test_fail_on_sets_the_exit_code(repo: Repo, model: Any, fail_on: str, code: int) -> None:
    _, url = model
    result = run_review(
        ["--repo", str(repo.path), "--base", "main", "--fail-on", fail_on, "--format", "json"],
        cwd=repo.path.parent,
        env=env_for(url),
    )
    assert result.code == code, result.stderr


def test_only_limits_categories(repo: Repo, model: Any) -> None:
    _, url = model
    _, report = review_json(repo, url, "--only", "test,lint")
    assert report["findings"] == []


def test_unreachable_model_exits_3_and_still_reports(repo: Repo) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    result = run_review(
        ["--repo", str(repo.path), "--base", "main", "--format", "json"],
        cwd=repo.path.parent,
        env=env_for(dead, MINI_MODEL_MAX_ATTEMPTS="1"),
    )
    assert result.code == 3
    report = json.loads(result.stdout)
    assert report["complete"] is False
    assert {c["path"] for c in report["failed_chunks"]} == set(expected_lines())
    assert {s["path"] for s in report["skipped"]} >= {"package-lock.json"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--only", "style"], "--only takes"),
        (["--base", "no-such-branch"], "unknown revision"),
        (["--diff", "missing.diff"], "cannot read"),
    ],
)
def test_usage_errors_exit_2_with_one_line(repo: Repo, model: Any, args: list[str], needle: str) -> None:
    _, url = model
    result = run_review(["--repo", str(repo.path), *args], cwd=repo.path.parent, env=env_for(url))
    assert result.code == 2
    assert needle in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_missing_api_key_and_bad_config_exit_2(repo: Repo, model: Any, tmp_path: Path) -> None:
    _, url = model
    no_key = run_review(["--repo", str(repo.path)], cwd=tmp_path, env={"OPENAI_BASE_URL": f"{url}/v1"})
    assert no_key.code == 2 and "OPENAI_API_KEY" in no_key.stderr
    bad = tmp_path / "bad.yml"
    bad.write_text("min_severity: loud\n")
    result = run_review(
        ["--repo", str(repo.path), "--base", "main", "--config", str(bad)], cwd=tmp_path, env=env_for(url)
    )
    assert result.code == 2 and "min_severity" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_outside_git_needs_diff(tmp_path: Path, model: Any) -> None:
    fake, url = model
    outside = tmp_path / "plain"
    outside.mkdir()
    refused = run_review(["--repo", str(outside)], cwd=outside, env=env_for(url))
    assert refused.code == 2 and "not a git repository" in refused.stderr
    patch = (
        "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,3 @@\n a = 1\n+b = 2  # BUG\n c = 3\n"
    )
    (outside / "change.diff").write_text(patch)
    from_file = run_review(["--diff", "change.diff", "--format", "json"], cwd=outside, env=env_for(url))
    from_stdin = run_review(
        ["--diff", "-", "--format", "json"], cwd=outside, env=env_for(url), stdin=patch.encode()
    )
    for result in (from_file, from_stdin):
        assert result.code == 0, result.stderr
        findings = json.loads(result.stdout)["findings"]
        assert [(f["path"], f["line"]) for f in findings] == [("x.py", 2)]


def test_staged_and_worktree_scopes(repo: Repo, model: Any) -> None:
    _, url = model
    repo.write("src/app.py", APP_HEAD + "STAGED = 1  # BUG staged\n")
    repo.git("add", "src/app.py")
    text = APP_HEAD + "STAGED = 1  # BUG staged\n" + "PAD = 0\n" * 12 + "LATER = 2  # BUG unstaged\n"
    repo.write("src/app.py", text)
    staged = run_review(
        ["--repo", str(repo.path), "--staged", "--format", "json"], cwd=repo.path, env=env_for(url)
    )
    work = run_review(
        ["--repo", str(repo.path), "--worktree", "--format", "json"], cwd=repo.path, env=env_for(url)
    )
    staged_lines = {f["line"] for f in json.loads(staged.stdout)["findings"]}
    work_lines = {f["line"] for f in json.loads(work.stdout)["findings"]}
    assert staged_lines == {line_of(text, "BUG staged")}
    assert work_lines == {line_of(text, "BUG staged"), line_of(text, "BUG unstaged")}


def test_config_comes_from_the_base_not_the_branch(repo: Repo, model: Any) -> None:
    fake, url = model
    repo.write(".github/mini-review.yml", "enabled: true\npaths:\n  exclude: ['src/**']\n")
    repo.commit("try to exclude everything on the branch")
    _, report = review_json(repo, url)
    assert {f["path"] for f in report["findings"]} == set(expected_lines())


def test_model_text_cannot_drive_the_terminal(repo: Repo, tmp_path: Path) -> None:
    def hostile(view: ChunkView) -> list[dict[str, Any]]:
        out = default_brain(view)
        return [dict(f, title="\x1b]0;pwned\x07\x1b[2JClear", body="\x1b[31mred") for f in out]

    fake = FakeOpenAI(brain=hostile)
    with serve_in_thread(fake.app) as url:
        result = run_review(["--repo", str(repo.path), "--base", "main"], cwd=tmp_path, env=env_for(url))
    assert result.code == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "Clear" in result.stdout


def test_findings_on_removed_lines_stay_on_the_old_side(repo: Repo, tmp_path: Path) -> None:
    def on_removed(view: ChunkView) -> list[dict[str, Any]]:
        return [
            finding(view, line, title="Removed something needed") for line in view.lines if line.mark == "-"
        ][:1]

    repo.write("src/app.py", "import os\n")
    repo.commit("drop load")
    fake = FakeOpenAI(brain=on_removed)
    with serve_in_thread(fake.app) as url:
        result = run_review(
            ["--repo", str(repo.path), "--base", "main", "--format", "sarif"], cwd=tmp_path, env=env_for(url)
        )
    sarif = json.loads(result.stdout)
    assert validation_errors(sarif) == []
    removed = [r for r in sarif["runs"][0]["results"] if "Removed" in r["message"]["text"]]
    assert removed and all("region" not in r["locations"][0]["physicalLocation"] for r in removed)
