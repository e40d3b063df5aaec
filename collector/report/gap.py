"""Build the gap report of one published run from the store (CONTRACT §6)."""

from __future__ import annotations

from typing import Any

from ..catalog import load_catalogue
from ..evaluate import control_status, summarise_statuses
from ..mapping import SEVERITY_ORDER
from ..store import Store
from ..timeutil import iso, utcnow

SCHEMA = "annexa/gap-report@1"


def build_gap_report(store: Store, run: dict[str, Any]) -> dict[str, Any]:
    seq = int(run["seq"])
    excluded: dict[str, str] = run.get("soa_excluded") or {}
    failing: dict[str, list[dict[str, str]]] = {}
    for row in store.findings(seq, statuses=("fail",)):
        failing.setdefault(row["check_id"], []).append({"resource": row["resource"], "message": row["message"]})
    checks_by_control: dict[str, list[dict[str, Any]]] = {}
    for check in store.check_runs(run["id"]):
        entry = {
            "id": check["check_id"],
            "title": check["title"],
            "connector": check["connector"],
            "evidence": check["evidence"],
            "severity": check["severity"],
            "status": check["status"],
            "counts": check["counts"],
            "failing": failing.get(check["check_id"], []),
            "errors": check["errors"],
            "remediation": check["remediation"],
        }
        for control_id in check["controls"]:
            checks_by_control.setdefault(control_id, []).append(entry)
    controls: list[dict[str, Any]] = []
    for control in load_catalogue():
        checks = sorted(
            checks_by_control.get(control.id, []), key=lambda c: (SEVERITY_ORDER.get(c["severity"], 9), c["id"])
        )
        status = control_status([c["status"] for c in checks], control.id in excluded)
        controls.append(
            {
                "id": control.id,
                "title": control.title,
                "theme": control.theme,
                "status": status,
                "exclusion_reason": excluded.get(control.id),
                "manual_evidence": control.expected if status == "manual" else None,
                "checks": checks,
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
        for c in store.connector_runs(run["id"])
    ]
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
        "summary": summarise_statuses(c["status"] for c in controls),
        "controls": controls,
    }


def control_statuses(store: Store, run: dict[str, Any]) -> dict[str, str]:
    """Control id -> status of a published run, derived exactly as the gap report derives it."""
    excluded: dict[str, str] = run.get("soa_excluded") or {}
    by_control: dict[str, list[str]] = {}
    for check in store.check_runs(run["id"]):
        for control_id in check["controls"]:
            by_control.setdefault(control_id, []).append(check["status"])
    return {c.id: control_status(by_control.get(c.id, []), c.id in excluded) for c in load_catalogue()}
