"""The Statement of Applicability of one run: every Annex A control, applicable or excluded, why, and
how far it is implemented according to the evidence (checks and manual evidence) that run holds.

Everything comes from the run: its SoA exclusions, the risk register and justifications it recorded,
its check results and the manual evidence present then. So the SoA of one run is reproducible: the
same run gives the same content (and, for XLSX, the same bytes).
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

from .register import CURRENT, EXPIRED, EXPIRING
from .risks import assess, recorded_justifications, recorded_risks, treated_by
from .store import Store

SCHEMA = "annexa/soa@1"
IMPLEMENTED, PARTIAL, NOT_IMPLEMENTED, NOT_ASSESSED, NOT_APPLICABLE = (
    "implemented",
    "partially implemented",
    "not implemented",
    "not assessed",
    "not applicable",
)
COLUMNS = (
    ("id", "Control", 10),
    ("title", "Title", 44),
    ("theme", "Theme", 15),
    ("applicable", "Applicable", 11),
    ("justification", "Justification for inclusion or exclusion", 60),
    ("status", "Implementation status", 22),
    ("checks", "Automated checks (pass/fail/error)", 60),
    ("evidence", "Manual evidence (SHA-256)", 60),
    ("run_date", "As of run", 12),
)


def implementation_status(control: Mapping[str, Any]) -> str:
    """From the control's verdict and its manual evidence (see docs/readiness.md for the rules)."""
    status, state = control["status"], control.get("evidence_state", "missing")
    documents = control.get("manual_evidence") or []
    some_expired = any(d["state"] == EXPIRED for d in documents)
    if status == "excluded":
        return NOT_APPLICABLE
    if status == "manual":
        if state in (CURRENT, EXPIRING):
            return PARTIAL if some_expired else IMPLEMENTED
        return PARTIAL if state == EXPIRED else NOT_IMPLEMENTED
    if status == "pass":
        return PARTIAL if some_expired else IMPLEMENTED
    if status == "fail":
        return PARTIAL if any(c["status"] == "pass" for c in control.get("checks", [])) else NOT_IMPLEMENTED
    return NOT_ASSESSED


def soa_rows(
    gap_report: Mapping[str, Any],
    risks: Sequence[Mapping[str, Any]] | None,
    justifications: Mapping[str, str],
) -> list[dict[str, Any]]:
    treats = treated_by(risks or [])
    day = str(gap_report["run"]["started_at"])[:10]
    rows = []
    for control in gap_report["controls"]:
        applicable = control["status"] != "excluded"
        reasons = []
        if treats.get(control["id"]):
            reasons.append("treats " + ", ".join(sorted(treats[control["id"]])))
        if justifications.get(control["id"]):
            reasons.append(justifications[control["id"]])
        rows.append(
            {
                "id": control["id"],
                "title": control["title"],
                "theme": control["theme"],
                "applicable": applicable,
                "exclusion_reason": None if applicable else control.get("exclusion_reason"),
                "justification": "; ".join(reasons) if applicable else None,
                "risks": sorted(treats.get(control["id"], [])),
                "status": implementation_status(control),
                "checks": [
                    {"id": c["id"], "status": c["status"], "counts": c["counts"]} for c in control.get("checks", [])
                ],
                "evidence": [
                    {"id": d["id"], "sha256": d.get("sha256"), "state": d["state"]}
                    for d in control.get("manual_evidence") or []
                ],
                "run_date": day,
            }
        )
    return rows


def soa_document(store: Store, run: Mapping[str, Any], gap_report: Mapping[str, Any]) -> dict[str, Any]:
    recorded = recorded_risks(store, run)
    rows = soa_rows(gap_report, recorded, recorded_justifications(store, run))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return {
        "schema": SCHEMA,
        "organization": gap_report.get("organization") or "",
        "run": {"id": run["id"], "started_at": run["started_at"], "status": run["status"]},
        "risk_register": recorded is not None,
        "summary": {
            "controls": len(rows),
            "applicable": sum(1 for r in rows if r["applicable"]),
            "excluded": sum(1 for r in rows if not r["applicable"]),
            "unjustified": sum(1 for r in rows if r["applicable"] and not r["justification"]),
            **{k: counts[k] for k in sorted(counts)},
        },
        "controls": rows,
    }


def risks_for_run(store: Store, run: Mapping[str, Any], gap_report: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    recorded = recorded_risks(store, run)
    return None if recorded is None else assess(recorded, gap_report)


# -- rendering -------------------------------------------------------------------------------------


def _cell(row: Mapping[str, Any], key: str) -> str:
    value = row[key]
    if key == "applicable":
        return "yes" if value else "no"
    if key == "justification":
        return str(row["justification"] or "") if row["applicable"] else f"excluded: {row['exclusion_reason'] or ''}"
    if key == "checks":
        return "; ".join(
            f"{c['id']} {c['status']} ({c['counts'].get('pass', 0)}/{c['counts'].get('fail', 0)}/"
            f"{c['counts'].get('error', 0)})"
            for c in value
        )
    if key == "evidence":
        return "; ".join(f"{e['id']} {e['state']} {e['sha256'] or 'link'}" for e in value)
    return str(value)


def render_csv(doc: Mapping[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([key for key, _, _ in COLUMNS])
    for row in doc["controls"]:
        writer.writerow([_cell(row, key) for key, _, _ in COLUMNS])
    return buffer.getvalue()


def render_markdown(doc: Mapping[str, Any]) -> str:
    run, summary = doc["run"], doc["summary"]
    out = [
        f"# Statement of Applicability — {doc['organization'] or 'unnamed organization'}",
        "",
        f"ISO/IEC 27001:2022 Annex A, as of run `{run['id']}` ({run['started_at']}). "
        f"{summary['applicable']} applicable, {summary['excluded']} excluded, "
        f"{summary['unjustified']} applicable without a justification.",
        "",
        "| control | title | applicable | justification | status | evidence |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in doc["controls"]:
        held = len(row["checks"]) + len(row["evidence"])
        evidence = f"{len(row['checks'])} checks, {len(row['evidence'])} documents" if held else "—"
        cells = [
            row["id"],
            row["title"],
            _cell(row, "applicable"),
            _cell(row, "justification"),
            row["status"],
            evidence,
        ]
        out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(out) + "\n"


def render_html(doc: Mapping[str, Any]) -> str:
    e = html.escape
    run = doc["run"]
    head = "".join(f"<th>{e(title)}</th>" for _, title, _ in COLUMNS)
    body = "".join(
        f'<tr class="s-{e(row["status"].replace(" ", "-"))}">'
        + "".join(f"<td>{e(_cell(row, key))}</td>" for key, _, _ in COLUMNS)
        + "</tr>"
        for row in doc["controls"]
    )
    style = (
        "body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1f2328}table{border-collapse:collapse}"
        "th,td{border:1px solid #d0d7de;padding:.3rem .5rem;vertical-align:top;text-align:left}"
        "th{background:#f6f8fa;position:sticky;top:0}.s-implemented td:nth-child(6){color:#1a7f37}"
        ".s-not-implemented td:nth-child(6){color:#c62828;font-weight:600}"
        ".s-partially-implemented td:nth-child(6){color:#9a6700}"
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Statement of Applicability — {e(doc['organization'])}</title><style>{style}</style></head><body>"
        f"<h1>Statement of Applicability — {e(doc['organization'] or 'unnamed organization')}</h1>"
        f"<p>ISO/IEC 27001:2022 Annex A, as of run <code>{e(run['id'])}</code> ({e(run['started_at'])}).</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>\n"
    )


def render_json(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_xlsx(doc: Mapping[str, Any], tool_version: str) -> bytes:
    """One sheet of controls (frozen header, filters, readable widths) and one sheet about the document.

    openpyxl stamps the current time into the workbook's properties and zip entries: both are set to
    the run's start so that the same run gives the same bytes."""
    import datetime as dt

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    moment = dt.datetime.fromisoformat(str(doc["run"]["started_at"]).replace("Z", "+00:00")).replace(tzinfo=None)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Statement of Applicability"
    sheet.append([title for _, title, _ in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE3EA")
    for row in doc["controls"]:
        sheet.append([_cell(row, key) for key, _, _ in COLUMNS])
    wrap = Alignment(wrap_text=True, vertical="top")
    for index, (_, _, width) in enumerate(COLUMNS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = width
        for cell in sheet[letter][1:]:
            cell.alignment = wrap
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    about = book.create_sheet("Document")
    for pair in (
        ("Document", "Statement of Applicability (ISO/IEC 27001:2022, clause 6.1.3 d)"),
        ("Organization", doc["organization"]),
        ("Version", f"run {doc['run']['id']}"),
        ("Run id", doc["run"]["id"]),
        ("Run started", doc["run"]["started_at"]),
        ("Run status", doc["run"]["status"]),
        ("Generated by", f"Annexa {tool_version}"),
        ("Applicable controls", doc["summary"]["applicable"]),
        ("Excluded controls", doc["summary"]["excluded"]),
    ):
        about.append(list(pair))
    about.column_dimensions["A"].width = 22
    about.column_dimensions["B"].width = 70
    book.properties.creator = "Annexa"
    book.properties.created = moment
    book.properties.modified = moment
    buffer = io.BytesIO()
    book.save(buffer)
    return _stable_zip(buffer.getvalue(), moment)


def _stable_zip(data: bytes, moment: Any) -> bytes:
    stamp = (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl writes the save time as "modified"
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + moment.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>",
                    content,
                )
            dst.writestr(fixed, content)
    return out.getvalue()
