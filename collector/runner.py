"""One run: connectors collect concurrently -> bodies stored -> checks evaluated -> run published.

A connector that raises, or fails for one evidence kind, never stops the others: what it could not
collect is recorded with the reason and turns the checks that read it into ``error``. An
interruption (signal, crash) marks the run failed; it is never published as a snapshot.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
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
from .evaluate import CheckResult, ControlResult, SnapshotItem, evaluate_checks, evaluate_controls, summarise_statuses
from .mapping import CheckSet
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


@dataclass
class ConnectorOutcome:
    plan_name: str
    items: list[tuple[EvidenceItem, str, str]] = field(default_factory=list)  # item, canonical json, hash
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
    progress.message("storing evidence")
    store.put_blobs((h, text) for o in outcomes for _, text, h in o.items)
    for plan in plans:
        if plan.after_collect is not None:
            plan.after_collect(store)
    for outcome in outcomes:  # the bodies are stored: drop their JSON text before evaluation needs memory
        outcome.items = [(item, "", h) for item, _, h in outcome.items]

    connector_runs, items_by_kind, kind_errors = _summarise(plans, outcomes)
    progress.message("evaluating checks")
    active = checks.for_connectors({p.name for p in plans})
    check_results = evaluate_checks(active, items_by_kind, kind_errors, started, checks.identities)
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
        items=[
            StagedItem(item.kind, item.id, plan_name, h, iso(item.collected_at or started), dict(item.unknown))
            for o in outcomes
            for plan_name in [o.plan_name]
            for item, _, h in o.items
        ],
        findings=[
            StagedFinding(f.check, f.resource, f.status, f.message, f.evidence_hash)
            for r in check_results.values()
            for f in r.findings
        ],
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


def _collect_concurrently(
    store: Store, run_id: str, started: datetime, plans: list[CollectorPlan], progress: Progress
) -> list[ConnectorOutcome]:
    outcomes = [ConnectorOutcome(plan.name) for plan in plans]
    contexts = [_context_for(store, run_id, started, plan, progress) for plan in plans]
    # Daemon threads: a signal that abandons the run must not wait for a slow API call to return.
    threads = [
        threading.Thread(
            target=_collect_one, args=(plan, ctx, outcome, progress), name=f"collect-{plan.label}", daemon=True
        )
        for plan, ctx, outcome in zip(plans, contexts, outcomes, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.2)  # short joins keep the main thread responsive to signals
    return outcomes


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


def _collect_one(plan: CollectorPlan, context: CollectContext, outcome: ConnectorOutcome, progress: Progress) -> None:
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
            outcome.items.append((record, text, content_hash(text)))
            count += 1
            if count % 500 == 0:
                progress.connector(plan.label, f"{count} items")
    except MissingSDKError as exc:
        outcome.crashed = str(exc)
    except Exception as exc:  # a crashing connector is recorded, never allowed to stop the others
        outcome.crashed = f"{type(exc).__name__}: {_redact(str(exc), plan.secrets) or 'no message'}"
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
) -> tuple[list[ConnectorRunRecord], dict[str, list[SnapshotItem]], dict[str, list[CollectionError]]]:
    by_name: dict[str, list[tuple[CollectorPlan, ConnectorOutcome]]] = {}
    for plan, outcome in zip(plans, outcomes, strict=True):
        by_name.setdefault(plan.name, []).append((plan, outcome))
    records: list[ConnectorRunRecord] = []
    items_by_kind: dict[str, dict[str, SnapshotItem]] = {}
    kind_errors: dict[str, list[CollectionError]] = {}
    for name, group in sorted(by_name.items()):
        errors: list[str] = []
        kinds: dict[str, dict[str, Any]] = {}
        total = api_calls = 0
        duration = 0.0
        for plan, outcome in group:
            for kind in sorted(plan.kinds):
                kinds.setdefault(kind, {"items": 0, "errors": []})
            for item, _, h in outcome.items:
                items_by_kind.setdefault(item.kind, {})[item.id] = SnapshotItem(item.id, item.data, h, item.unknown)
                kinds[item.kind]["items"] += 1
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
            total += len(outcome.items)
            api_calls += outcome.api_calls
            duration = max(duration, outcome.duration_s)
        crashed = any(o.crashed for _, o in group)
        # "error" means nothing usable came back: every kind failed and brought no items. A kind that
        # lost some items (one file, one region) but kept the rest is partial, like the run.
        all_failed = bool(kinds) and all(k["errors"] and not k["items"] for k in kinds.values())
        status = "error" if crashed or all_failed else ("partial" if errors else "ok")
        records.append(ConnectorRunRecord(name, status, errors, kinds, total, api_calls, duration))
    return records, {k: list(v.values()) for k, v in items_by_kind.items()}, kind_errors


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
