"""Build the gap report of one published run from the store (CONTRACT §6).

Schema `annexa/gap-report@1` only ever gains keys. Besides the verdicts, the document carries the
population each check judged (every in-scope resource with its status, the SHA-256 of the evidence it
judged and when that evidence was collected), so an auditor's sample can be traced to stored evidence;
a reason for every check and control that could not be assessed; and the history of earlier runs.

The whole run is read in one pass over its findings and one over its evidence, never per check.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, overload

from ..catalog import THEMES, control_sort_key, load_catalogue
from ..evaluate import control_status, summarise_statuses
from ..mapping import SEVERITY_ORDER
from ..register import (
    CURRENT,
    DEFAULT_WARN_DAYS,
    EXPIRING,
    by_target,
    entries_for_run,
    evidence_state,
    reported,
    run_day,
)
from ..risks import assess, exposed, recorded_risks
from ..store import Store
from ..timeutil import iso, utcnow
from .definitions import CheckInfo, shipped_checks

SCHEMA = "annexa/gap-report@1"
HISTORY_RUNS = 60  # runs shown in the history chart (the latest ones up to the reported run)


class StoredRows(Sequence[dict[str, Any]]):
    """A check's population (or its failing part) read from the store when it is used, not held.

    What a lazily built report has in place of the ``population`` and ``failing`` lists: it has a
    length, iterates, slices (``rows[:200]`` reads 200 rows), and the JSON renderer writes it as the
    list it stands for, so a 100,000-item run's report is written without holding its findings. The
    store must stay open while the report is used.
    """

    def __init__(self, store: Store, seq: int, check_id: str, kind: str, *, failing: bool = False) -> None:
        self.store, self.seq, self.check_id, self.kind = store, seq, check_id, kind
        self.failing = failing
        self._length: int | None = None

    @property
    def status(self) -> str | None:
        """The findings' status these rows are limited to (None: the whole population)."""
        return "fail" if self.failing else None

    def _rows(self, limit: int | None = None, offset: int = 0) -> Iterator[dict[str, Any]]:
        for row in self.store.population(self.seq, self.check_id, self.kind, self.status, limit, offset):
            if self.failing:  # the failing list has no status column
                del row["status"]
            yield row

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self._rows()

    def __len__(self) -> int:
        if self._length is None:
            counts = self.status_counts()
            self._length = sum(counts.values()) if self.status is None else counts.get(self.status, 0)
        return self._length

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return list(self)[index]
            return list(self._rows(max(0, stop - start), start))
        position = range(len(self))[index]
        return next(self._rows(1, position))

    def __bool__(self) -> bool:
        return len(self) > 0

    def status_counts(self) -> dict[str, int]:
        return self.store.population_statuses(self.seq, self.check_id)

    def errors(self) -> Iterator[dict[str, Any]]:
        yield from self.store.population(self.seq, self.check_id, self.kind, "error")

    def failing_part(self) -> StoredRows:
        return StoredRows(self.store, self.seq, self.check_id, self.kind, failing=True)


def error_rows(population: Sequence[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The rows of a population whose evaluation errored (read by SQL when it is a StoredRows)."""
    if isinstance(population, StoredRows):
        return population.errors()
    return (p for p in population if p["status"] == "error")


def build_gap_report(
    store: Store, run: dict[str, Any], warn_days: int = DEFAULT_WARN_DAYS, *, lazy: bool = False
) -> dict[str, Any]:
    """``warn_days``: manual evidence expiring within this many days of the run is ``expiring``.

    ``lazy``: populations are :class:`StoredRows` read from the (open) store when used, so memory does
    not grow with the run's findings: what the auditor pack uses. The rendered report is the same."""
    seq = int(run["seq"])
    evidence = by_target(entries_for_run(store, run), run_day(run), warn_days)
    excluded: dict[str, str] = run.get("soa_excluded") or {}
    connector_rows = store.connector_runs(run["id"])
    check_rows = store.check_runs(run["id"])
    kind_of = {c["check_id"]: c["evidence"] for c in check_rows}
    population = {} if lazy else _population(store, seq, kind_of)
    items_of_kind: dict[str, int] = {}
    for c in connector_rows:
        for kind, info in (c.get("kinds") or {}).items():
            items_of_kind[kind] = items_of_kind.get(kind, 0) + int(info.get("items", 0))
    known = shipped_checks()
    checks_by_control: dict[str, list[dict[str, Any]]] = {}
    for check in check_rows:
        rows: Sequence[dict[str, Any]] = (
            StoredRows(store, seq, check["check_id"], check["evidence"])
            if lazy
            else population.get(check["check_id"], [])
        )
        entry = _check_entry(check, rows, known.get(check["check_id"]))
        entry["reason"] = check_reason(entry, items_of_kind.get(check["evidence"], 0), known.get(check["check_id"]))
        for control_id in check["controls"]:
            strength = "supporting" if control_id in entry["supporting"] else "primary"
            checks_by_control.setdefault(control_id, []).append({**entry, "strength": strength})
    controls: list[dict[str, Any]] = []
    for control in load_catalogue():
        checks = sorted(
            checks_by_control.get(control.id, []), key=lambda c: (SEVERITY_ORDER.get(c["severity"], 9), c["id"])
        )
        primary = sum(1 for c in checks if c["strength"] == "primary")
        status = control_status([c["status"] for c in checks], control.id in excluded, primary)
        documents = [reported(e) for e in evidence.get(control.id, [])]
        controls.append(
            {
                "id": control.id,
                "title": control.title,
                "theme": control.theme,
                "status": status,
                "exclusion_reason": excluded.get(control.id),
                "guidance": control.expected if status == "manual" else None,
                # Documents and links registered for it (`annexa evidence`, `manual_evidence:`): beside
                # the checks, they never change an automated status.
                "manual_evidence": documents,
                "evidence_state": evidence_state(documents),
                "checks": checks,
                "expected": control.expected,
                "automated_scope": control.automated if checks else None,
                "reason": control_reason(status, checks),
            }
        )
    connectors = [
        {
            "name": c["connector"],
            "status": c["status"],
            "evidence_items": c["evidence_items"],
            "errors": c["errors"],
            "api_calls": c["api_calls"],
            "duration_s": c["duration_s"],
        }
        for c in connector_rows
    ]
    summary = summarise_statuses(c["status"] for c in controls)
    manual = [c for c in controls if c["status"] == "manual"]
    summary["manual_evidenced"] = sum(1 for c in manual if c["evidence_state"] in (CURRENT, EXPIRING))
    summary["manual_missing"] = len(manual) - summary["manual_evidenced"]
    recorded = recorded_risks(store, run)
    assessed = assess(recorded, {"controls": controls}) if recorded is not None else None
    return {
        "schema": SCHEMA,
        "organization": run.get("organization") or "",
        "generated_at": iso(utcnow()),
        "run": {
            "id": run["id"],
            "started_at": run["started_at"],
            "finished_at": run["finished_at"],
            "status": run["status"],
            "tool_version": run.get("tool_version"),
            "connectors": connectors,
        },
        "summary": summary,
        # Risks whose treating controls fail, are not assessed or lack current evidence, highest
        # score first; null when the run recorded no risk register.
        "exposed_risks": exposed(assessed) if assessed is not None else None,
        "controls": controls,
        "history": run_history(store, seq),
    }


def _population(store: Store, seq: int, kind_of: Mapping[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Check id -> every in-scope resource it judged in the run, with the evidence behind each verdict."""
    collected: dict[tuple[str, str], tuple[str, str]] = {
        (row["kind"], row["item_id"]): (row["hash"], row["collected_at"]) for row in store.evidence(seq)
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for row in store.findings(seq):
        check_id = row["check_id"]
        stored = collected.get((kind_of.get(check_id, ""), row["resource"]))
        out.setdefault(check_id, []).append(
            {
                "resource": row["resource"],
                "status": row["status"],
                "message": row["message"] or "",
                # The hash the verdict was computed on; the stored item's own when a finding lacks it.
                "evidence_hash": row["hash"] or (stored[0] if stored else None),
                # When an item with this content was collected: unchanged content is stored once, so
                # for a later run this is the first collection of identical evidence.
                "collected_at": stored[1] if stored else None,
            }
        )
    return out


def _check_entry(
    check: dict[str, Any],
    population: Sequence[dict[str, Any]],
    info: CheckInfo | None,
) -> dict[str, Any]:
    item_errors = {p["message"] for p in error_rows(population)}
    failing: Sequence[dict[str, Any]]
    if isinstance(population, StoredRows):
        failing = population.failing_part()
    else:
        failing = [
            {
                "resource": p["resource"],
                "message": p["message"],
                "evidence_hash": p["evidence_hash"],
                "collected_at": p["collected_at"],
            }
            for p in population
            if p["status"] == "fail"
        ]
    return {
        "id": check["check_id"],
        "title": check["title"],
        "connector": check["connector"],
        "evidence": check["evidence"],
        "severity": check["severity"],
        "status": check["status"],
        "counts": check["counts"],
        "failing": failing,
        "errors": check["errors"],
        "remediation": check["remediation"],
        "controls": sorted(check["controls"], key=control_sort_key),
        "supporting": sorted(check.get("supporting") or [], key=control_sort_key),  # controls it only supports
        "description": info.description if info else None,
        "scope": info.when if info else None,
        "collection_errors": [e for e in check["errors"] if e not in item_errors],
        "population": population,
    }


def check_reason(check: Mapping[str, Any], items_of_kind: int, info: CheckInfo | None) -> str | None:
    """Why a check has no verdict (`error`, `not_applicable`); None when it passed or failed."""
    status, kind = check["status"], check["evidence"]
    if status == "error":
        parts = []
        collection = check["collection_errors"]
        if collection:
            more = f" (and {len(collection) - 1} more)" if len(collection) > 1 else ""
            parts.append(f"the {kind} evidence could not be fully collected: {collection[0]}{more}")
        item_errors = list(error_rows(check["population"]))
        if item_errors:
            n = len(item_errors)
            parts.append(f"{n} item{'s' if n != 1 else ''} could not be evaluated, e.g. {item_errors[0]['message']}")
        return "; ".join(parts) or "an error was recorded for this check"
    if status != "not_applicable":
        return None
    if not items_of_kind:
        return f"no {kind} items were collected in this run, so there was nothing to judge"
    text = f"none of the {items_of_kind} {kind} items collected is in the check's scope"
    if info and info.when:
        text += f" (when: {info.when})"
    unset = [p for p in (info.scope_params if info else []) if not info or not info.params.get(p)]
    if unset:
        names = ", ".join(f"params.{p}" for p in unset)
        text += (
            f"; the scope depends on {names}, empty by default: set it under checks.{check['id']}.params "
            "in annexa.yaml to assess this check"
        )
    return text


def control_reason(status: str, checks: Iterable[Mapping[str, Any]]) -> str | None:
    """Why a control is not assessed (or manual); None for pass, fail and excluded."""
    checks = list(checks)
    if status == "manual":
        supporting = [c["id"] for c in checks]
        if supporting:
            return (
                f"its automated checks ({', '.join(supporting)}) are supporting evidence only, which never carries "
                "the control alone: it is assessed from documents and records, with those checks beside them"
            )
        return "no check of a configured connector maps to this control: it is assessed from documents and records"
    if status != "not_assessed":
        return None
    errored = [c for c in checks if c["status"] == "error"]
    if errored:
        head = f"{len(errored)} of its {len(checks)} checks could not be assessed"
        return head + ": " + "; ".join(f"{c['id']}: {c['reason']}" for c in errored)
    return "none of its checks had anything in scope: " + "; ".join(f"{c['id']}: {c['reason']}" for c in checks)


def run_history(store: Store, up_to_seq: int, limit: int = HISTORY_RUNS) -> list[dict[str, Any]]:
    """The published runs up to ``up_to_seq``, oldest first, with control counts overall and per theme.

    Per-theme counts come from each run's stored check results (one small query per run, at most
    ``limit`` runs), so runs recorded before this key existed have them too."""
    runs = [r for r in store.runs(include_unpublished=False) if r["seq"] and int(r["seq"]) <= up_to_seq]
    out = []
    for run in reversed(runs[:limit]):
        if not run.get("summary"):
            continue
        themes = {theme: dict.fromkeys(("pass", "fail", "not_assessed", "manual", "excluded"), 0) for theme in THEMES}
        theme_of = {c.id: c.theme for c in load_catalogue()}
        for control_id, status in control_statuses(store, run).items():
            themes[theme_of[control_id]][status] += 1
        out.append(
            {
                "run_id": run["id"],
                "started_at": run["started_at"],
                "status": run["status"],
                "summary": run["summary"],
                "themes": themes,
            }
        )
    return out


def control_statuses(store: Store, run: dict[str, Any]) -> dict[str, str]:
    """Control id -> status of a published run, derived exactly as the gap report derives it."""
    excluded: dict[str, str] = run.get("soa_excluded") or {}
    by_control: dict[str, list[str]] = {}
    primary: dict[str, int] = {}
    for check in store.check_runs(run["id"]):
        for control_id in check["controls"]:
            by_control.setdefault(control_id, []).append(check["status"])
            if control_id not in check["supporting"]:
                primary[control_id] = primary.get(control_id, 0) + 1
    return {
        c.id: control_status(by_control.get(c.id, []), c.id in excluded, primary.get(c.id, 0)) for c in load_catalogue()
    }
