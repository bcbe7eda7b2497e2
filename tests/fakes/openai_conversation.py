"""Answers of the fake model to conversation requests (thread answers, `/mini ask`, fix verdicts).

Each responder reads back the request's `<data>` section the way a model would see it; tests can
replace one through `FakeOpenAI.responders[name]`.
- thread_answer: quotes the finding's title; says the finding was wrong when the latest message
  contains "you are wrong" (so tests can drive both outcomes);
- pr_answer: repeats the question and names the files the diff showed;
- fix_verdicts: a thread is addressed when its flagged code no longer appears in its code window.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.openai_server import RecordedRequest

Responder = Callable[["RecordedRequest"], dict[str, Any]]

_TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL)
_MESSAGE = re.compile(r'<message from="person" author="[^"]*">\n(.*?)\n</message>', re.DOTALL)
_QUESTION = re.compile(r"<question>\n(.*?)\n</question>", re.DOTALL)
_DIFF_FILE = re.compile(r"^--- (.+)$", re.MULTILINE)
_THREAD = re.compile(r'<thread id="(\d+)"[^>]*>(.*?)</thread>', re.DOTALL)
_FLAGGED = re.compile(r"<flagged_code>(.*?)</flagged_code>", re.DOTALL)
_CODE = re.compile(r"<code>\n(.*?)\n</code>", re.DOTALL)


def thread_answer(record: RecordedRequest) -> dict[str, Any]:
    user = record.user
    title = html.unescape(m.group(1)) if (m := _TITLE.search(user)) else "the finding"
    said = [html.unescape(m) for m in _MESSAGE.findall(user)]
    wrong = bool(said) and "you are wrong" in said[-1].lower()
    if wrong:
        return {
            "answer": "You are right: the finding does not apply here. Sorry for the noise.",
            "finding_wrong": True,
        }
    return {
        "answer": f"I flagged this because: {title}. Remove the marker or fix the code.",
        "finding_wrong": False,
    }


def pr_answer(record: RecordedRequest) -> dict[str, Any]:
    user = record.user
    question = html.unescape(m.group(1)) if (m := _QUESTION.search(user)) else ""
    files = ", ".join(html.unescape(f) for f in _DIFF_FILE.findall(user)) or "none"
    return {"answer": f"About \u201c{question}\u201d: the diff touches {files}."}


def fix_verdicts(record: RecordedRequest) -> dict[str, Any]:
    verdicts = []
    for thread, content in _THREAD.findall(record.user):
        flagged = html.unescape(m.group(1)).strip() if (m := _FLAGGED.search(content)) else ""
        code = html.unescape(m.group(1)) if (m := _CODE.search(content)) else ""
        gone = bool(flagged) and flagged not in code
        verdicts.append(
            {"thread": int(thread), "addressed": gone, "reason": "gone" if gone else "still there"}
        )
    return {"verdicts": verdicts}


def conversation_responders() -> dict[str, Responder]:
    return {"thread_answer": thread_answer, "pr_answer": pr_answer, "fix_verdicts": fix_verdicts}
