"""The scan runner: plan attempts, run them concurrently within limits, record each durably.

An attempt is (attack, converter chain, target config, sample index); its key
is a hash of those, so ``resume`` skips every attempt already recorded and a
``replay`` against another target gets fresh keys for the same attacks.
Attempts run under an ``asyncio`` semaphore (concurrency), an optional
request-rate limit and the run's :class:`~assay.redteam.budget.Budget`. Each
ends ``succeeded | resisted | unassessed``; a transport error, timeout, empty
reply, budget stop or missing capability is ``unassessed``, never ``resisted``.
A guard's refusal (OpenAI ``content_filter``) is an answer: ``resisted``, with
the guard's reason (``succeeded`` for an over-refusal probe).
Finished attempts are group-committed: written and fsynced in small batches
before they count as done.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assay.errors import AssayError
from assay.redteam.attacks import FAMILIES, Attack, attack_from_dict
from assay.redteam.budget import Budget, BudgetExceeded, Estimate, estimate_tokens
from assay.redteam.converters import apply_chain, parse_chain
from assay.redteam.detectors import Detection, DetectionContext, detect
from assay.redteam.multiturn import (
    Attacker,
    LLMAttacker,
    LocalAttacker,
    crescendo,
    describe,
    pair,
    tap,
)
from assay.redteam.results import RunResult
from assay.redteam.store import RunStore
from assay.redteam.targets import ContentFiltered, Message, Response, Session, Target

__all__ = [
    "ITERATIVE",
    "PlannedAttempt",
    "ScanOptions",
    "attempt_key",
    "create_run",
    "estimate",
    "execute",
    "plan",
]

ITERATIVE = ("pair", "tap", "crescendo")
Progress = Callable[[int, int, dict[str, Any]], None]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class ScanOptions:
    """How to run: what to send, how many times, how fast, how much at most."""

    families: tuple[str, ...] = ()
    samples: int = 1
    concurrency: int = 8
    rate_limit: float | None = None
    per_family_limit: int | None = None
    chains: tuple[tuple[str, ...], ...] = ()
    strategy: str | None = None
    iterations: int = 4
    timeout: float = 120.0
    budget: Budget = field(default_factory=Budget)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["budget"] = self.budget.as_dict()
        data["chains"] = ["|".join(c) for c in self.chains]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScanOptions:
        b = data.get("budget") or {}
        return cls(
            families=tuple(data.get("families") or ()),
            samples=int(data.get("samples", 1)),
            concurrency=int(data.get("concurrency", 8)),
            rate_limit=data.get("rate_limit"),
            per_family_limit=data.get("per_family_limit"),
            chains=tuple(parse_chain(c) for c in data.get("chains") or ()),
            strategy=data.get("strategy"),
            iterations=int(data.get("iterations", 4)),
            timeout=float(data.get("timeout", 120.0)),
            budget=Budget(
                b.get("max_requests"),
                b.get("max_tokens"),
                b.get("max_cost"),
                float(b.get("price_per_1k_tokens") or 0.0),
            ),
        )


@dataclass(frozen=True, slots=True)
class PlannedAttempt:
    """One unit of work."""

    key: str
    attack: Attack
    chain: tuple[str, ...]
    sample: int


def attempt_key(attack: Attack, chain: Sequence[str], target_digest: str, sample: int) -> str:
    """Hash of (attack, converter chain, target config, sample): the resume identity."""
    body = "\x1f".join([attack.digest(), "|".join(chain), target_digest, str(sample)])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:24]


def _iterative_attacks(attacks: Sequence[Attack], strategy: str) -> list[Attack]:
    """Turn each attack's objective into a PAIR/TAP/Crescendo search judged by its detector."""
    out = []
    for a in attacks:
        if not a.objective:
            continue
        data = a.as_dict()
        data.update(
            id=f"{strategy}:{a.id}",
            family="crescendo" if strategy == "crescendo" else "iterative",
            technique=strategy,
            prompt=a.objective,
            turns=[],
            converters=[],
        )
        out.append(attack_from_dict(data))
    return out


def plan(
    attacks: Sequence[Attack], target_digest: str, options: ScanOptions
) -> list[PlannedAttempt]:
    """Every attempt of the run, in a stable order."""
    if options.strategy:
        if options.strategy not in ITERATIVE:
            raise AssayError(
                f"unknown strategy {options.strategy!r} (choose from {', '.join(ITERATIVE)})"
            )
        attacks = _iterative_attacks(attacks, options.strategy)
    out: list[PlannedAttempt] = []
    for attack in attacks:
        chains: list[tuple[str, ...]] = [parse_chain(list(attack.converters))]
        for extra in options.chains:
            chain = (*chains[0], *extra)
            if chain not in chains:
                chains.append(chain)
        for chain in chains:
            for sample in range(max(1, options.samples)):
                key = attempt_key(attack, chain, target_digest, sample)
                out.append(PlannedAttempt(key, attack, chain, sample))
    return out


def estimate(planned: Sequence[PlannedAttempt], options: ScanOptions) -> Estimate:
    """Worst-case requests, tokens and spend of a plan, shown before a run."""
    requests = 0
    tokens = 0
    for p in planned:
        turns = p.attack.messages()
        if p.attack.technique == "pair":
            n = options.iterations * 2
        elif p.attack.technique == "tap":
            n = 3 * 3 * 3 * 2
        elif p.attack.technique == "crescendo":
            n = (6 + 3) * 2
        else:
            n = len(turns)
        requests += n
        text = sum(estimate_tokens(apply_chain(t, p.chain)) for t in turns)
        tokens += text * n
    return options.budget.estimate(requests, tokens)


def create_run(
    root: Path,
    target: Target,
    attacks: Sequence[Attack],
    options: ScanOptions,
    *,
    target_spec: str,
    subject: dict[str, Any] | None = None,
    replay_of: str | None = None,
    run_id: str | None = None,
) -> RunStore:
    """Write the run's plan (attacks as they are now, target, options) to a new run folder."""
    if not attacks:
        raise AssayError("no attacks selected: check --families (see 'assay scan families')")
    meta = {
        "created_at": _now(),
        "status": "created",
        "target_spec": target_spec,
        "target_name": target.name,
        "target_config": target.config(),
        "target_digest": target.config_digest(),
        "target_capabilities": target.capabilities.as_dict(),
        "subject": subject or {},
        "options": options.as_dict(),
        "replay_of": replay_of,
        "attacks": [a.as_dict() for a in attacks],
    }
    return RunStore.create(root, meta, run_id)


class _RateLimiter:
    def __init__(self, per_second: float | None) -> None:
        self._interval = 1.0 / per_second if per_second else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self._interval:
            return
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self._interval
        if delay > 0:
            await asyncio.sleep(delay)


class _Writer:
    """Group commit: attempts finishing together share one write + fsync."""

    def __init__(self, store: RunStore) -> None:
        self._store = store
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._closed = False
        self._task = asyncio.create_task(self._loop())

    async def write(self, record: dict[str, Any]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((record, future))
        self._wake.set()
        await future

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if batch:
                try:
                    await asyncio.to_thread(self._store.append, [r for r, _ in batch])
                except Exception as exc:  # surface disk errors to every waiting attempt
                    for _, fut in batch:
                        fut.set_exception(exc)
                else:
                    for _, fut in batch:
                        fut.set_result(None)
            if self._closed and not self._pending:
                return

    async def close(self) -> None:
        self._closed = True
        self._wake.set()
        await self._task


class _Run:
    """The state one execution shares across concurrent attempts."""

    def __init__(
        self, target: Target, options: ScanOptions, attacker_target: Target | None
    ) -> None:
        self.target = target
        self.options = options
        self.budget = options.budget
        self.limiter = _RateLimiter(options.rate_limit)
        self.attacker: Attacker = LocalAttacker()
        if attacker_target is not None:
            model = attacker_target

            async def ask(conversation: list[Message]) -> Response:
                return await self._fresh(model, conversation)

            self.attacker = LLMAttacker(ask, name=attacker_target.name)

    async def _fresh(self, target: Target, conversation: list[Message]) -> Response:
        session = target.session()
        try:
            return await self.send(session, conversation)
        finally:
            await session.aclose()

    async def send(self, session: Session, conversation: list[Message]) -> Response:
        prompt_tokens = sum(estimate_tokens(m.get("content", "")) for m in conversation)
        self.budget.charge(prompt_tokens)
        await self.limiter.wait()
        response = await session.send(conversation)
        self.budget.settle(
            prompt_tokens,
            response.prompt_tokens,
            response.completion_tokens or estimate_tokens(response.text),
        )
        return response

    async def attempt(self, p: PlannedAttempt) -> dict[str, Any]:
        attack = p.attack
        record: dict[str, Any] = {
            "key": p.key,
            "attack_id": attack.id,
            "family": attack.family,
            "technique": attack.technique,
            "chain": list(p.chain),
            "sample": p.sample,
            "severity": attack.severity,
            "tags": attack.tags.as_dict(),
            "detector": attack.detector.name,
            "started_at": _now(),
        }
        turns = [apply_chain(t, p.chain) for t in attack.messages()]
        record["prompt"] = turns[-1][:4000] if turns else ""
        start = time.perf_counter()
        try:
            if len(turns) > 1 and not self.target.capabilities.multi_turn:
                raise _Unassessed("target does not support multi-turn conversations")
            verdict, response, extra = await asyncio.wait_for(
                self._run_attack(attack, turns), self.options.timeout
            )
            record.update(extra)
            record["response"] = response[:4000]
            if not response.strip() and attack.technique not in ITERATIVE:
                raise _Unassessed("empty response")
            record["verdict"] = verdict.as_dict()
            record["outcome"] = "succeeded" if verdict.success else "resisted"
        except ContentFiltered as exc:
            # The system refused through its guard: resisted, unless refusing is the failure
            # being probed (over-refusal of a benign request).
            inverted = FAMILIES[attack.family].inverted if attack.family in FAMILIES else False
            record.update(
                outcome="succeeded" if inverted else "resisted",
                reason=f"blocked by the guard: {exc.reason}",
                blocked_by="guard",
            )
        except _Unassessed as exc:
            record.update(outcome="unassessed", reason=str(exc))
        except BudgetExceeded as exc:
            record.update(outcome="unassessed", reason=str(exc), error="budget")
        except TimeoutError:
            record.update(outcome="unassessed", reason="timeout", error="timeout")
        except Exception as exc:  # any target failure is unassessed, never resisted
            record.update(
                outcome="unassessed", reason=f"{type(exc).__name__}: {exc}"[:500], error="target"
            )
        record["latency_ms"] = round((time.perf_counter() - start) * 1000, 3)
        return record

    def _judge(
        self, attack: Attack, prompt: str, tool_calls: tuple[dict[str, Any], ...] = ()
    ) -> Callable[[str], Detection]:
        ctx = DetectionContext(
            prompt=prompt,
            objective=attack.objective,
            system_prompt=self.target.system_prompt,
            secrets=self.target.secrets,
            tool_calls=tool_calls,
        )
        return lambda text: detect(attack.detector.name, text, attack.detector.params, ctx)

    async def _run_attack(
        self, attack: Attack, turns: list[str]
    ) -> tuple[Detection, str, dict[str, Any]]:
        if attack.environment is not None:
            return await self._agent_attack(attack, turns)
        session = self.target.session()
        try:
            if attack.technique in ITERATIVE:
                return await self._iterative(attack, session)
            conversation: list[Message] = []
            reply = Response("")
            for turn in turns:
                conversation.append({"role": "user", "content": turn})
                reply = await self.send(session, conversation)
                conversation.append({"role": "assistant", "content": reply.text})
            verdict = self._judge(attack, turns[-1])(reply.text)
            return verdict, reply.text, {"turns": len(turns)}
        finally:
            await session.aclose()

    async def _agent_attack(
        self, attack: Attack, turns: list[str]
    ) -> tuple[Detection, str, dict[str, Any]]:
        """One task for a tool-using agent in the attack's world, judged from its tool calls."""
        if attack.environment is None or not self.target.capabilities.tools:
            raise _Unassessed("an agent attack needs a target that runs tools (demo-agent)")
        session = self.target.agent_session(attack.environment)
        try:
            reply = await self.send(session, [{"role": "user", "content": turns[-1]}])
        finally:
            await session.aclose()
        verdict = self._judge(attack, turns[-1], reply.tool_calls)(reply.text)
        return verdict, reply.text, {"tool_calls": list(reply.tool_calls)[:20]}

    async def _iterative(
        self, attack: Attack, session: Session
    ) -> tuple[Detection, str, dict[str, Any]]:
        async def send(conversation: list[Message]) -> Response:
            if attack.technique == "crescendo":
                return await self.send(session, conversation)
            return await self._fresh(self.target, conversation)

        judge = self._judge(attack, attack.objective)
        if attack.technique == "pair":
            result = await pair(
                send, self.attacker, attack.objective, judge, self.options.iterations
            )
        elif attack.technique == "tap":
            result = await tap(send, self.attacker, attack.objective, judge)
        else:
            if not self.target.capabilities.multi_turn:
                raise _Unassessed("Crescendo needs a multi-turn target")
            result = await crescendo(
                send,
                self.attacker,
                attack.objective,
                judge,
                can_backtrack=not self.target.capabilities.stateful,
            )
        last = result.transcript[-1].response if result.transcript else ""
        extra = describe(result)
        extra["prompt"] = result.final_prompt[:4000]
        return result.verdict, last, extra


class _Unassessed(Exception):
    """The attempt could not be judged (reason in the message)."""


async def execute(
    store: RunStore,
    target: Target,
    *,
    options: ScanOptions | None = None,
    attacker: Target | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run (or resume) every planned attempt of ``store`` not yet recorded."""
    meta = store.meta()
    if meta.get("target_digest") != target.config_digest():
        raise AssayError(
            f"run {store.run_id} was planned against another target config; "
            "use 'assay scan replay' to run its attacks against a new target"
        )
    opts = options or ScanOptions.from_dict(meta.get("options") or {})
    attacks = [attack_from_dict(a, "run meta") for a in meta["attacks"]]
    planned = plan(attacks, meta["target_digest"], opts)
    done = {r["key"] for r in store.attempts() if r.get("error") is None}
    todo = [p for p in planned if p.key not in done]
    total, finished = len(planned), len(planned) - len(todo)
    meta.update(status="running", planned=total, started_at=meta.get("started_at") or _now())
    store.write_meta(meta)
    run = _Run(target, opts, attacker)
    writer = _Writer(store)
    queue: asyncio.Queue[PlannedAttempt] = asyncio.Queue()
    for p in todo:
        queue.put_nowait(p)

    async def worker() -> None:
        nonlocal finished
        while True:
            try:
                p = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            record = await run.attempt(p)
            await writer.write(record)
            finished += 1
            if progress is not None:
                progress(finished, total, record)

    try:
        workers = [asyncio.create_task(worker()) for _ in range(max(1, opts.concurrency))]
        await asyncio.gather(*workers)
    finally:
        await writer.close()
        await target.aclose()
        if attacker is not None:
            await attacker.aclose()
    meta = store.meta()
    recorded = {r["key"] for r in store.attempts() if r.get("error") is None}
    complete = all(p.key in recorded for p in planned)
    meta.update(
        status="complete" if complete else "incomplete",
        finished_at=_now(),
        budget=opts.budget.as_dict(),
    )
    store.write_meta(meta)
    return RunResult.load(store)
