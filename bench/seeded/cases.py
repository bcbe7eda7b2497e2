"""Twenty-four small pull requests, each with one or two deliberately planted bugs (written for mini-review).

A case is one or more files of a PR given as the new file's lines; `changed` says which lines the PR
added (the rest are unchanged context), and each `Bug` names the line (1-based, new file) where the
planted problem is, with the category a reviewer should file it under. Lines are plain code: no
marker in the text gives the answer away.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Bug:
    path: str
    line: int
    category: str  # lint, test or risk
    what: str


@dataclass(frozen=True)
class SeededFile:
    path: str
    lines: tuple[str, ...]
    changed: frozenset[int] = frozenset()  # 1-based new-file lines the PR adds; empty: all (a new file)

    def patch(self) -> str:
        """Return the files-API patch of this file: one hunk over the whole (short) file."""
        added = self.changed or frozenset(range(1, len(self.lines) + 1))
        old_len = sum(1 for n in range(1, len(self.lines) + 1) if n not in added)
        body = [("+" if n in added else " ") + text for n, text in enumerate(self.lines, start=1)]
        old_start = 1 if old_len else 0
        return f"@@ -{old_start},{old_len} +1,{len(self.lines)} @@\n" + "\n".join(body)

    @property
    def status(self) -> str:
        return "modified" if self.changed else "added"


@dataclass(frozen=True)
class SeededCase:
    name: str
    title: str
    files: tuple[SeededFile, ...]
    bugs: tuple[Bug, ...] = field(default_factory=tuple)


def _f(path: str, code: str, changed: set[int] | None = None) -> SeededFile:
    return SeededFile(path, tuple(code.strip("\n").split("\n")), frozenset(changed or ()))


CASES: tuple[SeededCase, ...] = (
    SeededCase(
        "off-by-one-slice",
        "Paginate results",
        (
            _f(
                "app/paging.py",
                '''
def page(items, number, size):
    """Return page `number` (1-based) of `items`."""
    start = number * size
    return items[start:start + size]
''',
            ),
        ),
        (Bug("app/paging.py", 3, "risk", "1-based page starts at (number - 1) * size"),),
    ),
    SeededCase(
        "sql-injection",
        "Look users up by name",
        (
            _f(
                "app/users.py",
                """
def find_user(db, name):
    query = f"SELECT id, email FROM users WHERE name = '{name}'"
    return db.execute(query).fetchone()
""",
            ),
        ),
        (Bug("app/users.py", 2, "risk", "SQL built from user input"),),
    ),
    SeededCase(
        "mutable-default",
        "Collect tags",
        (
            _f(
                "app/tags.py",
                """
def add_tag(tag, tags=[]):
    tags.append(tag.strip().lower())
    return tags
""",
            ),
        ),
        (Bug("app/tags.py", 1, "lint", "mutable default argument shared between calls"),),
    ),
    SeededCase(
        "unclosed-file",
        "Read the config once",
        (
            _f(
                "app/config_loader.py",
                """
import json


def load(path):
    handle = open(path)
    data = json.load(handle)
    return data
""",
            ),
        ),
        (Bug("app/config_loader.py", 5, "risk", "file handle never closed"),),
    ),
    SeededCase(
        "swallowed-exception",
        "Make the sync more robust",
        (
            _f(
                "app/sync.py",
                """
import logging

log = logging.getLogger(__name__)


def sync(client, rows):
    for row in rows:
        try:
            client.push(row)
        except Exception:
            pass
    log.info("synced %d rows", len(rows))
""",
            ),
        ),
        (Bug("app/sync.py", 10, "risk", "errors silently swallowed, yet success logged"),),
    ),
    SeededCase(
        "wrong-comparison",
        "Check admin rights",
        (
            _f(
                "app/auth.py",
                """
ADMIN = "admin"


def is_admin(user):
    return user.role is ADMIN
""",
            ),
        ),
        (Bug("app/auth.py", 5, "lint", "identity comparison of strings"),),
    ),
    SeededCase(
        "shell-injection",
        "Archive a folder",
        (
            _f(
                "app/archive.py",
                """
import subprocess


def archive(folder, target):
    subprocess.run(f"tar czf {target} {folder}", shell=True, check=True)
""",
            ),
        ),
        (Bug("app/archive.py", 5, "risk", "shell command built from arguments"),),
    ),
    SeededCase(
        "missing-await",
        "Notify subscribers",
        (
            _f(
                "app/notify.py",
                """
import asyncio


async def send(subscriber, message):
    await subscriber.deliver(message)


async def notify_all(subscribers, message):
    for subscriber in subscribers:
        send(subscriber, message)
""",
            ),
        ),
        (Bug("app/notify.py", 10, "risk", "coroutine never awaited"),),
    ),
    SeededCase(
        "division-by-zero",
        "Average response time",
        (
            _f(
                "app/stats.py",
                """
def average(samples):
    total = sum(samples)
    return total / len(samples)
""",
            ),
        ),
        (Bug("app/stats.py", 3, "risk", "empty list divides by zero"),),
    ),
    SeededCase(
        "js-loose-equality",
        "Validate the quantity field",
        (
            _f(
                "web/cart.js",
                """
export function isEmpty(quantity) {
  return quantity == 0;
}
""",
            ),
        ),
        (Bug("web/cart.js", 2, "lint", "loose equality treats '' and null-ish as 0"),),
    ),
    SeededCase(
        "js-xss",
        "Show the user's name",
        (
            _f(
                "web/profile.js",
                """
export function renderName(element, user) {
  element.innerHTML = "<b>" + user.displayName + "</b>";
}
""",
            ),
        ),
        (Bug("web/profile.js", 2, "risk", "unescaped user text into innerHTML"),),
    ),
    SeededCase(
        "go-ignored-error",
        "Write the report file",
        (
            _f(
                "report/write.go",
                """
package report

import "os"

func Write(path string, data []byte) {
	f, _ := os.Create(path)
	f.Write(data)
	f.Close()
}
""",
            ),
        ),
        (Bug("report/write.go", 6, "risk", "error from os.Create ignored; nil file used"),),
    ),
    SeededCase(
        "hardcoded-secret",
        "Connect to the payments API",
        (
            _f(
                "app/payments.py",
                """
import httpx

API_KEY = "pk_live_51HxQeR2mTzv8NwYk3LpQ9sDfG7hJ"


def charge(amount_cents):
    return httpx.post("https://payments.example/charge", json={"amount": amount_cents}, auth=(API_KEY, ""))
""",
            ),
        ),
        (Bug("app/payments.py", 3, "risk", "live API key committed"),),
    ),
    SeededCase(
        "race-check-then-act",
        "Create the cache directory",
        (
            _f(
                "app/cache.py",
                """
import os


def ensure_dir(path):
    if not os.path.exists(path):
        os.mkdir(path)
    return path
""",
            ),
        ),
        (Bug("app/cache.py", 6, "risk", "check-then-create race; mkdir fails if created meanwhile"),),
    ),
    SeededCase(
        "timezone-naive",
        "Expire old sessions",
        (
            _f(
                "app/sessions.py",
                """
from datetime import datetime, timedelta


def expired(session):
    return datetime.now() - session.created_at > timedelta(hours=8)
""",
            ),
        ),
        (Bug("app/sessions.py", 5, "risk", "naive local time compared with stored time"),),
    ),
    SeededCase(
        "missing-test",
        "Add a discount rule",
        (
            _f(
                "app/pricing.py",
                """
def price(base, customer):
    if customer.years >= 5:
        return round(base * 0.9, 2)
    return base
""",
            ),
            _f(
                "tests/test_pricing.py",
                """
from app.pricing import price


def test_price_without_discount(customer_factory):
    assert price(100, customer_factory(years=1)) == 100
""",
                {1, 2, 3, 4, 5},
            ),
        ),
        (Bug("app/pricing.py", 2, "test", "the 5-year discount branch is not tested"),),
    ),
    SeededCase(
        "modified-loop-bound",
        "Skip the header row",
        (
            _f(
                "app/csv_rows.py",
                """
def data_rows(rows):
    out = []
    for index in range(1, len(rows) - 1):
        out.append(rows[index])
    return out
""",
                {3},
            ),
        ),
        (Bug("app/csv_rows.py", 3, "risk", "drops the last row too"),),
    ),
    SeededCase(
        "inverted-condition",
        "Only retry transient failures",
        (
            _f(
                "app/retry.py",
                """
TRANSIENT = {429, 502, 503, 504}


def should_retry(status, attempt, limit=3):
    if status not in TRANSIENT and attempt < limit:
        return True
    return False
""",
                {5},
            ),
        ),
        (Bug("app/retry.py", 5, "risk", "retries permanent errors, never transient ones"),),
    ),
    SeededCase(
        "shadowed-builtin",
        "Sum the line items",
        (
            _f(
                "app/invoice.py",
                """
def total(items):
    sum = 0
    for item in items:
        sum += item.price * item.quantity
    return sum
""",
            ),
        ),
        (Bug("app/invoice.py", 2, "lint", "shadows the builtin sum"),),
    ),
    SeededCase(
        "unsafe-yaml",
        "Load plugin manifests",
        (
            _f(
                "app/plugins.py",
                """
import yaml


def manifest(text):
    return yaml.load(text, Loader=yaml.Loader)
""",
            ),
        ),
        (Bug("app/plugins.py", 5, "risk", "unsafe YAML loader on untrusted text"),),
    ),
    SeededCase(
        "two-bugs",
        "Token bucket limiter",
        (
            _f(
                "app/limiter.py",
                """
import time


class Bucket:
    def __init__(self, rate, capacity):
        self.rate = rate
        self.capacity = capacity
        self.tokens = 0
        self.stamp = time.time()

    def take(self):
        now = time.time()
        self.tokens = self.tokens + (now - self.stamp) * self.rate
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
""",
            ),
        ),
        (
            Bug("app/limiter.py", 13, "risk", "tokens never capped at capacity"),
            Bug("app/limiter.py", 12, "lint", "wall clock time.time() can jump; use monotonic"),
        ),
    ),
    SeededCase(
        "path-traversal",
        "Serve uploaded files",
        (
            _f(
                "app/uploads.py",
                """
from pathlib import Path

ROOT = Path("/srv/uploads")


def read_upload(name):
    return (ROOT / name).read_bytes()
""",
            ),
        ),
        (Bug("app/uploads.py", 7, "risk", "name may contain ../ and escape the folder"),),
    ),
    SeededCase(
        "clean-change",
        "Rename a helper",
        (
            _f(
                "app/text.py",
                '''
def normalise_space(text):
    """Collapse runs of whitespace to one space."""
    return " ".join(text.split())
''',
            ),
        ),
        (),
    ),
    SeededCase(
        "dict-iteration-mutation",
        "Drop expired entries",
        (
            _f(
                "app/store.py",
                """
def prune(entries, now):
    for key, entry in entries.items():
        if entry.expires_at < now:
            del entries[key]
    return entries
""",
            ),
        ),
        (Bug("app/store.py", 4, "risk", "dict changed size during iteration"),),
    ),
)
