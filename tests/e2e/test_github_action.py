"""The composite action's review step, run as GitHub Actions would, against the fake GitHub and model."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import yaml
from sarif_kit.validate import validation_errors

from tests.e2e.harness import OPENAI_KEY
from tests.e2e.local_git import GIT_ENV, Repo, line_of, new_repo
from tests.fakes.github import FakeGitHub
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.server import serve_in_thread

ACTION = Path(__file__).resolve().parents[2] / "deploy" / "github-action" / "action.yml"
OWNER, NAME, NUMBER, INSTALLATION = "acme", "widgets", 5, 77
BASE = "def load(path):\n    return open(path).read()\n"
HEAD = BASE + "\n\ndef save(path, data):\n    open(path, 'w').write(data)  # BUG: never closed\n"
_EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def review_step() -> dict[str, Any]:
    action = yaml.safe_load(ACTION.read_text())
    assert action["runs"]["using"] == "composite"
    steps = [s for s in action["runs"]["steps"] if s.get("id") == "review"]
    assert len(steps) == 1
    return {"inputs": action["inputs"], **steps[0]}


def resolve(value: str, inputs: dict[str, str]) -> str:
    """Evaluate the `${{ inputs.NAME }}` expressions the step's env uses."""

    def one(match: re.Match[str]) -> str:
        expression = match.group(1)
        assert expression.startswith("inputs."), f"unexpected expression {expression}"
        return inputs[expression.removeprefix("inputs.")]

    return _EXPRESSION.sub(one, value)


def mint_token(github: FakeGitHub, url: str) -> str:
    now = int(time.time())
    assertion = jwt.encode(
        {"iat": now - 30, "exp": now + 300, "iss": str(github.app_id)}, github.private_key_pem, "RS256"
    )
    response = httpx.post(
        f"{url}/app/installations/{INSTALLATION}/access_tokens",
        headers={"Authorization": f"Bearer {assertion}"},
    )
    response.raise_for_status()
    return str(response.json()["token"])


def make_repo(tmp_path: Path) -> tuple[Repo, str, str, str]:
    repo = new_repo(tmp_path)
    repo.write("src/app.py", BASE)
    base = repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("src/app.py", HEAD)
    head = repo.commit("save")
    diff = repo.git("diff", "main...feature", "--", "src/app.py")
    patch = diff[diff.index("@@") :] + "\n"
    return repo, base, head, patch


def run_action(
    repo: Repo, event: Path, gh_url: str, model_url: str, token: str, bot: str, **overrides: str
) -> subprocess.CompletedProcess[bytes]:
    step = review_step()
    inputs = {name: str(spec.get("default", "")) for name, spec in step["inputs"].items()}
    inputs.update({"openai-api-key": OPENAI_KEY, "openai-base-url": f"{model_url}/v1", "github-token": token})
    inputs.update({"bot-login": bot, **overrides})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MINI_", "GITHUB_"))}
    env.update({name: resolve(str(value), inputs) for name, value in step["env"].items()})
    env.update(GIT_ENV)
    env["HOME"] = str(repo.home)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        {"GITHUB_EVENT_PATH": str(event), "GITHUB_API_URL": gh_url, "GITHUB_OUTPUT": str(event) + ".out"}
    )
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=repo.path,
        env=env,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture
def world(tmp_path: Path) -> Any:
    github, model = FakeGitHub(), FakeOpenAI()
    repo, base, head, patch = make_repo(tmp_path)
    github.add_repo(OWNER, NAME, INSTALLATION)
    github.add_pull(
        OWNER, NAME, NUMBER, head_sha=head, base_sha=base, files=[{"filename": "src/app.py", "patch": patch}]
    )
    event = tmp_path / "event.json"
    payload = {
        "action": "synchronize",
        "number": NUMBER,
        "pull_request": {
            "number": NUMBER,
            "title": "Add save",
            "body": "Saves data.",
            "base": {"sha": base, "ref": "main"},
            "head": {"sha": head, "ref": "feature"},
        },
        "repository": {"full_name": f"{OWNER}/{NAME}"},
    }
    event.write_text(json.dumps(payload))
    with serve_in_thread(github.app) as gh_url, serve_in_thread(model.app) as model_url:
        token = mint_token(github, gh_url)
        yield github, repo, event, gh_url, model_url, token


def test_action_posts_one_review_on_the_right_line_and_never_repeats(world: Any) -> None:
    github, repo, event, gh_url, model_url, token = world
    first = run_action(repo, event, gh_url, model_url, token, github.bot_login)
    assert first.returncode == 0, first.stderr.decode()
    assert b"::error file=src/app.py,line=" in first.stdout
    reviews = github.reviews(OWNER, NAME, NUMBER)
    assert len(reviews) == 1
    comments = github.review_comments(OWNER, NAME, NUMBER)
    assert [(c["path"], c["line"], c["side"]) for c in comments] == [
        ("src/app.py", line_of(HEAD, "BUG"), "RIGHT")
    ]
    assert "exit-code=0" in Path(str(event) + ".out").read_text()

    again = run_action(repo, event, gh_url, model_url, token, github.bot_login)
    assert again.returncode == 0, again.stderr.decode()
    assert b"nothing new to post" in again.stderr
    assert len(github.reviews(OWNER, NAME, NUMBER)) == 1
    assert len(github.review_comments(OWNER, NAME, NUMBER)) == 1


def test_action_writes_sarif_and_reports_fail_on(world: Any) -> None:
    github, repo, event, gh_url, model_url, token = world
    done = run_action(
        repo, event, gh_url, model_url, token, github.bot_login, sarif="true", **{"fail-on": "major"}
    )
    assert done.returncode == 0, done.stderr.decode()  # exit 1 is deferred to the step after the upload
    assert "exit-code=1" in Path(str(event) + ".out").read_text()
    sarif = json.loads((repo.path / "mini-review.sarif").read_text())
    assert validation_errors(sarif) == []
    assert len(github.reviews(OWNER, NAME, NUMBER)) == 1


def test_markers_from_other_accounts_are_not_trusted(world: Any) -> None:
    github, repo, event, gh_url, model_url, token = world
    run_action(repo, event, gh_url, model_url, token, github.bot_login)
    # The same markers read as another account's (e.g. a user pasting them) must not silence the finding.
    again = run_action(repo, event, gh_url, model_url, token, "someone-else")
    assert again.returncode == 0, again.stderr.decode()
    assert len(github.reviews(OWNER, NAME, NUMBER)) == 2
