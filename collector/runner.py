"""One run: connectors collect concurrently -> bodies stored -> checks evaluated -> run published.

Items stream: collecting threads hand each item to the main thread, which owns the store connection
and writes bodies in batches as they arrive, keeping only their hashes. Evaluation then reads the
bodies back one evidence kind at a time, so a run never holds every item it collected.

A connector that raises, or fails for one evidence kind, never stops the others: what it could not
collect is recorded with the reason and turns the checks that read it into ``error``. An
interruption (signal, crash) marks the run failed; it is never published as a snapshot.
"""

from __future__ import annotations

import contextlib
import queue
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from connectors.base import (
    CollectContext,
    CollectionError,
    Connector,
    ConnectorSettings,
    ConnectorState,
    EvidenceItem,
    MissingSDKError,
    PreviousRun,
)

from . import __version__, redact
from .catalog import load_catalogue
from .evaluate import (
    CheckResult,
    ControlResult,
    LookupTables,
    SnapshotItem,
    evaluate_check,
    evaluate_controls,
    normalised_identities,
    summarise_statuses,
)
from .mapping import CheckSet, CompiledCheck
from .progress import Progress
from .signing import Signer
from .store import (
    CheckRunRecord,
    ConnectorRunRecord,
    Publication,
    StagedFinding,
    StagedItem,
    Store,
    canonical_json,
    content_hash,
)
from .timeutil import iso, parse_iso, utcnow

CollectFn = Callable[[CollectContext], Iterator[EvidenceItem | CollectionError]]


@dataclass
class CollectorPlan:
    """What one connector entry will do in this run."""

    name: str
    label: str
    kinds: frozenset[str]
    collect: CollectFn
    secrets: tuple[str, ...] = ()
    # Called under the write lock once collection ended (the built-in manual evidence plan copies
    # declared documents into the store here, from the main thread that owns the connection).
    after_collect: Callable[[Store], None] | None = None
    counts_as_connector: bool = True  # False: it alone collecting does not make a run worth publishing


# Items in flight between the collecting threads and the writer: bounds memory when the store is
# slower than the APIs; a full queue makes the collectors wait.
_QUEUE_DEPTH = 20  # batches
_HAND_OVER_BATCH = 100
_WRITE_BATCH_ITEMS = 500
_WRITE_BATCH_BYTES = 4 << 20


@dataclass
class ConnectorOutcome:
    plan_name: str
    items: Counter[str] = field(default_factory=Counter)  # per kind: the items themselves are staged in the store
    errors: list[CollectionError] = field(default_factory=list)
    crashed: str | None = None
    api_calls: int = 0
    duration_s: float = 0.0
    state: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    run_id: str
    status: str
    started_at: datetime
    connector_runs: list[ConnectorRunRecord]
    checks: dict[str, CheckResult]
    controls: list[ControlResult]
    summary: dict[str, Any]
    report_error: str | None = None  # the run is stored, but --report-dir could not be written

    @property
    def collection_failed(self) -> bool:
        return any(c.status != "ok" for c in self.connector_runs)

    @property
    def failing_controls(self) -> int:
        return sum(1 for c in self.controls if c.status == "fail")


class RunInterrupted(Exception):
    """Raised in the main thread by a signal handler to abandon a run."""


def plan_for(cls: type[Connector], settings: ConnectorSettings) -> CollectorPlan:
    def collect(context: CollectContext) -> Iterator[EvidenceItem | CollectionError]:
        return cls(settings, context).collect()

    values = (*_secret_values(settings), *redact.register_connector(cls))
    redact.add(values)
    return CollectorPlan(cls.name, cls.label(settings), cls.kind_names(), collect, values)


def execute_run(
    store: Store,
    plans: list[CollectorPlan],
    checks: CheckSet,
    *,
    organization: str,
    config_digest: str,
    excluded: dict[str, str],
    progress: Progress,
    started_at: datetime | None = None,
    signer: Signer | None = None,
) -> RunResult:
    """Run under the store's write lock, which the caller holds; ``signer`` signs the run's seal."""
    started = started_at or utcnow()
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    connector_names = sorted({p.name for p in plans})
    store.begin_run(run_id, iso(started), __version__, config_digest, organization, connector_names, excluded)
    try:
        result = _collect_and_publish(
            store,
            run_id,
            started,
            plans,
            checks,
            organization,
            excluded,
            progress,
            replayed=started_at is not None,
            signer=signer,
        )
    except BaseException as exc:
        store.fail_run(run_id, _describe_abort(exc))
        raise
    return result


def _collect_and_publish(
    store: Store,
    run_id: str,
    started: datetime,
    plans: list[CollectorPlan],
    checks: CheckSet,
    organization: str,
    excluded: dict[str, str],
    progress: Progress,
    *,
    replayed: bool = False,  # dated in the past (the demo's backfill): it finished then too
    signer: Signer | None = None,
) -> RunResult:
    begun = utcnow()
    outcomes = _collect_concurrently(store, run_id, started, plans, progress)
    for plan in plans:
        if plan.after_collect is not None:
            plan.after_collect(store)

    connector_runs, kinds, kind_errors = _summarise(plans, outcomes)
    progress.message("evaluating checks")
    active = list(checks.for_connectors({p.name for p in plans}))
    check_results = _evaluate_from_store(store, active, kinds, kind_errors, started, checks.identities)
    controls = evaluate_controls(load_catalogue(), check_results, excluded)
    status = "complete" if all(c.status == "ok" for c in connector_runs) else "partial"
    summary: dict[str, Any] = dict(summarise_statuses(c.status for c in controls))
    real = {p.name for p in plans if p.counts_as_connector}
    if real and all(c.status == "error" for c in connector_runs if c.connector in real):
        # Nothing was collected (expired credentials, an unreachable provider): publishing this as a
        # snapshot would close every earlier item's interval and read as "the estate is empty".
        first = next((e for c in connector_runs for e in c.errors), "no detail")
        store.fail_run(run_id, f"no connector collected anything (first error: {first})")
        progress.message(f"run {run_id} failed: no connector collected anything")
        return RunResult(run_id, "failed", started, connector_runs, check_results, controls, summary)
    publication = Publication(
        status=status,
        connector_runs=connector_runs,
        check_runs=[_check_record(r) for r in check_results.values()],
        summary=summary,
        state=_merged_state(outcomes),
        finished_at=iso(started + (utcnow() - begun)) if replayed else None,
    )
    store.publish(run_id, publication, signer)
    connectors = len({p.name for p in plans if p.counts_as_connector})  # not the built-in manual/isms plans
    progress.message(f"run {run_id} {status}: {connectors} connector(s), {len(check_results)} checks")
    return RunResult(run_id, status, started, connector_runs, check_results, controls, summary)


class _Abandoned(Exception):
    """The main thread gave up on the run (a signal, a store fault): a collector stops handing items over."""


Arrival = tuple[int, list[tuple[EvidenceItem, str, str]]]  # plan index, [(item, canonical JSON, content hash)]


class _HandOver:
    """One collecting thread's items on their way to the writer, in small batches (a queue operation per
    item would cost more than the item)."""

    def __init__(self, index: int, arrivals: queue.Queue[Arrival], abandoned: threading.Event) -> None:
        self.index, self.arrivals, self.abandoned = index, arrivals, abandoned
        self.batch: list[tuple[EvidenceItem, str, str]] = []

    def add(self, record: EvidenceItem, text: str, hash_: str) -> None:
        self.batch.append((record, text, hash_))
        if len(self.batch) >= _HAND_OVER_BATCH:
            self.close()

    def close(self) -> None:
        """Hand over what is left; raises _Abandoned when the main thread no longer takes items."""
        while self.batch and not self.abandoned.is_set():
            try:
                self.arrivals.put((self.index, self.batch), timeout=0.5)
                self.batch = []
            except queue.Full:
                continue
        if self.batch:
            raise _Abandoned


def _collect_concurrently(
    store: Store, run_id: str, started: datetime, plans: list[CollectorPlan], progress: Progress
) -> list[ConnectorOutcome]:
    """Collect every plan at once; bodies are written as they arrive, by this (the store's) thread."""
    outcomes = [ConnectorOutcome(plan.name) for plan in plans]
    contexts = [_context_for(store, run_id, started, plan, progress) for plan in plans]
    arrivals: queue.Queue[Arrival] = queue.Queue(maxsize=_QUEUE_DEPTH)
    abandoned = threading.Event()

    # Daemon threads: a signal that abandons the run must not wait for a slow API call to return.
    threads = [
        threading.Thread(
            target=_collect_one,
            args=(plan, ctx, outcome, progress, _HandOver(index, arrivals, abandoned)),
            name=f"collect-{plan.label}",
            daemon=True,
        )
        for index, (plan, ctx, outcome) in enumerate(zip(plans, contexts, outcomes, strict=True))
    ]
    store.start_staging()
    writer = _ItemWriter(store)
    try:
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads) or not arrivals.empty():
            try:
                index, batch = arrivals.get(timeout=0.2)  # short waits keep signals responsive
            except queue.Empty:
                writer.flush()
                continue
            outcome = outcomes[index]
            for record, text, hash_ in batch:
                outcome.items[record.kind] += 1
                collected_at = iso(record.collected_at or started)
                writer.add(
                    StagedItem(record.kind, record.id, outcome.plan_name, hash_, collected_at, dict(record.unknown)),
                    text,
                )
        progress.message("storing evidence")
        writer.flush()
    finally:
        abandoned.set()
    for thread in threads:
        thread.join()
    return outcomes


class _ItemWriter:
    """Items staged and their bodies written in batches as they arrive; unreferenced bodies (a run that
    then fails) are harmless, being content-addressed."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.items: list[StagedItem] = []
        self.bodies: dict[str, str] = {}
        self.size = 0

    def add(self, item: StagedItem, text: str) -> None:
        self.items.append(item)
        if item.hash not in self.bodies:
            self.bodies[item.hash] = text
            self.size += len(text)
        if len(self.items) >= _WRITE_BATCH_ITEMS or self.size >= _WRITE_BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self.items:
            self.store.stage_items(self.items, self.bodies.items())
            self.items, self.bodies, self.size = [], {}, 0


class _StoredKinds(Mapping[str, Sequence[SnapshotItem]]):
    """A run's items by kind, read back from the staged rows and stored bodies on demand (one kind at a
    time, never the whole run)."""

    def __init__(self, store: Store, kinds: Sequence[str]) -> None:
        self.store, self.kinds = store, kinds

    def __getitem__(self, kind: str) -> Sequence[SnapshotItem]:
        staged = self.store.staged_items(kind)
        bodies = dict(self.store.bodies(item.hash for item in staged))
        return [SnapshotItem(i.item_id, bodies[i.hash], i.hash, i.unknown) for i in staged]

    def __iter__(self) -> Iterator[str]:
        return iter(self.kinds)

    def __len__(self) -> int:
        return len(self.kinds)


def _evaluate_from_store(
    store: Store,
    checks: list[CompiledCheck],
    kinds: Sequence[str],
    kind_errors: Mapping[str, list[CollectionError]],
    now: datetime,
    identities: Mapping[str, str],
) -> dict[str, CheckResult]:
    """Checks evaluated kind by kind over the staged items; each result keeps its counts and errors, its
    findings are staged for publication as they are made."""
    stored = _StoredKinds(store, kinds)
    tables = LookupTables(stored, kind_errors, normalised_identities(identities))
    by_kind: dict[str, list[CompiledCheck]] = {}
    for check in checks:
        by_kind.setdefault(check.definition.evidence, []).append(check)
    results: dict[str, CheckResult] = {}
    for kind, kind_checks in by_kind.items():
        items = stored[kind]
        for check in kind_checks:
            result = evaluate_check(check, items, kind_errors, now, tables)
            store.stage_findings(
                StagedFinding(f.check, f.resource, f.status, f.message, f.evidence_hash) for f in result.findings
            )
            result.findings = []
            results[check.id] = result
        del items
    return {check.id: results[check.id] for check in checks}


def _context_for(
    store: Store, run_id: str, started: datetime, plan: CollectorPlan, progress: Progress
) -> CollectContext:
    previous = store.previous_run_with(plan.name)
    prev: PreviousRun | None = None
    if previous is not None:
        seq = int(previous["seq"])

        def items(kind: str, seq: int = seq) -> Iterator[EvidenceItem]:
            for row in store.evidence(seq, kind=kind, with_data=True):
                yield EvidenceItem(
                    row["kind"], row["item_id"], row["data"], parse_iso(row["collected_at"]), row["unknown"]
                )

        prev = PreviousRun(previous["id"], parse_iso(previous["started_at"]), previous["status"], items)
    return CollectContext(
        run_id=run_id,
        started_at=started,
        state=ConnectorState(store.connector_state(plan.name)),
        previous=prev,
        progress=lambda message: progress.connector(plan.label, message),
    )


def _collect_one(
    plan: CollectorPlan,
    context: CollectContext,
    outcome: ConnectorOutcome,
    progress: Progress,
    hand_over: _HandOver,
) -> None:
    begin = time.monotonic()
    progress.connector(plan.label, "collecting")
    count = 0
    try:
        for record in plan.collect(context):
            if isinstance(record, CollectionError):
                outcome.errors.append(_checked_error(plan, record))
                progress.connector(plan.label, f"error: {_redact(record.message, plan.secrets)}")
                continue
            if record.kind not in plan.kinds:
                outcome.errors.append(
                    CollectionError(record.kind, f"connector yielded undeclared evidence kind {record.kind!r}")
                )
                continue
            if record.unknown:  # reasons are SDK error text: mask secrets before they are stored
                record.unknown = {name: _redact(why, plan.secrets) for name, why in record.unknown.items()}
            text = canonical_json(record.data)
            hand_over.add(record, text, content_hash(text))
            count += 1
            if count % 500 == 0:
                progress.connector(plan.label, f"{count} items")
    except MissingSDKError as exc:
        outcome.crashed = str(exc)
    except Exception as exc:  # a crashing connector is recorded, never allowed to stop the others
        outcome.crashed = f"{type(exc).__name__}: {_redact(str(exc), plan.secrets) or 'no message'}"
    with contextlib.suppress(_Abandoned):  # items yielded before a crash are kept, as they always were
        hand_over.close()
    outcome.api_calls = context.api_calls
    outcome.duration_s = round(time.monotonic() - begin, 3)
    outcome.state = context.state.changed
    status = "crashed" if outcome.crashed else ("partial" if outcome.errors else "ok")
    progress.connector_done(plan.label, status, count, len(outcome.errors))


def _checked_error(plan: CollectorPlan, error: CollectionError) -> CollectionError:
    message = _redact(error.message, plan.secrets)
    if error.kind not in plan.kinds:
        return CollectionError(error.kind, f"(undeclared kind) {message}")
    return CollectionError(error.kind, message, error.fields, error.items)


def _summarise(
    plans: list[CollectorPlan], outcomes: list[ConnectorOutcome]
) -> tuple[list[ConnectorRunRecord], list[str], dict[str, list[CollectionError]]]:
    """Per connector: its record; the kinds that brought items; per kind: its collection errors."""
    by_name: dict[str, list[tuple[CollectorPlan, ConnectorOutcome]]] = {}
    for plan, outcome in zip(plans, outcomes, strict=True):
        by_name.setdefault(plan.name, []).append((plan, outcome))
    records: list[ConnectorRunRecord] = []
    with_items: set[str] = set()
    kind_errors: dict[str, list[CollectionError]] = {}
    for name, group in sorted(by_name.items()):
        errors: list[str] = []
        kinds: dict[str, dict[str, Any]] = {}
        total = api_calls = 0
        duration = 0.0
        for plan, outcome in group:
            for kind in sorted(plan.kinds):
                kinds.setdefault(kind, {"items": 0, "errors": []})
            for kind, count in outcome.items.items():
                kinds[kind]["items"] += count
                with_items.add(kind)
            for err in outcome.errors:
                kinds.setdefault(err.kind, {"items": 0, "errors": []})["errors"].append(err.message)
                kind_errors.setdefault(err.kind, []).append(err)
                errors.append(err.message)
            if outcome.crashed:
                message = f"{plan.label}: {outcome.crashed}"
                errors.append(message)
                for kind in plan.kinds:
                    kinds[kind]["errors"].append(message)
                    kind_errors.setdefault(kind, []).append(CollectionError(kind, message))
            total += sum(outcome.items.values())
            api_calls += outcome.api_calls
            duration = max(duration, outcome.duration_s)
        crashed = any(o.crashed for _, o in group)
        # "error" means nothing usable came back: every kind failed and brought no items. A kind that
        # lost some items (one file, one region) but kept the rest is partial, like the run.
        all_failed = bool(kinds) and all(k["errors"] and not k["items"] for k in kinds.values())
        status = "error" if crashed or all_failed else ("partial" if errors else "ok")
        records.append(ConnectorRunRecord(name, status, errors, kinds, total, api_calls, duration))
    return records, sorted(with_items), kind_errors


def _check_record(result: CheckResult) -> CheckRunRecord:
    d = result.check.definition
    return CheckRunRecord(
        check_id=d.id,
        connector=result.check.connector,
        evidence=d.evidence,
        title=d.title,
        severity=d.severity,
        controls=list(d.control_ids),
        supporting=list(d.supporting),
        remediation=d.remediation,
        status=result.status,
        counts=result.counts,
        errors=result.errors[:200],
    )


def _merged_state(outcomes: list[ConnectorOutcome]) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for outcome in outcomes:
        # State from a crashed connector may describe a sweep that never finished: drop it.
        if not outcome.crashed:
            merged.setdefault(outcome.plan_name, {}).update(outcome.state)
    return merged


def _secret_values(settings: ConnectorSettings) -> tuple[str, ...]:
    found = []
    for value in settings.__dict__.values():
        if isinstance(value, SecretStr) and value.get_secret_value():
            found.append(value.get_secret_value())
    return tuple(found)


def _redact(text: str, secret_values: Iterable[str]) -> str:
    for value in secret_values:
        if len(value) >= 4:
            text = text.replace(value, redact.MASK)
    return redact.redact(text)


def _describe_abort(exc: BaseException) -> str:
    if isinstance(exc, RunInterrupted | KeyboardInterrupt):
        return "interrupted: stopped by a signal before the run completed"
    return f"aborted: {type(exc).__name__}: {exc}"
