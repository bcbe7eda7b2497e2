from __future__ import annotations

from app.conversation.ask import budgeted_diff
from app.conversation.fixed import code_moved_on
from app.conversation.store import PostedFindingRecord
from app.conversation.threads import code_window, find_root, our_fingerprint, record_from_comment, thread_of
from app.github.models import ReviewComment

OURS = (
    "**\U0001f7e0 risk \u00b7 major: Bug marker left in code**\n\nShell injection through cmd.\n\n"
    "<!-- mini-review:fp=0123456789abcdef -->"
)


def comment(id: int, body: str = "hi", *, bot: bool = False, reply_to: int | None = None) -> ReviewComment:
    return ReviewComment(
        id=id,
        body=body,
        path="app/run.py",
        line=5,
        user_login="mini-review[bot]" if bot else "dev",
        user_type="Bot" if bot else "User",
        in_reply_to_id=reply_to,
        original_line=5,
        commit_id="c1",
        original_commit_id="c0",
    )


def test_thread_helpers_find_our_root_and_the_thread_in_order() -> None:
    root = comment(1, OURS, bot=True)
    replies = [comment(5, "why?", reply_to=1), comment(3, "hm", reply_to=1), comment(9, "other")]
    by_id = {c.id: c for c in [root, *replies]}
    assert find_root(by_id, 5) == root and find_root(by_id, 1) == root
    assert our_fingerprint(root) == "0123456789abcdef"
    assert our_fingerprint(comment(2, OURS)) is None  # a person cannot plant our marker
    assert our_fingerprint(comment(4, OURS, bot=True, reply_to=1)) is None  # replies do not start threads
    assert [c.id for c in thread_of([root, *replies], 1)] == [1, 3, 5]


def test_a_lost_database_is_replaced_by_what_the_comment_says() -> None:
    record = record_from_comment("0123456789abcdef", comment(1, OURS, bot=True))
    assert (record.category, record.severity, record.title) == ("risk", "major", "Bug marker left in code")
    assert record.body == "Shell injection through cmd." and record.commit_sha == "c0"


def test_code_window_numbers_lines_around_the_comment() -> None:
    text = "\n".join(f"line{n}" for n in range(1, 41))
    window = code_window(text, 20, radius=2)
    assert window.split("\n") == ["18 line18", "19 line19", "20 line20", "21 line21", "22 line22"]
    assert code_window("a\nb", None).split("\n") == ["1 a", "2 b"]


def test_code_moved_on_looks_for_the_flagged_line_near_its_old_place() -> None:
    rec = PostedFindingRecord(
        fingerprint="f",
        path="p",
        line=5,
        category="risk",
        severity="major",
        title="t",
        body="b",
        quote="    # BUG:  shell injection",
    )
    before = "import os\n\ndef run(cmd):\n\n    # BUG: shell injection\n    return 1\n"
    shifted = "import sys\n" * 3 + before
    fixed = before.replace("    # BUG: shell injection\n", "")
    assert not code_moved_on(before, rec)
    assert not code_moved_on(shifted, rec)  # moved a little: still there
    assert code_moved_on(fixed, rec)
    assert not code_moved_on(None, rec)  # not served (deleted, too large): nothing shows a fix
    assert not code_moved_on(fixed, rec.model_copy(update={"quote": ""}))  # nothing to compare


def test_budgeted_diff_names_the_files_that_do_not_fit() -> None:
    small = ("a.py", "@@ -1 +1 @@\n-x\n+y")
    big = ("big.py", "@@ -1 +1 @@\n" + "+word " * 5000)
    text = budgeted_diff([small, big, ("c.py", "+z")], 100)
    assert text.startswith("--- a.py\n@@ -1 +1 @@") and "--- c.py" in text
    assert "--- big.py" not in text and "1 file(s) not shown, over the budget: big.py" in text


def test_with_our_login_known_only_our_own_account_starts_our_threads() -> None:
    root = comment(1, OURS, bot=True)
    assert our_fingerprint(root, "mini-review[bot]") == "0123456789abcdef"
    assert our_fingerprint(root, "other-app[bot]") is None  # another App cannot plant our marker


def test_answers_are_posted_neutralised_with_our_marker() -> None:
    from app.conversation.policy import ANSWER_MARKER, render_answer

    body = render_answer(
        "Ask @octo-team about #12 ![x](https://evil.example/?q=1) <img src=x> token ghp_" + "a" * 36,
        note="_dismissed_",
    )
    assert "@\u200bocto-team" in body and "#\u200b12" in body
    assert "<img" not in body and "](https://evil.example" not in body
    assert "ghp_" + "a" * 36 not in body  # a secret the model echoed is not posted
    assert body.endswith(f"_dismissed_\n\n{ANSWER_MARKER}")
