"""The Stage 1 readiness report: one document an ISMS manager takes into the Stage 1 meeting.

Sections, each with a verdict (``ready`` or ``gaps``) and the list of gaps: the ISMS clause items
(4-10), the internal audit and management review (both dated before the audit), the Statement of
Applicability's completeness, exposed risks, failing automated controls, manual controls without
current evidence, and the observation window (how long the ISMS has been shown to operate).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .catalog import load_catalogue, load_clauses
from .observation import Window, observation_window, schedule_interval
from .register import CURRENT, EXPIRING, Entry, by_target, entries_for_run, evidence_state, reported
from .store import Store
from .timeutil import iso, parse_iso

READY, GAPS = "ready", "gaps"
SCHEMA = "annexa/readiness@1"
DATED_BEFORE_AUDIT = {"9.2": "internal audit", "9.3": "management review"}
MIN_WEEKS = 4  # below this an observation window is too short to show operation (auditors ask for weeks to months)


@dataclass
class Section:
    id: str
    title: str
    gaps: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return GAPS if self.gaps else READY

    def document(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "verdict": self.verdict, "gaps": self.gaps, **self.details}


@dataclass
class Inputs:
    """What the readiness report reads, gathered by the caller (the CLI or the demo)."""

    store: Store
    run: Mapping[str, Any]
    gap_report: Mapping[str, Any]
    today: date
    audit_date: date | None
    warn_days: int
    schedule_cron: str | None
    organization: str
    soa_rows: Sequence[Mapping[str, Any]] | None = None  # from collector.soa, when a register is configured
    exposed_risks: Sequence[Mapping[str, Any]] | None = None  # from collector.risks
    risk_count: int | None = None
    now: datetime | None = None


def build_readiness(inputs: Inputs) -> dict[str, Any]:
    entries = entries_for_run(inputs.store, inputs.run)
    as_of = inputs.now or parse_iso(inputs.run["started_at"])
    window = observation_window(inputs.store, as_of=as_of, interval=schedule_interval(inputs.schedule_cron))
    sections = [
        _clauses(entries, inputs),
        _audit_and_review(entries, inputs),
        _soa(inputs),
        _risks(inputs),
        _automated(inputs.gap_report),
        _manual(entries, inputs),
        _observation(window),
    ]
    return {
        "schema": SCHEMA,
        "organization": inputs.organization,
        "generated_at": iso(as_of),
        "as_of": inputs.today.isoformat(),
        "audit_date": inputs.audit_date.isoformat() if inputs.audit_date else None,
        "run": {"id": inputs.run["id"], "started_at": inputs.run["started_at"], "status": inputs.run["status"]},
        "verdict": GAPS if any(s.gaps for s in sections) else READY,
        "sections": [s.document() for s in sections],
        "history": window.history,
    }


def clause_states(entries: Sequence[Entry], today: date, warn_days: int) -> list[dict[str, Any]]:
    """Every ISMS clause item with the state of its evidence (what `annexa clauses` lists)."""
    evidence = by_target(entries, today, warn_days, clauses=True)
    return [
        {
            "id": clause.id,
            "title": clause.title,
            "state": evidence_state(evidence.get(clause.id, [])),
            "expected": clause.expected,
            "evidence": [reported(s) for s in evidence.get(clause.id, [])],
        }
        for clause in load_clauses()
    ]


def _clauses(entries: Sequence[Entry], inputs: Inputs) -> Section:
    items = clause_states(entries, inputs.today, inputs.warn_days)
    section = Section("clauses", "ISMS documentation (clauses 4-10)", details={"items": items})
    for item in items:
        if item["state"] not in (CURRENT, EXPIRING):
            section.gaps.append(f"{item['id']} {item['title']}: evidence {item['state']}")
    return section


def _audit_and_review(entries: Sequence[Entry], inputs: Inputs) -> Section:
    section = Section("audit_and_review", "Internal audit (9.2) and management review (9.3)")
    found: dict[str, Any] = {}
    for clause, name in DATED_BEFORE_AUDIT.items():
        usable = [
            e for e in entries if clause in e.clauses and e.state(inputs.today, inputs.warn_days) in (CURRENT, EXPIRING)
        ]
        dated = sorted(((_held_on(e), e) for e in usable), key=lambda pair: pair[0], reverse=True)
        before = [(d, e) for d, e in dated if inputs.audit_date is None or d < inputs.audit_date]
        if not usable:
            section.gaps.append(f"no current {name} record ({clause}): register its report with --clause {clause}")
        elif not before:
            section.gaps.append(
                f"the {name} ({clause}) is dated {dated[0][0]}, not before the audit on {inputs.audit_date}"
            )
        found[clause] = (
            {"evidence": before[0][1].id, "title": before[0][1].title, "held_on": before[0][0].isoformat()}
            if before
            else None
        )
    if inputs.audit_date is None:
        section.details["note"] = "no audit date given (--audit-date or readiness.audit_date): dates not compared"
    section.details["records"] = found
    return section


def _held_on(entry: Entry) -> date:
    """The date an audit or review took place: the document's own date, else the day it was registered."""
    if entry.date:
        return date.fromisoformat(entry.date)
    return parse_iso(entry.added_at).date() if entry.added_at else date.min


def _soa(inputs: Inputs) -> Section:
    section = Section("soa", "Statement of Applicability")
    rows = inputs.soa_rows
    if rows is None:
        section.gaps.append("no Statement of Applicability could be derived")
        return section
    unjustified = [r["id"] for r in rows if r.get("applicable") and not r.get("justification")]
    unreasoned = [r["id"] for r in rows if not r.get("applicable") and not r.get("exclusion_reason")]
    unassessed = [r["id"] for r in rows if r.get("applicable") and r.get("status") in (None, "", "not assessed")]
    if unjustified:
        section.gaps.append(f"{len(unjustified)} applicable controls have no justification: {_few(unjustified)}")
    if unreasoned:
        section.gaps.append(f"{len(unreasoned)} exclusions have no reason: {_few(unreasoned)}")
    if unassessed:
        section.gaps.append(f"{len(unassessed)} applicable controls have no implementation status: {_few(unassessed)}")
    section.details.update(
        controls=len(rows),
        applicable=sum(1 for r in rows if r.get("applicable")),
        excluded=sum(1 for r in rows if not r.get("applicable")),
        unjustified=unjustified,
        unassessed=unassessed,
    )
    return section


def _risks(inputs: Inputs) -> Section:
    section = Section("risks", "Risks whose treatment is not shown to work")
    if inputs.exposed_risks is None:
        section.gaps.append("no risk register is configured (risks: in annexa.yaml); 6.1.2 and 8.2 need one")
        return section
    exposed = list(inputs.exposed_risks)
    for risk in exposed:
        why = "; ".join(risk.get("reasons") or []) or "its treating controls are not shown to work"
        section.gaps.append(f"{risk['id']} (score {risk.get('score')}) {risk.get('title', '')}: {why}")
    section.details.update(risks=inputs.risk_count, exposed=exposed)
    return section


def _automated(gap_report: Mapping[str, Any]) -> Section:
    section = Section("automated", "Automated controls that fail or could not be assessed")
    failing = []
    for control in gap_report.get("controls", []):
        if control["status"] in ("fail", "not_assessed"):
            checks = [c["id"] for c in control.get("checks", []) if c["status"] != "pass"]
            failing.append(
                {"id": control["id"], "title": control["title"], "status": control["status"], "checks": checks}
            )
            section.gaps.append(f"{control['id']} {control['title']}: {control['status']} ({', '.join(checks)})")
    section.details["controls"] = failing
    return section


def _manual(entries: Sequence[Entry], inputs: Inputs) -> Section:
    section = Section("manual", "Controls shown by documents: current evidence")
    evidence = by_target(entries, inputs.today, inputs.warn_days)
    statuses = {c["id"]: c["status"] for c in inputs.gap_report.get("controls", [])}
    missing = []
    for control in load_catalogue():
        if statuses.get(control.id, "manual") != "manual":
            continue
        state = evidence_state(evidence.get(control.id, []))
        if state not in (CURRENT, EXPIRING):
            missing.append({"id": control.id, "title": control.title, "state": state})
    if missing:
        section.gaps.append(
            f"{len(missing)} manual controls have no current evidence: {_few([m['id'] for m in missing])}"
        )
    manual_total = sum(1 for s in statuses.values() if s == "manual")
    section.details.update(manual_controls=manual_total, without_current_evidence=missing)
    return section


def _observation(window: Window) -> Section:
    section = Section("observation", "Observation window (how long the ISMS has been shown to operate)")
    section.details["window"] = window.document()
    if window.first_complete is None:
        section.gaps.append("no complete run yet: the window has not started")
        return section
    if window.weeks < MIN_WEEKS:
        section.gaps.append(
            f"the window covers {window.weeks:.1f} weeks; Stage 2 wants weeks to months (≥ {MIN_WEEKS})"
        )
    if window.gap_flagged:
        hours = window.longest_gap.total_seconds() / 3600
        section.gaps.append(
            f"no complete run for {hours:.0f} h from {iso(window.longest_gap_from or window.as_of)}: "
            f"more than 3 times the schedule interval"
        )
    return section


def _few(ids: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def readiness_document(
    config: str | None, run_ref: str | None, audit_date: date | None, *, gap: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Gather what the readiness report reads from annexa.yaml and the store, and build it. ``gap``: the
    run's gap report when the caller has built it already (with the configured expiry window)."""
    from .config import config_path, load_settings
    from .operations import open_store_for_reading
    from .report import build_gap_report
    from .timeutil import utcnow

    settings = load_settings(config_path(config))
    model = settings.model
    with open_store_for_reading(config) as store:
        run = store.resolve_run(run_ref)
        if gap is None:
            gap = build_gap_report(store, run, model.readiness.expiring_within_days)
        soa_rows, exposed, risk_count = _soa_and_risks(store, run, gap)
        inputs = Inputs(
            store=store,
            run=run,
            gap_report=gap,
            today=utcnow().date() if run_ref in (None, "latest") else parse_iso(run["started_at"]).date(),
            audit_date=audit_date or model.readiness.audit_date,
            warn_days=model.readiness.expiring_within_days,
            schedule_cron=model.schedule.cron if model.schedule else None,
            organization=model.organization or str(run.get("organization") or ""),
            soa_rows=soa_rows,
            exposed_risks=exposed,
            risk_count=risk_count,
        )
        return build_readiness(inputs)


def _soa_and_risks(
    store: Store, run: Mapping[str, Any], gap: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None, int | None]:
    """The SoA rows and the exposed risks (None with no register recorded) of the run, reading the
    recorded register once for both."""
    from .risks import assess, recorded_justifications, recorded_risks
    from .soa import soa_rows

    recorded = recorded_risks(store, run)
    rows = soa_rows(gap, recorded, recorded_justifications(store, run))
    if recorded is None:
        return rows, None, None
    assessed = assess(recorded, gap)
    return rows, [r for r in assessed if r["exposed"]], len(assessed)
