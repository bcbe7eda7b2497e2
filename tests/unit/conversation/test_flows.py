"""Thread answers, feedback sweeps, fix tracking and asks on in-process fakes (no HTTP), both databases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncEngine

from app.conversation.ask import Asker, Question
from app.conversation.fixed import FixTracker
from app.conversation.policy import AnswerLimits
from app.conversation.store import ConversationStore, FindingState, PostedFindingRecord
from app.conversation.threads import Conversation, ThreadReply
from app.errors import ModelError
from app.github.models import Reaction
from app.review.usage import Prices
from tests.unit.conversation.fakes import HEAD, REPO, MemoryGitHub, ScriptedModel

LIMITS = AnswerLimits(model="m", prices=Prices(input_per_m=1.0, cached_input_per_m=0.1, output_per_m=2.0))
FP, FP2 = "0123456789abcdef", "fedcba9876543210"
CODE = "import os\n\ndef run(cmd):\n    # BUG: shell injection\n    return os.system(cmd)\n"


def record(fp: str, line: int = 4, quote: str = "    # BUG: shell injection") -> PostedFindingRecord:
    return PostedFindingRecord(
        fingerprint=fp,
        path="app/run.py",
        line=line,
        category="risk",
        severity="major",
        title="Bug marker left in code",
        body="b",
        quote=quote,
        commit_sha="c0",
    )


def reply_of(
    gh: MemoryGitHub, body: str, login: str, association: str = "NONE", rid: int = 50
) -> ThreadReply:
    gh.person_reply(rid, 1, body, login)
    return ThreadReply(
        repo=REPO,
        number=2,
        comment_id=rid,
        in_reply_to_id=1,
        body=body,
        author=login,
        author_type="User",
        association=association,
        pr_author="author",
    )


async def test_the_pr_authors_false_positive_is_answered_not_learned(engine: AsyncEngine) -> None:
    gh, store = MemoryGitHub(), ConversationStore(engine)
    gh.ours(1, FP)
    model = ScriptedModel([{"answer": "It is still risky.", "finding_wrong": False}])
    outcome = await Conversation(gh, store, model, LIMITS).answer_reply(
        reply_of(gh, "false positive", "author")
    )
    assert outcome == "answered" and [name for name, _ in model.calls] == ["thread_answer"]
    assert await store.list_learnings("o/r") == [] and gh.replies[0][0] == 1


async def test_a_writers_ignore_records_a_learning_and_dismisses_without_a_model_call(
    engine: AsyncEngine,
) -> None:
    gh, store = MemoryGitHub(permissions={"lead": "maintain"}), ConversationStore(engine)
    gh.ours(1, FP)
    await store.record_posted("o/r", 2, "run", [record(FP)])
    model = ScriptedModel()
    conversation = Conversation(gh, store, model, LIMITS)
    assert await conversation.answer_reply(reply_of(gh, "noise\n/mini ignore", "lead")) == "learned"
    [learning] = await store.list_learnings("o/r")
    assert (learning.source.value, learning.person, learning.path_pattern) == (
        "ignore",
        "lead",
        "app/**/*.py",
    )
    assert (await store.finding("o/r", 2, FP)).state is FindingState.DISMISSED  # type: ignore[union-attr]
    assert model.calls == [] and "Thanks, noted" in gh.replies[0][1]
    # The same reply again (a retried job) answers nothing more.
    assert (
        await conversation.answer_reply(reply_of(gh, "noise\n/mini ignore", "lead"))
        == "ignored: already answered"
    )
    assert len(gh.replies) == 1


async def test_the_rate_limit_and_model_failures_post_nothing(engine: AsyncEngine) -> None:
    gh, store = MemoryGitHub(permissions={"dev": "write"}), ConversationStore(engine)
    gh.ours(1, FP)
    limits = AnswerLimits(model="m", prices=LIMITS.prices, per_pr_per_hour=1)
    model = ScriptedModel([ModelError("gateway down"), {"answer": "a", "finding_wrong": False}])
    conversation = Conversation(gh, store, model, limits)
    assert await conversation.answer_reply(reply_of(gh, "why?", "dev", rid=51)) == "failed"
    refused = await conversation.answer_reply(reply_of(gh, "why??", "dev", rid=52))
    assert refused.startswith("refused: rate limit")
    assert gh.replies == [] and len(model.calls) == 1


async def test_only_writers_thumbs_down_teach_and_each_only_once(engine: AsyncEngine) -> None:
    gh, store = MemoryGitHub(permissions={"lead": "admin", "reader": "read"}), ConversationStore(engine)
    gh.ours(1, FP)
    gh.reactions[1] = [
        Reaction(content="-1", user_login="reader", user_type="User"),
        Reaction(content="+1", user_login="lead", user_type="User"),
        Reaction(content="-1", user_login="ci[bot]", user_type="Bot"),
    ]
    conversation = Conversation(gh, store, ScriptedModel(), LIMITS)
    assert await conversation.sweep_reactions(REPO, 2, gh.comments) == 0
    gh.reactions[1].append(Reaction(content="-1", user_login="lead", user_type="User"))
    assert await conversation.sweep_reactions(REPO, 2, gh.comments) == 1
    assert await conversation.sweep_reactions(REPO, 2, gh.comments) == 0
    [learning] = await store.list_learnings("o/r")
    assert learning.person == "lead" and learning.words == "\U0001f44e"


async def test_fix_tracking_asks_once_per_file_and_closes_only_addressed_threads(engine: AsyncEngine) -> None:
    gh, store = MemoryGitHub(), ConversationStore(engine)
    gh.ours(1, FP, line=4)
    gh.ours(2, FP2, line=5)
    gh.ours(3, "1" * 16, line=1)
    await store.record_posted(
        "o/r",
        2,
        "run",
        [record(FP), record(FP2, 5, "    return os.system(cmd)"), record("1" * 16, 1, "import os")],
    )
    gh.threads[2] = gh.threads[2].model_copy(update={"is_resolved": True})  # resolved by hand
    gh.files[(HEAD, "app/run.py")] = b"import os\n\ndef run(cmd):\n    return subprocess.run([cmd])\n"
    model = ScriptedModel(
        [
            {
                "verdicts": [
                    {"thread": 1, "addressed": True, "reason": "gone"},
                    {"thread": 2, "addressed": False, "reason": "moved"},
                ]
            }
        ]
    )
    tracker = FixTracker(gh, store, model, LIMITS)
    report = await tracker.run(REPO, 2, HEAD)
    assert (report.checked, report.addressed, report.resolved_by_people) == (2, [FP], 1)
    assert len(model.calls) == 1 and '<thread id="2"' in model.calls[0][1][1]["content"]
    assert gh.replies == [(1, f"Addressed in `{HEAD}`.")] and gh.resolved == ["T1"]
    assert (await store.outcome_counts("o/r")).model_dump() == {
        "addressed": 1,
        "dismissed": 0,
        "resolved": 1,
        "open": 1,
    }
    again = await tracker.run(REPO, 2, HEAD)  # the same head: no new model call, no new reply
    assert again.checked == 0 and len(model.calls) == 1 and len(gh.replies) == 1


async def test_fix_tracking_leaves_unchanged_code_alone(engine: AsyncEngine) -> None:
    gh, store = MemoryGitHub(), ConversationStore(engine)
    gh.ours(1, FP)
    await store.record_posted("o/r", 2, "run", [record(FP)])
    gh.files[(HEAD, "app/run.py")] = ("# a new first line\n" + CODE).encode()
    model = ScriptedModel()
    assert (await FixTracker(gh, store, model, LIMITS).run(REPO, 2, HEAD)).checked == 0
    assert model.calls == [] and gh.replies == []


async def test_an_ask_over_the_pr_budget_is_refused_once(engine: AsyncEngine) -> None:
    gh, store = MemoryGitHub(), ConversationStore(engine)
    limits = AnswerLimits(model="m", prices=LIMITS.prices, max_cost_per_pr=0.000_05)
    model = ScriptedModel([{"answer": "It runs commands."}])
    asker = Asker(gh, store, model, limits, diff_budget_tokens=1000)
    pr = await gh.get_pull(REPO, 2)
    first = Question(repo=REPO, number=2, comment_id=70, author="a", text="what @team?")
    assert (
        await asker.answer(first, pr, [("app/run.py", "+x = 'sk-abcdefghijklmnopqrstuvwx12345678'")])
        == "answered"
    )
    assert "@\u200bteam" in gh.issue_comments[0]  # the echoed question cannot ping
    assert "sk-abcdefghijklmnop" not in model.calls[0][1][1]["content"]  # secrets never reach the model
    second = Question(repo=REPO, number=2, comment_id=71, author="a", text="and?")
    outcome = await asker.answer(second, pr, [])
    assert outcome == "refused: the pull request's cost budget is spent" and len(model.calls) == 1
    assert await asker.answer(second, pr, []) == "ignored: already answered"
    assert dt.datetime.now(dt.UTC) and len(gh.issue_comments) == 2


async def test_a_spent_day_refuses_answers(engine: AsyncEngine) -> None:
    from app.storage.tables import runs

    async with engine.begin() as conn:
        await conn.execute(
            runs.insert().values(
                id="r1",
                repo="o/elsewhere",
                pr_number=1,
                trigger="t",
                status="posted",
                started_at=dt.datetime.now(dt.UTC),
                cost_usd=0.5,
            )
        )
    gh, store = MemoryGitHub(permissions={"dev": "write"}), ConversationStore(engine)
    gh.ours(1, FP)
    limits = AnswerLimits(model="m", prices=LIMITS.prices, max_cost_per_day=0.4)
    model = ScriptedModel()
    outcome = await Conversation(gh, store, model, limits).answer_reply(reply_of(gh, "why?", "dev"))
    assert outcome == "refused: today's cost budget (MINI_MAX_COST_PER_DAY) is spent" and model.calls == []
