"""Conversation end to end: answers in our review threads and `/mini ask`, on the fake GitHub and model.

Payloads are built by `conversation_helpers` (no corpus needed). Everything goes over real HTTP.
"""

from __future__ import annotations

from tests.e2e.conversation_helpers import (
    AUTHOR,
    H1,
    NAME,
    NUMBER,
    OWNER,
    STRANGER,
    WRITER,
    bot_replies,
    bot_roots,
    issue_comment_event,
    open_pr,
    pr_event,
    reply,
    requests_for,
    review_comment_event,
    wait_bot_replies,
    wait_reviews,
)
from tests.e2e.harness import Stack, wait_for


def _reviewed(stack: Stack) -> dict[str, object]:
    open_pr(stack)
    assert stack.deliver("pull_request", pr_event("opened", H1)).status_code == 202
    wait_reviews(stack, 1)
    [root] = bot_roots(stack)
    return root


def test_a_writers_why_gets_one_threaded_answer_and_a_strangers_gets_none(stack: Stack) -> None:
    root = _reviewed(stack)
    root_id = int(root["id"])  # type: ignore[call-overload]
    stranger = reply(stack, root_id, "why?", login=STRANGER, association="NONE")
    question = reply(stack, root_id, "why? this looks fine to me", login=WRITER, association="NONE")
    [answer] = wait_bot_replies(stack, root_id, 1)
    assert answer["in_reply_to_id"] == root_id and "Bug marker left in code" in answer["body"]
    assert "<!-- mini-review:answer -->" in answer["body"]
    [request] = requests_for(stack, "thread_answer")  # the stranger's reply cost nothing
    assert request.user.rstrip().endswith("why? this looks fine to me\n</message>\n</thread>\n</data>")
    assert "# BUG: shell injection through cmd" in request.user  # the code at the current head
    # The same reply delivered again (new delivery id) or edited never answers twice.
    stack.deliver("pull_request_review_comment", review_comment_event(question, association="NONE"))
    stack.deliver(
        "pull_request_review_comment", review_comment_event(question, association="NONE", action="edited")
    )
    # A barrier: the PR author's own question is answered after the jobs above ran (one PR, one queue).
    reply(stack, root_id, "And what should I use instead?", login=AUTHOR, association="CONTRIBUTOR")
    answers = wait_bot_replies(stack, root_id, 2)
    assert len(answers) == 2 and len(requests_for(stack, "thread_answer")) == 2
    assert stranger["id"] not in {a["id"] for a in answers}


def test_an_answer_that_concedes_marks_the_finding_dismissed(stack: Stack) -> None:
    root = _reviewed(stack)
    root_id = int(root["id"])  # type: ignore[call-overload]
    reply(stack, root_id, "You are wrong: cmd is a constant.", login=WRITER, association="MEMBER")
    [answer] = wait_bot_replies(stack, root_id, 1)
    assert "does not apply" in answer["body"] and "dismissed" in answer["body"]


def test_other_bots_are_ignored_and_a_writers_false_positive_is_acknowledged(stack: Stack) -> None:
    root = _reviewed(stack)
    root_id = int(root["id"])  # type: ignore[call-overload]
    bot = stack.github.add_review_reply(OWNER, NAME, NUMBER, root_id, "why?", user="ci[bot]", user_type="Bot")
    response = stack.deliver("pull_request_review_comment", review_comment_event(bot, association="NONE"))
    assert response.json()["outcome"] == "ignored: comment by a bot"
    reply(stack, root_id, "false positive", login=WRITER, association="MEMBER")
    [ack] = wait_bot_replies(stack, root_id, 1)
    assert "Thanks, noted" in ack["body"] and requests_for(stack, "thread_answer") == []


def test_mini_ask_answers_with_the_diff_as_data(stack: Stack) -> None:
    _reviewed(stack)
    body = "/mini ask what does this change do?"
    comment_id = stack.github.add_issue_comment(OWNER, NAME, NUMBER, body, user=AUTHOR)
    response = stack.deliver("issue_comment", issue_comment_event(comment_id, body, AUTHOR, "CONTRIBUTOR"))
    assert response.status_code == 202

    def answered() -> list[str]:
        bodies = [
            c["body"] for c in stack.github.issue_comments(OWNER, NAME, NUMBER) if c["user"]["type"] == "Bot"
        ]
        return [b for b in bodies if "what does this change do?" in b]

    [text] = wait_for(answered, what="the ask answer")
    assert "the diff touches app/run.py" in text
    [request] = requests_for(stack, "pr_answer")
    assert "<title>Run commands</title>" in request.user and "+    # BUG: shell injection" in request.user
    assert stack.github.reactions(comment_id) == ["eyes"]
    assert not bot_replies(stack, int(bot_roots(stack)[0]["id"]))
