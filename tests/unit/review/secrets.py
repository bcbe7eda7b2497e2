"""Planted fake secrets for redaction tests, built at run time so no scanner mistakes them for real."""

from __future__ import annotations

import random
import string

_rng = random.Random(20240501)
_ALNUM = string.ascii_letters + string.digits


def _rand(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


AWS = "AKIA" + _rand(16, string.ascii_uppercase + string.digits)
GITHUB = "ghp_" + _rand(36)
GITHUB_PAT = "github_pat_" + _rand(22) + "_" + _rand(59)
SLACK = "xoxb-" + _rand(12, string.digits) + "-" + _rand(24)
OPENAI = "sk-proj-" + _rand(40) + "7"
JWT = "eyJ" + _rand(20) + ".eyJ" + _rand(30) + "." + _rand(43)
GOOGLE = "AIza" + _rand(35)
PASSWORD = _rand(10) + "!#" + "9aZ"
KEY_BODY = [_rand(64, _ALNUM + "+/") for _ in range(3)]

#: (line of code that leaks it, the secret value, expected kind)
PLANTED: list[tuple[str, str, str]] = [
    (f'AWS_ACCESS_KEY_ID = "{AWS}"', AWS, "aws-access-key"),
    (f"gh = Github('{GITHUB}')", GITHUB, "github-token"),
    (f"token: {GITHUB_PAT}", GITHUB_PAT, "github-token"),
    (f"SLACK_WEBHOOK_TOKEN={SLACK}", SLACK, "slack-token"),
    (f'client = OpenAI(api_key="{OPENAI}")', OPENAI, "openai-key"),
    (f'headers["Authorization"] = "Bearer {JWT}"', JWT, "jwt"),
    (f"maps_key = '{GOOGLE}'", GOOGLE, "google-api-key"),
    (f'db_password = "{PASSWORD}"', PASSWORD, "generic-secret"),
]

PRIVATE_KEY_LINES = ["-----BEGIN RSA PRIVATE KEY-----", *KEY_BODY, "-----END RSA PRIVATE KEY-----"]
