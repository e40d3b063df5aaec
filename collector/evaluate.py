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
from .mapping import PLACEHOLDER, CompiledCheck, CompiledLookup

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
    identities: Mapping[str, str] | None = None,
) -> dict[str, CheckResult]:
    """``identities``: annexa.yaml's map of account names to identity-provider identities."""
    tables = LookupTables(items_by_kind, kind_errors, normalised_identities(identities or {}))
    return {
        check.id: evaluate_check(check, items_by_kind.get(check.definition.evidence, ()), kind_errors, now, tables)
        for check in checks
    }


def normalise_key(value: Any) -> str:
    return str(value).strip().lower()


def normalised_identities(identities: Mapping[str, str]) -> dict[str, str]:
    return {normalise_key(k): normalise_key(v) for k, v in identities.items()}


_PRINCIPAL_PREFIXES = ("user:",)  # GCP IAM members name people as user:alice@example.com


def identity_of(value: Any, identities: Mapping[str, str]) -> str:
    """An account name as the identity provider knows the person: mapped through `identities:`, lower-cased."""
    key = normalise_key(value)
    for prefix in _PRINCIPAL_PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix) :]
    return identities.get(key, key)


class LookupTables:
    """The maps a run's cross-source checks consult, each built once per (kind, key expression)."""

    def __init__(
        self,
        items_by_kind: Mapping[str, Sequence[SnapshotItem]],
        kind_errors: Mapping[str, Sequence[str | CollectionError]],
        identities: Mapping[str, str],
    ) -> None:
        self.items_by_kind, self.kind_errors, self.identities = items_by_kind, kind_errors, identities
        self._tables: dict[tuple[str, str, str], dict[str, Any]] = {}

    def failure(self, lookup: CompiledLookup) -> str | None:
        """Why a looked-up kind cannot be trusted in this run (it failed to collect, wholly or in part)."""
        # Field-level errors (a user's factors unreadable) leave the items and their keys standing; a
        # kind-level one (a denied or failed list) means people may be missing from the map.
        errors = [e for e in self.kind_errors.get(lookup.evidence, ()) if isinstance(e, str) or e.fields is None]
        if not errors:
            return None
        first = errors[0] if isinstance(errors[0], str) else errors[0].message
        return f"lookup {lookup.name}: {lookup.evidence} could not be fully collected in this run ({first})"

    def table(self, lookup: CompiledLookup) -> dict[str, Any]:
        key = (lookup.evidence, lookup.expression, lookup.normalise)
        if key not in self._tables:
            table: dict[str, Any] = {}
            context = cel.Context()
            for item in sorted(self.items_by_kind.get(lookup.evidence, ()), key=lambda i: i.id):
                context.add_variable("resource", item.data)
                try:
                    value = lookup.key.execute(context)
                except Exception:  # an item without the key (an IdP user without an e-mail) cannot be matched
                    continue
                if value is None or value == "":
                    continue
                name = normalise_key(value) if lookup.normalise == "lower" else str(value)
                table.setdefault(name, dict(item.data))  # two items with one key: the first by id
            self._tables[key] = table
        return self._tables[key]


def evaluate_check(
    check: CompiledCheck,
    items: Sequence[SnapshotItem],
    kind_errors: Mapping[str, Sequence[str | CollectionError]],
    now: datetime,
    tables: LookupTables | None = None,
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
    if check.lookups:
        tables = tables or LookupTables({}, {}, {})
        identities = tables.identities
        context.add_function("identity", lambda value: identity_of(value, identities))
        broken = [reason for lookup in check.lookups if (reason := tables.failure(lookup))]
        if broken:
            # What the other source would have said is unknown: no item of this check can be judged.
            errors.append(broken[0])
            for item in items:
                findings.append(Finding(check.id, item.id, ERROR, f"{item.id}: {broken[0]}", item.hash))
                counts[ERROR] += 1
            return CheckResult(check, check_status(counts, True), counts, findings, errors)
        for lookup in check.lookups:
            context.add_variable(lookup.name, tables.table(lookup))
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
