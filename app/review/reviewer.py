"""Review a PR's chunks with the model: redact, render, call in parallel, filter, re-check, count.

A failing chunk is recorded and the others go on; a per-PR budget stops new chunks from being
sent once the tokens or dollars spent (plus what is already in flight) would pass the limit.
Each successful call's result is kept as soon as it is known (`app.review.reuse`): a retried
attempt of the same review reuses it instead of paying for the call again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from app.diff.model import Chunk
from app.diff.pack import Pack, attribute, pack_chunks
from app.diff.tokens import estimate_tokens
from app.errors import ModelError
from app.review.fair import review_lane
from app.review.findings import Category, Finding, Severity
from app.review.grounding import PackContext, cites_context_only, pack_context
from app.review.llm import ModelAnswer, ModelClient, NotAdmitted
from app.review.prompts import (
    MAX_DESCRIPTION_CHARS,
    MAX_INSTRUCTIONS_CHARS,
    MAX_TITLE_CHARS,
    Message,
    PrContext,
    build_messages,
)
from app.review.redact import redact_chunk, redact_text
from app.review.reuse import CallResults, SavedCall, call_key
from app.review.usage import Prices, Usage, UsageMeter, cost_usd

ChunkDone = Callable[[], Awaitable[None]]  # told after each chunk, for live progress
log = logging.getLogger(__name__)

Render = Callable[[Chunk], str]
PathInstructions = Callable[[str], Sequence[str]]
BUDGET_REACHED = "budget reached"
_MAX_ERROR = 200


@dataclass(frozen=True, slots=True)
class ReviewerConfig:
    model: str = "gpt-5.4-mini"
    escalation_model: str | None = None  # re-check major/critical risk findings with this model
    reasoning_effort: str | None = "low"
    max_completion_tokens: int = 4096
    max_input_tokens_per_pr: int | None = None
    max_cost_usd_per_pr: float | None = None
    prices: Prices = Prices()
    escalation_prices: Prices | None = None  # None: priced like `prices`
    escalation_reasoning_effort: str | None = "low"
    prompt_cache_key: str | None = None  # one per repository: its calls share a cached prefix
    pack_tokens: int | None = None  # pack small files into shared calls up to this size; None: one per chunk
    pack_max_files: int = 12
    context_tokens: int = 0  # read-only context (enclosing definitions) per call


@dataclass(frozen=True, slots=True)
class ChunkFailure:
    path: str
    part: int
    parts: int
    error: str  # short, redacted: safe to show in a summary


@dataclass(slots=True)
class ReviewOutcome:
    findings: list[Finding] = field(default_factory=list)
    failed: list[ChunkFailure] = field(default_factory=list)
    not_sent: list[ChunkFailure] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)  # review calls, retries and repairs included
    escalation_usage: Usage = field(default_factory=Usage)  # flagship re-checks
    escalated: int = 0  # findings the flagship judged
    rejected_by_escalation: int = 0
    escalation_failed: int = 0  # could not be re-checked (error or budget): kept as they were
    dropped_foreign_path: int = 0
    secrets_found: int = 0
    repaired: int = 0  # chunks whose first answer was unusable and needed the repair request
    json_object_fallback: bool = False  # the gateway could not do json_schema for this model
    cost_usd: float = 0.0
    calls_planned: int = 0  # review calls (packs) the chunks were grouped into
    context_tokens: int = 0  # estimated tokens of read-only context sent (part of the prompt tokens)
    context_cited: list[Finding] = field(default_factory=list)  # cite context, not the diff: notes only
    # Calls an earlier attempt of this review already made and paid for: their results are reused.
    # `usage` and `cost_usd` above are this attempt's new spend only; these say what was reused.
    reused_calls: int = 0
    reused_usage: Usage = field(default_factory=Usage)
    reused_cost_usd: float = 0.0


@dataclass(slots=True)
class _ChunkResult:
    findings: list[Finding] = field(default_factory=list)
    failed: list[ChunkFailure] = field(default_factory=list)
    not_sent: list[ChunkFailure] = field(default_factory=list)
    escalated: int = 0
    rejected: int = 0
    escalation_failed: int = 0
    dropped_foreign_path: int = 0
    secrets: int = 0
    repaired: bool = False
    context_tokens: int = 0
    context_cited: list[Finding] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)  # this call's review responses (a repair included)
    escalation_usage: Usage = field(default_factory=Usage)
    reused: bool = False


class _Budget:
    """Per-PR limits checked at admission time against spend so far plus in-flight estimates."""

    def __init__(self, config: ReviewerConfig) -> None:
        self.config = config
        self.review = UsageMeter()
        self.escalation = UsageMeter()
        # Reused results cost nothing now, but they count towards the limits: a retried review
        # then sends what an uninterrupted one would have sent, and no more.
        self.reused = UsageMeter()
        self.reused_usd = 0.0
        self._reserved = 0

    def cost_of(self, review: Usage, escalation: Usage) -> float:
        prices = self.config.prices
        return cost_usd(review, prices) + cost_usd(escalation, self.config.escalation_prices or prices)

    def spent_usd(self) -> float:
        """USD this attempt spent (reused results excluded)."""
        return self.cost_of(self.review.total, self.escalation.total)

    def reuse(self, saved: SavedCall) -> None:
        self.reused.add(saved.usage + saved.escalation_usage)
        self.reused_usd += saved.cost_usd

    def ticket(self, estimate: int) -> _Ticket:
        return _Ticket(self, estimate)

    def reserve(self, estimate: int) -> bool:
        """Reserve `estimate` prompt tokens if the limits allow starting a call that size."""
        config = self.config
        planned = self._reserved + estimate
        used_tokens = (
            self.review.total.prompt_tokens
            + self.escalation.total.prompt_tokens
            + self.reused.total.prompt_tokens
        )
        if (
            config.max_input_tokens_per_pr is not None
            and used_tokens + planned > config.max_input_tokens_per_pr
        ):
            return False
        if config.max_cost_usd_per_pr is not None:
            planned_usd = cost_usd(Usage(prompt_tokens=planned), config.prices)
            if self.spent_usd() + self.reused_usd + planned_usd > config.max_cost_usd_per_pr:
                return False
        self._reserved += estimate
        return True

    def unreserve(self, estimate: int) -> None:
        self._reserved -= estimate


class _Ticket:
    """Admission for one call: reserves its estimate while it runs."""

    def __init__(self, budget: _Budget, estimate: int) -> None:
        self._budget = budget
        self._estimate = estimate
        self._held = False

    def __call__(self) -> bool:
        self._held = self._budget.reserve(self._estimate)
        return self._held

    def release(self) -> None:
        if self._held:
            self._budget.unreserve(self._estimate)
            self._held = False


def repo_cache_key(repo_full_name: str) -> str:
    """Return the `prompt_cache_key` of a repository: its calls share prefixes, others' do not mix in.

    Hashed so the gateway does not learn repository names from it.
    """
    digest = hashlib.sha256(repo_full_name.lower().encode()).hexdigest()[:24]
    return f"mini-review-{digest}"


def planned_tokens(messages: Sequence[Message]) -> int:
    """Estimate the prompt tokens a request will be billed for, to plan the budget."""
    return sum(estimate_tokens(m["content"]) for m in messages)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= _MAX_ERROR else text[: _MAX_ERROR - 1] + "\u2026"


def _head(text: str, shown: int) -> str:
    """Keep twice what the prompt shows: a secret that straddles the prompt's cut is still whole here,
    so it is redacted, while megabytes of description are never scanned."""
    return text[: 2 * shown]


def redact_context(context: PrContext) -> PrContext:
    """Return `context` trimmed to what a prompt can show, with secrets removed from every free-text field."""
    return replace(
        context,
        title=redact_text(_head(context.title, MAX_TITLE_CHARS))[0],
        body=redact_text(_head(context.body, MAX_DESCRIPTION_CHARS))[0],
        files=[redact_text(name)[0] for name in context.files],
        test_files=[redact_text(name)[0] for name in context.test_files],
        instructions=redact_text(_head(context.instructions, MAX_INSTRUCTIONS_CHARS))[0],
        path_instructions=[
            redact_text(_head(text, MAX_INSTRUCTIONS_CHARS))[0] for text in context.path_instructions
        ],
    )


def _needs_escalation(finding: Finding) -> bool:
    return finding.category is Category.RISK and finding.severity.rank >= Severity.MAJOR.rank


class _Run:
    def __init__(
        self,
        context: PrContext,
        client: ModelClient,
        config: ReviewerConfig,
        render: Render,
        instructions_for_path: PathInstructions | None,
        head_texts: Mapping[str, str],
        results: CallResults | None = None,
        saved: Mapping[str, SavedCall] | None = None,
    ) -> None:
        self.head_texts = head_texts
        self.context = redact_context(context)
        self.client = client
        self.config = config
        self.render = render
        self.instructions_for_path = instructions_for_path
        self.budget = _Budget(config)
        self.results = results
        self.saved = saved or {}
        self._preparing = asyncio.Lock()

    def _context_for(self, pack: Pack) -> PrContext:
        context = self.context
        if self.instructions_for_path is None:
            return context
        extra: list[str] = []
        for chunk in pack.chunks:
            extra += [redact_text(t)[0] for t in self.instructions_for_path(chunk.path) if t not in extra]
        return replace(context, path_instructions=[*context.path_instructions, *dict.fromkeys(extra)])

    def _failures(self, pack: Pack, error: str) -> list[ChunkFailure]:
        return [ChunkFailure(c.path, c.part, c.parts, error) for c in pack.chunks]

    def _prepare(self, pack: Pack) -> tuple[_ChunkResult, dict[int, str], PackContext, list[Message]]:
        """Redact and render one pack into its request (pure CPU work: run in a worker thread)."""
        result = _ChunkResult()
        redacted: list[Chunk] = []
        for chunk in pack.chunks:
            clean, secret_findings = redact_chunk(chunk)
            redacted.append(clean)
            result.findings.extend(secret_findings)
            result.secrets += len(secret_findings)
        texts = {id(chunk): self.render(clean) for chunk, clean in zip(pack.chunks, redacted, strict=True)}
        grounding = pack_context(pack, self.head_texts, self.config.context_tokens)
        result.context_tokens = grounding.tokens
        data = "\n".join([grounding.text, *texts.values()] if grounding.text else texts.values())
        return result, texts, grounding, build_messages(data, self._context_for(pack))

    def _key(self, messages: Sequence[Message]) -> str:
        config = self.config
        return call_key(
            messages,
            model=config.model,
            reasoning_effort=config.reasoning_effort,
            max_completion_tokens=config.max_completion_tokens,
            escalation_model=config.escalation_model,
            escalation_reasoning_effort=config.escalation_reasoning_effort,
        )

    async def pack(self, pack: Pack) -> _ChunkResult:
        # One pack at a time, first come first served: packs then reach the budget in plan order
        # (a reused result counts towards the limits before any later pack asks to be sent).
        async with self._preparing:
            result, texts, grounding, messages = await asyncio.to_thread(self._prepare, pack)
            key = self._key(messages)
            saved = self.saved.get(key)
            if saved is not None:
                self.budget.reuse(saved)
        if saved is not None:
            return _with_saved(result, saved)
        answer = await self._ask(pack, messages, result)
        if answer is None:
            return result
        result.repaired = answer.repaired
        result.usage = answer.usage
        own: list[tuple[Finding, str]] = []
        for finding in answer.findings:
            member = attribute(pack, finding.path, finding.side, finding.line, finding.quote)
            if member is None:
                result.dropped_foreign_path += 1
            elif cites_context_only(finding, member, grounding.blocks.get(member.path)):
                result.context_cited.append(finding.model_copy(update={"path": member.path}))
            else:
                # Comments anchor on the new path; the escalation sees only that file's chunk.
                own.append((finding.model_copy(update={"path": member.path}), texts[id(member)]))
        kept = await self._escalate(own, result)
        result.findings.extend(kept)
        await self._keep(key, result, kept)
        return result

    async def _ask(self, pack: Pack, messages: list[Message], result: _ChunkResult) -> ModelAnswer | None:
        """Send the pack's request; None when it was not sent or failed (recorded in `result`)."""
        ticket = self.budget.ticket(planned_tokens(messages))
        try:
            return await self.client.review(
                messages,
                model=self.config.model,
                reasoning_effort=self.config.reasoning_effort,
                max_completion_tokens=self.config.max_completion_tokens,
                meter=self.budget.review,
                admit=ticket,
                prompt_cache_key=self.config.prompt_cache_key,
            )
        except NotAdmitted:
            result.not_sent = self._failures(pack, BUDGET_REACHED)
            return None
        except ModelError as exc:
            log.warning("review of %s failed: %s", ", ".join(pack.paths[:5]), exc)
            result.failed = self._failures(pack, _short(exc))
            return None
        finally:
            ticket.release()

    async def _keep(self, key: str, result: _ChunkResult, kept: list[Finding]) -> None:
        """Keep a successful call's result for a retry of this review; losing it only costs money."""
        if self.results is None:
            return
        saved = SavedCall(
            findings=kept,
            context_cited=result.context_cited,
            dropped_foreign_path=result.dropped_foreign_path,
            escalated=result.escalated,
            rejected=result.rejected,
            escalation_failed=result.escalation_failed,
            repaired=result.repaired,
            usage=result.usage,
            escalation_usage=result.escalation_usage,
            cost_usd=self.budget.cost_of(result.usage, result.escalation_usage),
        )
        try:
            await self.results.save(key, saved)
        except Exception as exc:  # noqa: BLE001 - the review goes on; a retry would pay for this call
            log.warning("could not keep a review call's result for a retry: %s", _short(exc))

    async def _escalate(self, found: list[tuple[Finding, str]], result: _ChunkResult) -> list[Finding]:
        model = self.config.escalation_model
        if model is None:
            return [finding for finding, _ in found]
        checks = {i: pair for i, pair in enumerate(found) if _needs_escalation(pair[0])}
        async with asyncio.TaskGroup() as group:
            tasks = {i: group.create_task(self._check(f, text, model)) for i, (f, text) in checks.items()}
        kept: list[Finding] = []
        for i, (finding, _) in enumerate(found):
            verdict, usage = tasks[i].result() if i in tasks else (True, Usage())
            result.escalation_usage += usage
            if i in tasks and verdict is None:
                result.escalation_failed += 1  # unverified, but the reviewer found it: keep it
            elif i in tasks:
                result.escalated += 1
            if verdict is False:
                result.rejected += 1
            else:
                kept.append(finding)
        return kept

    async def _check(self, finding: Finding, text: str, model: str) -> tuple[bool | None, Usage]:
        """Return the flagship's verdict (None when it could not be had) and what it cost."""
        ticket = self.budget.ticket(estimate_tokens(text) + 400)  # + instructions and the finding
        try:
            confirmed, reason, usage = await self.client.escalate(
                finding,
                text,
                model=model,
                reasoning_effort=self.config.escalation_reasoning_effort,
                meter=self.budget.escalation,
                admit=ticket,
                prompt_cache_key=self.config.prompt_cache_key,
            )
        except ModelError as exc:
            log.warning("escalation of %r on %s failed: %s", finding.title, finding.path, _short(exc))
            return None, Usage()
        finally:
            ticket.release()
        if not confirmed:
            log.info(
                "escalation rejected %r on %s: %s", finding.title, finding.path, _short(ValueError(reason))
            )
        return confirmed, usage


def _with_saved(result: _ChunkResult, saved: SavedCall) -> _ChunkResult:
    """Complete a prepared pack (its secret findings, its context size) with a kept call result."""
    result.findings.extend(saved.findings)
    result.context_cited.extend(saved.context_cited)
    result.dropped_foreign_path = saved.dropped_foreign_path
    result.escalated = saved.escalated
    result.rejected = saved.rejected
    result.escalation_failed = saved.escalation_failed
    result.repaired = saved.repaired
    result.reused = True
    return result


async def _load(results: CallResults | None) -> Mapping[str, SavedCall]:
    """The results an earlier attempt kept; none when there is nothing to read or reading fails."""
    if results is None:
        return {}
    try:
        return await results.load()
    except Exception as exc:  # noqa: BLE001 - without them the review still runs, at full price
        log.warning("could not read the results kept by an earlier attempt: %s", _short(exc))
        return {}


async def review_chunks(
    chunks: Sequence[Chunk],
    context: PrContext,
    client: ModelClient,
    config: ReviewerConfig,
    *,
    render: Render,
    instructions_for_path: PathInstructions | None = None,
    on_chunk_done: ChunkDone | None = None,
    head_texts: Mapping[str, str] | None = None,
    results: CallResults | None = None,
) -> ReviewOutcome:
    """Review every chunk concurrently (bounded by the client's semaphore) and gather the outcome.

    `render` is `app.diff.render.render_chunk` in production; `instructions_for_path` returns the
    repository's path-scoped instructions that apply to a chunk's path; `head_texts` (path -> head
    version) grounds each call in the definitions around its hunks, within `config.context_tokens`.
    `results` keeps each successful call's result and hands back those an earlier attempt kept.
    """
    saved = await _load(results)
    run = _Run(context, client, config, render, instructions_for_path, head_texts or {}, results, saved)
    packs = (
        pack_chunks(chunks, config.pack_tokens, max_files=config.pack_max_files)
        if config.pack_tokens is not None
        else [Pack([chunk]) for chunk in chunks]
    )

    async def one(pack: Pack) -> _ChunkResult:
        result = await run.pack(pack)
        if on_chunk_done is not None:
            for _ in pack.chunks:
                await on_chunk_done()  # progress for the live run page, counted in chunks
        return result

    # Every call of this review shares one lane of the client's fair gate (see app/review/fair.py).
    lane = review_lane.set(secrets.token_hex(8))
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(pack)) for pack in packs]
    finally:
        review_lane.reset(lane)
    outcome = ReviewOutcome(calls_planned=len(packs))
    for task in tasks:
        result = task.result()
        outcome.findings.extend(result.findings)
        outcome.failed.extend(result.failed)
        outcome.not_sent.extend(result.not_sent)
        outcome.context_tokens += result.context_tokens
        outcome.context_cited.extend(result.context_cited)
        outcome.escalated += result.escalated
        outcome.rejected_by_escalation += result.rejected
        outcome.escalation_failed += result.escalation_failed
        outcome.dropped_foreign_path += result.dropped_foreign_path
        outcome.secrets_found += result.secrets
        outcome.repaired += result.repaired
        outcome.reused_calls += result.reused
    outcome.usage = run.budget.review.total
    outcome.escalation_usage = run.budget.escalation.total
    outcome.reused_usage = run.budget.reused.total
    outcome.reused_cost_usd = run.budget.reused_usd
    outcome.json_object_fallback = client.uses_json_object(config.model)
    outcome.cost_usd = run.budget.spent_usd()
    log.info(
        "reviewed %d chunks: %d findings, %d failed, %d not sent, %d calls reused, $%.4f",
        len(chunks),
        len(outcome.findings),
        len(outcome.failed),
        len(outcome.not_sent),
        outcome.reused_calls,
        outcome.cost_usd,
    )
    return outcome


class ModelReviewer:
    """The reviewer port's adapter: `review_chunks` with one model client and one configuration."""

    def __init__(self, client: ModelClient, config: ReviewerConfig, *, render: Render) -> None:
        self.client = client
        self.config = config
        self.render = render

    async def review(
        self,
        chunks: Sequence[Chunk],
        context: PrContext,
        *,
        instructions_for_path: PathInstructions,
        on_chunk_done: ChunkDone | None = None,
        head_texts: Mapping[str, str] | None = None,
        cache_key: str | None = None,
        results: CallResults | None = None,
    ) -> ReviewOutcome:
        """Review `chunks`; `cache_key` (one per repository) becomes the calls' `prompt_cache_key`;
        `results` keeps (and hands back) the calls' results across attempts of this review."""
        config = self.config if cache_key is None else replace(self.config, prompt_cache_key=cache_key)
        return await review_chunks(
            chunks,
            context,
            self.client,
            config,
            render=self.render,
            instructions_for_path=instructions_for_path,
            on_chunk_done=on_chunk_done,
            head_texts=head_texts,
            results=results,
        )
