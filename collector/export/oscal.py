"""`annexa export oscal`: a run as an OSCAL Assessment Results document (OSCAL 1.1.3, JSON).

One `result` per run: the Annex A controls assessed (`reviewed-controls`, SoA exclusions as
`exclude-controls`), an `observation` per evidence item the checks judged (method TEST, the item's
SHA-256 as a property) and per current manual evidence document (method EXAMINE, pointing at a
`back-matter` resource that carries the file's SHA-256), and a `finding` per assessed control whose
target status is `satisfied` (pass) or `not-satisfied` (fail: reason `fail`; not assessed or only manual
evidence: reason `other`, with the reason in the remarks). UUIDs are version-5 UUIDs of the run id and
the thing they name, so one run always exports to the same document.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from ..store import Store

OSCAL_VERSION = "1.1.3"
NS = "https://annexa.dev/ns/oscal"  # Annexa's own properties (OSCAL requires a namespace for them)
_ROOT = uuid.UUID("6f6b1f5e-8c1c-5a0e-9a57-616e6e657861")


def _uuid(run_id: str, *parts: str) -> str:
    return str(uuid.uuid5(_ROOT, "/".join((run_id, *parts))))


def _prop(name: str, value: object) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": str(value)}


def assessment_results(store: Store, run: Mapping[str, Any]) -> dict[str, Any]:
    from ..report import build_gap_report

    run_id, seq = str(run["id"]), int(run["seq"])
    gap = build_gap_report(store, dict(run))
    observations: list[dict[str, Any]] = []
    resources: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    by_item: dict[tuple[str, str], str] = {}
    for item in store.evidence(seq):
        key = (str(item["kind"]), str(item["item_id"]))
        if key[0].startswith("annexa."):
            continue  # the ISMS inputs (register, risks) are not provider facts; documents come below
        observation = _uuid(run_id, "evidence", *key)
        by_item[key] = observation
        observations.append(
            {
                "uuid": observation,
                "title": f"{key[0]} {key[1]}",
                "description": f"Evidence item {key[1]} of kind {key[0]} (connector {item['connector']}).",
                "props": [_prop("evidence-kind", key[0]), _prop("evidence-sha256", item["hash"])],
                "methods": ["TEST"],
                "collected": item["collected_at"],
            }
        )
    judged: dict[str, list[str]] = {}  # check id -> the resources it judged, read once for every control
    for finding in store.findings(seq):
        judged.setdefault(str(finding["check_id"]), []).append(str(finding["resource"]))
    documents: dict[str, str] = {}
    included, excluded = [], []
    for control in gap["controls"]:
        control_id = str(control["id"])
        if control["status"] == "excluded":
            excluded.append({"control-id": control_id})
            continue
        included.append({"control-id": control_id})
        related = _related(control, judged, by_item)
        for document in control.get("manual_evidence") or []:
            if document.get("state") not in ("current", "expiring") or not document.get("sha256"):
                continue
            seen = documents.get(document["sha256"])
            if seen is not None:
                observation = seen
            else:
                resource = _uuid(run_id, "document", document["sha256"])
                resources.append(
                    {
                        "uuid": resource,
                        "title": str(document.get("title") or document["id"]),
                        "props": [_prop("manual-evidence-id", document["id"])],
                        "rlinks": [
                            {
                                "href": f"manual/{document['id']}",
                                "hashes": [{"algorithm": "SHA-256", "value": document["sha256"]}],
                            }
                        ],
                    }
                )
                observation = _uuid(run_id, "examined", document["sha256"])
                documents[document["sha256"]] = observation
                observations.append(
                    {
                        "uuid": observation,
                        "title": str(document.get("title") or document["id"]),
                        "description": "Manual evidence registered in Annexa (its file's SHA-256 in back-matter).",
                        "methods": ["EXAMINE"],
                        "collected": run["started_at"],
                        "relevant-evidence": [{"href": f"#{resource}", "description": str(document["id"])}],
                    }
                )
            related.append(observation)
        findings.append(_finding(run_id, control, related))
    result: dict[str, Any] = {
        "uuid": _uuid(run_id, "result"),
        "title": f"Annexa run {run_id}",
        "description": f"Automated evidence collection and checks over ISO/IEC 27001:2022 Annex A, run {run_id}.",
        "start": run["started_at"],
        "end": run["finished_at"],
        "props": [_prop("annexa-run", run_id), _prop("run-status", run["status"])],
        "reviewed-controls": {
            "control-selections": [
                {
                    "description": "ISO/IEC 27001:2022 Annex A controls in the Statement of Applicability",
                    "include-controls": included,
                    **({"exclude-controls": excluded} if excluded else {}),
                }
            ]
        },
    }
    if observations:
        result["observations"] = observations
    if findings:
        result["findings"] = findings
    organization = str(gap.get("organization") or "organization")
    out: dict[str, Any] = {
        "uuid": _uuid(run_id, "assessment-results"),
        "metadata": {
            "title": f"ISO/IEC 27001:2022 Annex A assessment results: {organization}",
            "last-modified": run["finished_at"],
            "version": str(run.get("tool_version") or "0"),
            "oscal-version": OSCAL_VERSION,
            "props": [_prop("annexa-run", run_id)],
            "parties": [
                {
                    "uuid": _uuid(run_id, "party"),
                    "type": "organization",
                    "name": str(gap.get("organization") or "organization"),
                }
            ],
        },
        "import-ap": {"href": "urn:annexa:assessment-plan:iso27001-2022-annex-a"},
        "results": [result],
    }
    if resources:
        out["back-matter"] = {"resources": resources}
    return {"assessment-results": out}


def _related(
    control: Mapping[str, Any], judged: Mapping[str, list[str]], by_item: Mapping[tuple[str, str], str]
) -> list[str]:
    """The observations of the items a control's checks judged, each once, in check order."""
    related: list[str] = []
    for check in control["checks"]:
        for resource in judged.get(str(check["id"]), []):
            observation = by_item.get((str(check["evidence"]), resource))
            if observation is not None and observation not in related:
                related.append(observation)
    return related


def _finding(run_id: str, control: Mapping[str, Any], related: list[str]) -> dict[str, Any]:
    status = str(control["status"])
    state, reason = {"pass": ("satisfied", "pass"), "fail": ("not-satisfied", "fail")}.get(
        status, ("not-satisfied", "other")
    )
    target: dict[str, Any] = {
        "type": "objective-id",
        "target-id": str(control["id"]),
        "status": {"state": state, "reason": reason},
        "props": [_prop("annexa-status", status)],
    }
    if reason == "other":
        target["status"]["remarks"] = str(control.get("reason") or f"Annexa status: {status}")
    checks = ", ".join(f"{c['id']} ({c['status']})" for c in control["checks"])
    description = f"{control['id']} {control['title']}: {status}. " + (
        f"Checks: {checks}." if checks else "No automated check."
    )
    finding: dict[str, Any] = {
        "uuid": _uuid(run_id, "finding", str(control["id"])),
        "title": f"{control['id']} {control['title']}",
        "description": description,
        "target": target,
    }
    if related:
        finding["related-observations"] = [{"observation-uuid": u} for u in related]
    return finding


def render(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
