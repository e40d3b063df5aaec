"""Render a gap report document as JSON, Markdown or CSV (HTML lives in html.py)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from .html import render_html
from .views import (
    FALLBACK_EXPECTED,
    controls_of,
    count_phrase,
    failing_index,
    plural,
    population_of,
    short_hash,
    unique_checks,
)

CHUNK = 1 << 20  # characters per piece of a streamed report

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


def iter_json(report: Mapping[str, Any]) -> Iterator[str]:
    """The JSON report in pieces: what `render_json` returns, without holding it whole.

    A lazily built report holds populations as rows read from the store (report.gap.StoredRows): each
    is written where it stands, as ``json.dumps(..., indent=2)`` would write that list there."""
    from ..jsonstream import Streamed, dumps_streamed
    from .gap import StoredRows

    def rows(value: Any) -> Streamed | None:
        return Streamed(lambda indent: _rows_json(value, indent)) if isinstance(value, StoredRows) else None

    yield from dumps_streamed(report, convert=rows, indent=2, ensure_ascii=False)
    yield "\n"


def _rows_json(rows: Iterable[Mapping[str, Any]], indent: int) -> Iterator[str]:
    """A list of flat objects exactly as ``json.dumps(indent=2, ensure_ascii=False)`` writes it at
    ``indent``, with the C string encoder: the pure-Python indenting encoder is what made a 100,000-item
    report slow."""
    outer, inner = " " * (indent + 2), " " * (indent + 4)
    buffer: list[str] = []
    size = 0
    opening = "["
    for row in rows:
        fields = ",\n".join(f"{inner}{_string(k)}: {_scalar(v)}" for k, v in row.items())
        piece = f"{opening}\n{outer}{{\n{fields}\n{outer}}}"
        opening = ","
        buffer.append(piece)
        size += len(piece)
        if size >= CHUNK:
            yield "".join(buffer)
            buffer, size = [], 0
    if opening == "[":
        yield "[]"
        return
    buffer.append(f"\n{' ' * indent}]")
    yield "".join(buffer)


_string = json.encoder.encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return _string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    raise TypeError(f"a population row holds a {type(value).__name__}, not a scalar")


def render_json(report: dict[str, Any]) -> str:
    return "".join(iter_json(report))


def render_markdown(report: dict[str, Any]) -> str:
    """What fails first (failing controls by severity, then every failing finding), then the rest."""
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
    ]
    risks = report.get("exposed_risks") or []
    if risks:
        out += [
            "",
            f"## Exposed risks ({len(risks)})",
            "",
            "| risk | score | title | owner | why |",
            "| --- | --- | --- | --- | --- |",
        ]
        for r in risks:
            out.append(
                f"| {r['id']} | {r['score']} | {_md(r['title'])} | {_md(r['owner'])} | {_md('; '.join(r['reasons']))} |"
            )
    index = failing_index(report)
    out += ["", f"## Failing controls ({len(index)})", ""]
    if index:
        out += [
            "| severity | control | title | failing checks | failing resources |",
            "| --- | --- | --- | --- | --- |",
        ]
        for f in index:
            checks = ", ".join(f"`{c['id']}`" for c in f.checks)
            out.append(f"| {f.severity} | {f.control['id']} | {_md(f.control['title'])} | {checks} | {f.resources} |")
    failing_checks = [c for c in unique_checks(report) if c["status"] == "fail"]
    findings = sum(len(c["failing"]) for c in failing_checks)
    out += ["", f"## Failing findings ({findings} in {plural(len(failing_checks), 'check')})", ""]
    for check in failing_checks:
        out += _check_md(check, controls_of(report).get(check["id"], []))
    not_assessed = [c for c in report["controls"] if c["status"] == "not_assessed"]
    out += ["", f"## Not assessed ({len(not_assessed)})", ""]
    for control in not_assessed:
        out += [f"### {control['id']} {control['title']} — {STATUS_MARK['not_assessed']}", ""]
        out.append(f"Why: {_md(control.get('reason') or 'its checks gave no verdict')}")
        out.append("")
        for check in control["checks"]:
            if check["status"] in ("error", "not_applicable"):
                out += _check_md(check, [], heading="-")
    out += [
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
    for theme, title in THEME_TITLES.items():
        out += ["", f"## {title}", "", "| control | title | status | checks |", "| --- | --- | --- | --- |"]
        for control in report["controls"]:
            if control["theme"] != theme:
                continue
            checks = ", ".join(f"`{c['id']}` {c['status']}{_supporting(c)}" for c in control["checks"]) or "—"
            if control["exclusion_reason"]:
                checks = f"excluded: {_md(control['exclusion_reason'])}"
            out.append(f"| {control['id']} | {_md(control['title'])} | {STATUS_MARK[control['status']]} | {checks} |")
    manual = [c for c in report["controls"] if c["status"] == "manual"]
    out += ["", f"## Manual controls ({len(manual)}): evidence to prepare", ""]
    for control in manual:
        expected = control.get("guidance") or control.get("expected") or FALLBACK_EXPECTED
        documents = ", ".join(f"{d['title']} ({d['state']})" for d in control.get("manual_evidence") or [])
        held = f" Evidence: {_md(documents)}." if documents else " Evidence: none registered."
        beside = ", ".join(f"`{c['id']}` {c['status']}" for c in control["checks"])
        also = f" Supporting automated evidence (never a verdict alone): {beside}." if beside else ""
        out.append(f"- **{control['id']} {_md(control['title'])}**: {_md(expected)}{held}{also}")
    out += [
        "",
        "Every resource each check judged (passing ones too), with the SHA-256 of the evidence and its "
        "collection time, is in the JSON (`population`) and CSV reports.",
    ]
    return "\n".join(out).rstrip() + "\n"


def _supporting(check: Mapping[str, Any]) -> str:
    return " (supporting)" if check.get("strength") == "supporting" else ""


def _check_md(check: dict[str, Any], controls: list[str], heading: str = "###") -> list[str]:
    backs = f" — controls {', '.join(controls)}" if controls else ""
    if heading == "-":
        out = [
            f"- `{check['id']}` ({check['severity']}) **{check['status']}**: {_md(check['title'])} "
            f"— {count_phrase(check)}"
        ]
        if check.get("description"):
            out.append(f"  - {_md(check['description'])}")
        if check.get("reason"):
            out.append(f"  - why: {_md(check['reason'])}")
        out.append("")
        return out
    out = [
        f"### `{check['id']}` ({check['severity']}) {_md(check['title'])}",
        "",
        f"{STATUS_MARK[check['status']]}: {count_phrase(check)}{backs}.",
        "",
    ]
    for item in check["failing"][:50]:
        trace = ""
        if item.get("evidence_hash"):
            trace = f" (evidence `{short_hash(item['evidence_hash'])}`, collected {item.get('collected_at') or '?'})"
        out.append(f"- `{item['resource']}`: {_md(item['message'])}{trace}")
    if len(check["failing"]) > 50:
        out.append(f"- … and {len(check['failing']) - 50} more (see the JSON or CSV report)")
    for err in check.get("collection_errors", [])[:10]:
        out.append(f"- collection error: {_md(err)}")
    out += ["", f"Remediation: {_md(check['remediation'])}", ""]
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
    # Added columns go last, so readers that index columns by position keep working.
    "run_id",
    "run_started_at",
    "evidence_hash",
    "collected_at",
    "evidence_state",
)


def render_csv(report: dict[str, Any]) -> str:
    """One row per resource a check judged (pass, fail or error: the population an auditor samples),
    per collection error, per check with nothing in scope, and per control without checks."""
    return "".join(iter_csv(report))


def iter_csv(report: Mapping[str, Any]) -> Iterator[str]:
    """`render_csv` in pieces of about 1 MiB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    run = [report["run"]["id"], report["run"]["started_at"]]
    for control in report["controls"]:
        yield from _drained(buffer)
        head = [control["id"], control["title"], control["theme"], control["status"]]
        state = control.get("evidence_state") or ""
        if not control["checks"]:
            note = control["exclusion_reason"] or control.get("guidance") or control.get("expected") or ""
            writer.writerow([*head, "", "", "", "", "", "", "", note, "", *run, "", "", state])
        for check in control["checks"]:
            base = [*head, check["id"], check["title"], check["connector"], check["severity"], check["status"]]
            population = population_of(check)
            collection = check.get("collection_errors", check["errors"] if "population" not in check else [])
            if not population and not collection:
                writer.writerow([*base, "", "", check.get("reason") or "", check["remediation"], *run, "", "", state])
            for item in population:
                writer.writerow(
                    [
                        *base,
                        item["resource"],
                        item["status"],
                        item["message"],
                        check["remediation"],
                        *run,
                        item.get("evidence_hash") or "",
                        item.get("collected_at") or "",
                        state,
                    ]
                )
                yield from _drained(buffer)
            for err in collection:
                writer.writerow([*base, "", "error", err, check["remediation"], *run, "", "", state])
    yield from _drained(buffer, 0)


def _drained(buffer: io.StringIO, at_least: int = CHUNK) -> Iterator[str]:
    """What the buffer holds, once it holds ``at_least`` characters; it is emptied."""
    if buffer.tell() >= at_least:
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


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
