"""Pure evaluation: compiled checks over one snapshot -> per-check and per-control results.

No I/O and no clock: ``now`` is the run's start, passed in. Status rules follow CONTRACT §5 exactly;
nothing passes unless every in-scope item was shown compliant and its evidence kind was collected.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import cel

from connectors.base import CollectionError

from .catalog import Control
from .mapping import PLACEHOLDER, CompiledCheck

PASS, FAIL, ERROR, NOT_APPLICABLE = "pass", "fail", "error", "not_applicable"
EXCLUDED, MANUAL, NOT_ASSESSED = "excluded", "manual", "not_assessed"


@dataclass(frozen=True)
class SnapshotItem:
    id: str
    data: Mapping[str, Any]
    hash: str | None = None
    unknown: Mapping[str, str] = field(default_factory=dict)  # field -> why it could not be read


@dataclass(frozen=True)
class Finding:
    check: str
    resource: str
    status: str  # pass | fail | error
    message: str
    evidence_hash: str | None = None


@dataclass
class CheckResult:
    check: CompiledCheck
    status: str
    counts: dict[str, int]
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def failing(self) -> list[str]:
        return [f.resource for f in self.findings if f.status == FAIL]


@dataclass(frozen=True)
class ControlResult:
    control: Control
    status: str
    check_ids: tuple[str, ...]
    exclusion_reason: str | None = None


def evaluate_checks(
    checks: Iterable[CompiledCheck],
    items_by_kind: Mapping[str, Sequence[SnapshotItem]],
    kind_errors: Mapping[str, Sequence[str | CollectionError]],
    now: datetime,
) -> dict[str, CheckResult]:
    return {
        check.id: evaluate_check(check, items_by_kind.get(check.definition.evidence, ()), kind_errors, now)
        for check in checks
    }


def evaluate_check(
    check: CompiledCheck,
    items: Sequence[SnapshotItem],
    kind_errors: Mapping[str, Sequence[str | CollectionError]],
    now: datetime,
) -> CheckResult:
    context = cel.Context()
    context.add_variable("params", check.params)
    context.add_variable("now", now)
    fields = check.resource_fields
    findings: list[Finding] = []
    errors = [
        e if isinstance(e, str) else e.message
        for e in kind_errors.get(check.definition.evidence, ())
        if _concerns(e, fields)
    ]
    counts = {PASS: 0, FAIL: 0, ERROR: 0}
    budget = check_time_budget()
    started = time.monotonic()
    for done, item in enumerate(items):
        if time.monotonic() - started > budget:
            # Too expensive: the rest of the items are errors, never judged, and the run goes on.
            message = (
                f"evaluation stopped after {budget:g} s over {done} of {len(items)} items: the expression is too "
                "expensive (simplify it, or use a lookup)"
            )
            errors.append(message)
            for rest in items[done:]:
                findings.append(Finding(check.id, rest.id, ERROR, f"{rest.id}: {message}", rest.hash))
                counts[ERROR] += 1
            break
        data = item.data
        context.add_variable("resource", data if fields is None else {k: data[k] for k in fields if k in data})
        try:
            _require_known(item, check.when_fields)
            if check.when is not None and not _boolean(check.when.execute(context), "when"):
                continue
            _require_known(item, fields)
            compliant = _boolean(check.assertion.execute(context), "assert")
        except Exception as exc:  # any evaluation failure is that item's error, never a pass
            message = f"{item.id}: {_explain(exc)}"
            findings.append(Finding(check.id, item.id, ERROR, message, item.hash))
            errors.append(message)
            counts[ERROR] += 1
            continue
        status = PASS if compliant else FAIL
        counts[status] += 1
        text = "" if compliant else render_message(check, item)
        findings.append(Finding(check.id, item.id, status, text, item.hash))
    return CheckResult(check, check_status(counts, bool(errors)), counts, findings, errors)


CHECK_TIME_BUDGET_S = 60.0  # per check and run; ANNEXA_CHECK_TIME_LIMIT overrides it (seconds)


def check_time_budget() -> float:
    raw = os.environ.get("ANNEXA_CHECK_TIME_LIMIT")
    try:
        return float(raw) if raw else CHECK_TIME_BUDGET_S
    except ValueError:
        return CHECK_TIME_BUDGET_S


class UnknownFact(Exception):
    """A check reads a field its connector could not read for this item."""


def _require_known(item: SnapshotItem, fields: tuple[str, ...] | None) -> None:
    """Unknown is never judged: a check reading an unreadable field errors before CEL sees the item."""
    if not item.unknown:
        return
    blind = sorted(item.unknown) if fields is None else sorted(set(fields) & set(item.unknown))
    if blind:
        name = blind[0]
        more = f" (and {', '.join(blind[1:])})" if len(blind) > 1 else ""
        raise UnknownFact(f"{name}{more} could not be read: {item.unknown[name]}")


def _concerns(error: str | CollectionError, check_fields: tuple[str, ...] | None) -> bool:
    """Does a collection error leave something this check reads unknown?"""
    if isinstance(error, str) or error.fields is None or check_fields is None:
        return True
    return bool(set(error.fields) & set(check_fields))


def check_status(counts: Mapping[str, int], has_errors: bool) -> str:
    if counts.get(FAIL, 0):
        return FAIL
    if has_errors or counts.get(ERROR, 0):
        return ERROR
    if not counts.get(PASS, 0):
        return NOT_APPLICABLE
    return PASS


def summarise_statuses(control_statuses: Iterable[str]) -> dict[str, int]:
    """The gap report's summary: how many controls, and how many in each status."""
    summary = dict.fromkeys(("controls", PASS, FAIL, NOT_ASSESSED, MANUAL, EXCLUDED), 0)
    for status in control_statuses:
        summary["controls"] += 1
        summary[status] += 1
    return summary


def control_status(check_statuses: Sequence[str], excluded: bool, primary: int | None = None) -> str:
    """``primary``: how many of the checks are primary links (None: all are). Supporting evidence alone
    never carries a control: without a primary check it stays manual, its checks shown beside it."""
    if excluded:
        return EXCLUDED
    if not check_statuses or primary == 0:
        return MANUAL
    if FAIL in check_statuses:
        return FAIL
    if ERROR in check_statuses or all(s == NOT_APPLICABLE for s in check_statuses):
        return NOT_ASSESSED
    return PASS


def evaluate_controls(
    catalogue: Sequence[Control],
    check_results: Mapping[str, CheckResult],
    excluded: Mapping[str, str],
) -> list[ControlResult]:
    by_control: dict[str, list[CheckResult]] = {}
    for result in check_results.values():
        for control_id in result.check.definition.control_ids:
            by_control.setdefault(control_id, []).append(result)
    out = []
    for control in catalogue:
        results = by_control.get(control.id, [])
        primary = sum(1 for r in results if r.check.definition.strength_of(control.id) == "primary")
        status = control_status([r.status for r in results], control.id in excluded, primary)
        out.append(ControlResult(control, status, tuple(r.check.id for r in results), excluded.get(control.id)))
    return out


def render_message(check: CompiledCheck, item: SnapshotItem) -> str:
    template = check.message_template
    if not template:
        return f"{item.id}: {check.definition.title} — not met"

    def lookup(expression: str) -> str:
        parts = expression.strip().split(".")
        value: Any = {"resource": item.data, "params": check.params, "id": item.id}
        for part in parts:
            if isinstance(value, Mapping) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return "?"
        return str(value)

    return PLACEHOLDER.sub(lambda match: lookup(match.group(1)), template)


def _boolean(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{key} must evaluate to a bool, got {type(value).__name__} {value!r}")
    return value


def _explain(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}" if exc.args else "missing field"
    text = str(exc).split("\n")[0]
    return text or type(exc).__name__
