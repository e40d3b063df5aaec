"""Drift between two published runs (CONTRACT §7): control, finding and evidence changes.

A finding absent from one side (a new or removed resource, a connector added or removed) is
``absent``, never read as fixed. A regression is a finding that goes to ``fail`` from anything
else, or a control that leaves ``pass``.
"""

from __future__ import annotations

from typing import Any

from .report.gap import control_statuses
from .store import Store

SCHEMA = "annexa/drift@1"
ABSENT = "absent"


def compute_drift(store: Store, from_ref: str | None, to_ref: str | None) -> dict[str, Any]:
    to_run = store.resolve_run(to_ref or "latest")
    from_run = store.resolve_run(from_ref or "previous") if from_ref or to_ref is None else _before(store, to_run)
    a, b = control_statuses(store, from_run), control_statuses(store, to_run)
    controls = [{"id": cid, "from": a[cid], "to": b[cid]} for cid in b if a.get(cid) != b[cid]]

    findings_a = _findings(store, int(from_run["seq"]))
    findings_b = _findings(store, int(to_run["seq"]))
    findings = []
    for key in sorted(set(findings_a) | set(findings_b)):
        before, after = findings_a.get(key, ABSENT), findings_b.get(key, ABSENT)
        if before != after:
            findings.append({"check": key[0], "resource": key[1], "from": before, "to": after})

    evidence = _evidence_changes(store, int(from_run["seq"]), int(to_run["seq"]))
    soa = soa_changes(store, from_run, to_run)
    regressions = {
        "controls": [c for c in controls if c["from"] == "pass"],
        "findings": [f for f in findings if f["to"] == "fail"],
    }
    return {
        "schema": SCHEMA,
        "from_run": from_run["id"],
        "to_run": to_run["id"],
        "from_started_at": from_run["started_at"],
        "to_started_at": to_run["started_at"],
        "organization": to_run.get("organization") or "",
        "controls": controls,
        "findings": findings,
        "evidence": evidence,
        "soa": soa,
        "regressions": regressions,
        "summary": {
            "regressions": len(regressions["controls"]) + len(regressions["findings"]),
            "controls_changed": len(controls),
            "findings_changed": len(findings),
            "evidence_added": len(evidence["added"]),
            "evidence_removed": len(evidence["removed"]),
            "evidence_changed": len(evidence["changed"]),
            "soa_changed": len(soa),
        },
    }


def soa_changes(store: Store, from_run: dict[str, Any], to_run: dict[str, Any]) -> list[dict[str, Any]]:
    """Controls whose SoA applicability or implementation status differs between the two runs."""
    from .report import build_gap_report
    from .soa import soa_document

    def rows(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
        doc = soa_document(store, run, build_gap_report(store, run))
        return {r["id"]: {"applicable": r["applicable"], "status": r["status"]} for r in doc["controls"]}

    before, after = rows(from_run), rows(to_run)
    return [{"id": cid, "from": before[cid], "to": now} for cid, now in after.items() if before.get(cid) != now]


def has_regression(drift: dict[str, Any]) -> bool:
    return bool(drift["summary"]["regressions"])


def _before(store: Store, run: dict[str, Any]) -> dict[str, Any]:
    rows = list(
        store.db.query(
            "select id from runs where status in ('complete', 'partial') and seq < ? order by seq desc limit 1",
            [run["seq"]],
        )
    )
    return store.resolve_run(rows[0]["id"]) if rows else run


def _findings(store: Store, seq: int) -> dict[tuple[str, str], str]:
    return {(r["check_id"], r["resource"]): r["status"] for r in store.findings(seq)}


def _evidence_changes(store: Store, seq_a: int, seq_b: int) -> dict[str, list[dict[str, Any]]]:
    a = {(r["kind"], r["item_id"]): r["hash"] for r in store.evidence(seq_a)}
    b = {(r["kind"], r["item_id"]): r["hash"] for r in store.evidence(seq_b)}
    added = [{"kind": k, "id": i} for (k, i) in sorted(set(b) - set(a))]
    removed = [{"kind": k, "id": i} for (k, i) in sorted(set(a) - set(b))]
    changed = []
    for key in sorted(set(a) & set(b)):
        if a[key] != b[key]:
            paths = changed_paths(store.blob(a[key]), store.blob(b[key]))
            fields = sorted({p.split(".", 1)[0].split("[", 1)[0] for p in paths})
            changed.append({"kind": key[0], "id": key[1], "fields": fields, "paths": paths})
    return {"added": added, "removed": removed, "changed": changed}


def changed_paths(before: Any, after: Any, prefix: str = "", limit: int = 50) -> list[str]:
    """Dotted paths whose values differ (lists compared by position); at most ``limit`` paths."""
    out: list[str] = []

    def walk(x: Any, y: Any, path: str) -> None:
        if len(out) >= limit or x == y:
            return
        if isinstance(x, dict) and isinstance(y, dict):
            for key in sorted(set(x) | set(y), key=str):
                walk(x.get(key), y.get(key), f"{path}.{key}" if path else str(key))
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (p, q) in enumerate(zip(x, y, strict=True)):
                walk(p, q, f"{path}[{i}]")
        else:
            out.append(path or "(root)")

    walk(before, after, prefix)
    return out


def render_drift_markdown(drift: dict[str, Any]) -> str:
    s = drift["summary"]
    reg = drift["regressions"]
    out = [
        f"# Drift {drift['from_run']} → {drift['to_run']}",
        "",
        f"{s['regressions']} regression(s); {s['controls_changed']} control(s) and {s['findings_changed']} "
        f"finding(s) changed; evidence: {s['evidence_added']} added, {s['evidence_removed']} removed, "
        f"{s['evidence_changed']} changed.",
        "",
        "## Regressions",
        "",
    ]
    if not reg["controls"] and not reg["findings"]:
        out.append("None.")
    for c in reg["controls"]:
        out.append(f"- control **{c['id']}**: {c['from']} → {c['to']}")
    for f in reg["findings"]:
        out.append(f"- `{f['check']}` on `{f['resource']}`: {f['from']} → {f['to']}")
    out += ["", "## Controls", ""]
    out += [f"- {c['id']}: {c['from']} → {c['to']}" for c in drift["controls"]] or ["No change."]
    out += ["", "## Findings", ""]
    out += [f"- `{f['check']}` `{f['resource']}`: {f['from']} → {f['to']}" for f in drift["findings"]] or ["No change."]
    out += ["", "## Statement of Applicability", ""]
    out += [f"- {c['id']}: {_soa_cell(c['from'])} → {_soa_cell(c['to'])}" for c in drift.get("soa", [])] or [
        "No change."
    ]
    out += ["", "## Evidence", ""]
    ev = drift["evidence"]
    out += [f"- added {e['kind']} `{e['id']}`" for e in ev["added"]]
    out += [f"- removed {e['kind']} `{e['id']}`" for e in ev["removed"]]
    out += [f"- changed {e['kind']} `{e['id']}`: {', '.join(e['paths'] or e['fields'])}" for e in ev["changed"]]
    if not any(ev.values()):
        out.append("No change.")
    return "\n".join(out) + "\n"


def _soa_cell(row: dict[str, Any]) -> str:
    return row["status"] if row["applicable"] else "excluded"
