"""Render a gap report document as JSON, Markdown or CSV (HTML lives in html.py)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from .html import render_html

STATUS_MARK = {
    "pass": "✅ pass",
    "fail": "❌ fail",
    "not_assessed": "⚠️ not assessed",
    "manual": "📝 manual",
    "excluded": "🚫 excluded",
    "error": "⚠️ error",
    "not_applicable": "n/a",
}
THEME_TITLES = {
    "organizational": "Organizational controls (A.5)",
    "people": "People controls (A.6)",
    "physical": "Physical controls (A.7)",
    "technological": "Technological controls (A.8)",
}


def render_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def render_markdown(report: dict[str, Any]) -> str:
    run, summary = report["run"], report["summary"]
    out = [
        f"# ISO/IEC 27001:2022 gap report — {report['organization'] or 'unnamed organization'}",
        "",
        f"Run `{run['id']}` ({run['status']}), started {run['started_at']}, finished {run['finished_at']}. "
        f"Generated {report['generated_at']}.",
        "",
        "| controls | pass | fail | not assessed | manual | excluded |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {summary['controls']} | {summary['pass']} | {summary['fail']} | {summary['not_assessed']} "
        f"| {summary['manual']} | {summary['excluded']} |",
        "",
        "## Connectors",
        "",
        "| connector | status | evidence items | errors |",
        "| --- | --- | --- | --- |",
    ]
    for c in run["connectors"]:
        out.append(f"| {c['name']} | {c['status']} | {c['evidence_items']} | {len(c['errors'])} |")
    for c in run["connectors"]:
        for err in c["errors"]:
            out.append(f"- **{c['name']}**: {_md(err)}")
    failing = [c for c in report["controls"] if c["status"] == "fail"]
    out += ["", f"## Failing controls ({len(failing)})", ""]
    for control in failing:
        out += _control_md(control, only_problems=True)
    for theme, title in THEME_TITLES.items():
        out += ["", f"## {title}", "", "| control | title | status | checks |", "| --- | --- | --- | --- |"]
        for control in report["controls"]:
            if control["theme"] != theme:
                continue
            checks = ", ".join(f"`{c['id']}` {c['status']}" for c in control["checks"]) or "—"
            if control["exclusion_reason"]:
                checks = f"excluded: {_md(control['exclusion_reason'])}"
            out.append(f"| {control['id']} | {_md(control['title'])} | {STATUS_MARK[control['status']]} | {checks} |")
    out += ["", "## Not assessed", ""]
    for control in report["controls"]:
        if control["status"] == "not_assessed":
            out += _control_md(control, only_problems=True)
    manual = [c for c in report["controls"] if c["status"] == "manual"]
    out += ["", f"## Manual controls ({len(manual)}): evidence to prepare", ""]
    for control in manual:
        expected = control.get("manual_evidence") or "documents and records showing the control operates"
        out.append(f"- **{control['id']} {_md(control['title'])}**: {_md(expected)}")
    return "\n".join(out).rstrip() + "\n"


def _control_md(control: dict[str, Any], only_problems: bool) -> list[str]:
    out = [f"### {control['id']} {control['title']} — {STATUS_MARK[control['status']]}", ""]
    for check in control["checks"]:
        if only_problems and check["status"] in ("pass", "not_applicable"):
            continue
        counts = check["counts"]
        out.append(
            f"- `{check['id']}` ({check['severity']}) **{check['status']}**: {_md(check['title'])} "
            f"— {counts['pass']} pass, {counts['fail']} fail, {counts['error']} error"
        )
        for item in check["failing"][:50]:
            out.append(f"  - `{item['resource']}`: {_md(item['message'])}")
        if len(check["failing"]) > 50:
            out.append(f"  - … and {len(check['failing']) - 50} more (see the JSON or CSV report)")
        for err in check["errors"][:10]:
            out.append(f"  - error: {_md(err)}")
        if check["status"] == "fail":
            out.append(f"  - remediation: {_md(check['remediation'])}")
    out.append("")
    return out


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


CSV_COLUMNS = (
    "control_id",
    "control_title",
    "theme",
    "control_status",
    "check_id",
    "check_title",
    "connector",
    "severity",
    "check_status",
    "resource",
    "finding_status",
    "message",
    "remediation",
)


def render_csv(report: dict[str, Any]) -> str:
    """One row per failing resource, per check without failures, and per control without checks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for control in report["controls"]:
        head = [control["id"], control["title"], control["theme"], control["status"]]
        if not control["checks"]:
            note = control["exclusion_reason"] or control.get("manual_evidence") or ""
            writer.writerow([*head, "", "", "", "", "", "", "", note, ""])
        for check in control["checks"]:
            base = [*head, check["id"], check["title"], check["connector"], check["severity"], check["status"]]
            if not check["failing"] and not check["errors"]:
                writer.writerow([*base, "", "", "", check["remediation"]])
            for item in check["failing"]:
                writer.writerow([*base, item["resource"], "fail", item["message"], check["remediation"]])
            for err in check["errors"]:
                writer.writerow([*base, "", "error", err, check["remediation"]])
    return buffer.getvalue()


FORMATS: dict[str, Callable[..., str]] = {
    "json": render_json,
    "md": render_markdown,
    "csv": render_csv,
    "html": render_html,
}


def render_report(report: dict[str, Any], fmt: str, history: list[dict[str, Any]] | None = None) -> str:
    if fmt == "html":
        return render_html(report, history or [])
    return FORMATS[fmt](report)
