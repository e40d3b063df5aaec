"""The readiness report as Markdown and as one self-contained HTML page (inline CSS and SVG, no script)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from .report.charts import OVERALL_COLOUR, THEME_COLOURS, history_chart, legend
from .report.views import THEMES

_LIST_LIMIT = 40
_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1000px;padding:1rem;
color:#1d2330}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.2rem;margin:1.6rem 0 .4rem;border-bottom:1px solid #d8dce6}
.verdict{display:inline-block;padding:.05rem .55rem;border-radius:.8rem;font-weight:600;font-size:.85rem}
.ready{background:#e3f4e6;color:#17602b}.gaps{background:#fde7e7;color:#9b1c1c}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.25rem .4rem;
border-bottom:1px solid #eceef3;vertical-align:top}code{font-size:.8rem;word-break:break-all}
.muted{color:#5b6475}.chart-wrap{overflow-x:auto}svg{max-width:100%;height:auto}
ul.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.8rem}.swatch{display:inline-block;
width:.8rem;height:.8rem;margin-right:.3rem;border-radius:.15rem}
@media print{body{max-width:none}h2{break-after:avoid}table{break-inside:auto}tr{break-inside:avoid}}
"""


def render_markdown(doc: Mapping[str, Any]) -> str:
    out = [
        f"# Stage 1 readiness: {doc['organization'] or 'your organization'}",
        "",
        f"**Verdict: {doc['verdict']}** · as of {doc['as_of']} · run {doc['run']['id']} ({doc['run']['status']})"
        + (f" · audit on {doc['audit_date']}" if doc.get("audit_date") else ""),
        "",
        "| section | verdict | gaps |",
        "| --- | --- | --- |",
    ]
    out += [f"| [{s['title']}](#{s['id']}) | {s['verdict']} | {len(s['gaps'])} |" for s in doc["sections"]]
    for section in doc["sections"]:
        out += ["", f'<a id="{section["id"]}"></a>', f"## {section['title']}: {section['verdict']}", ""]
        out += [f"- {gap}" for gap in section["gaps"][:_LIST_LIMIT]] or ["No gaps."]
        if len(section["gaps"]) > _LIST_LIMIT:
            out.append(f"- … and {len(section['gaps']) - _LIST_LIMIT} more (see the JSON report)")
        if section["id"] == "clauses":
            out += ["", "| clause | title | evidence |", "| --- | --- | --- |"]
            for item in section["items"]:
                ids = ", ".join(e["id"] for e in item["evidence"]) or "none"
                out.append(f"| {item['id']} | {item['title']} | {item['state']} ({ids}) |")
        if section["id"] == "observation":
            out += ["", *_window_lines(section["window"])]
    return "\n".join(out) + "\n"


def _window_lines(window: Mapping[str, Any]) -> list[str]:
    if not window["first_complete_run"]:
        return ["No complete run yet."]
    share = f"{window['share_of_days_with_complete_run'] * 100:.0f}%"
    lines = [
        f"- first complete run: {window['first_complete_run']}",
        f"- weeks covered: {window['weeks_covered']}, runs per week: {window['runs_per_week']}",
        f"- days with a complete run: {window['days_with_complete_run']} of {window['days_in_window']} ({share})",
        f"- longest stretch without a complete run: {window['longest_gap_hours']} h"
        + (" (longer than 3 schedule intervals)" if window["gap_flagged"] else ""),
    ]
    passing = sorted((since, cid) for cid, since in window["passing_since"].items() if since)
    if passing:
        lines += ["", "| control | passing since |", "| --- | --- |"]
        lines += [f"| {cid} | {since} |" for since, cid in passing]
    return lines


def render_html(doc: Mapping[str, Any]) -> str:
    e = escape
    head = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Stage 1 readiness: {e(doc['organization'] or '')}</title><style>{_CSS}</style></head><body>"
    )
    audit = f" · audit on {e(doc['audit_date'])}" if doc.get("audit_date") else ""
    body = [
        f"<h1>Stage 1 readiness: {e(doc['organization'] or 'your organization')}</h1>",
        f'<p><span id="verdict" class="verdict {e(doc["verdict"])}">{e(doc["verdict"])}</span> '
        f'<span class="muted">as of {e(doc["as_of"])} · run {e(doc["run"]["id"])} ({e(doc["run"]["status"])}){audit}'
        "</span></p>",
        '<table id="summary"><tr><th>section</th><th>verdict</th><th>gaps</th></tr>',
    ]
    for s in doc["sections"]:
        body.append(
            f'<tr data-section="{e(s["id"])}"><td><a href="#{e(s["id"])}">{e(s["title"])}</a></td>'
            f'<td><span class="verdict {e(s["verdict"])}">{e(s["verdict"])}</span></td><td>{len(s["gaps"])}</td></tr>'
        )
    body.append("</table>")
    for s in doc["sections"]:
        body.append(f'<section id="{e(s["id"])}"><h2>{e(s["title"])}: {e(s["verdict"])}</h2>')
        gaps = s["gaps"][:_LIST_LIMIT]
        body.append("<ul>" + "".join(f"<li>{e(g)}</li>" for g in gaps) + "</ul>" if gaps else "<p>No gaps.</p>")
        if len(s["gaps"]) > _LIST_LIMIT:
            body.append(f'<p class="muted">… and {len(s["gaps"]) - _LIST_LIMIT} more in the JSON report.</p>')
        if s["id"] == "clauses":
            body.append(_clause_table(s["items"]))
        if s["id"] == "observation":
            body.append(_window_html(s["window"], doc.get("history") or []))
        body.append("</section>")
    return head + "".join(body) + "</body></html>\n"


def _clause_table(items: list[Mapping[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{escape(i['id'])}</td><td>{escape(i['title'])}</td><td>{escape(i['state'])}</td>"
        f"<td>{'<br>'.join(_evidence_cell(x) for x in i['evidence']) or '—'}</td></tr>"
        for i in items
    )
    return f"<table><tr><th>clause</th><th>title</th><th>state</th><th>evidence</th></tr>{rows}</table>"


def _evidence_cell(item: Mapping[str, Any]) -> str:
    digest = (
        f' <code title="sha256:{escape(item["sha256"])}">{escape(item["sha256"][:12])}…</code>'
        if item["sha256"]
        else ""
    )
    return f"{escape(item['id'])} {escape(item['title'])} ({escape(item['state'])}){digest}"


def _window_html(window: Mapping[str, Any], history: list[Mapping[str, Any]]) -> str:
    items = "".join(f"<li>{escape(line[2:])}</li>" for line in _window_lines(window) if line.startswith("- "))
    chart = ""
    if len(history) >= 2:
        keys = [("all controls", OVERALL_COLOUR)] + [
            (title, THEME_COLOURS[t]) for t, title in THEMES if any(h["themes"].get(t, {}).get("pass") for h in history)
        ]
        chart = (
            "<h3>Pass rate per theme over the window</h3>"
            f'<div class="chart-wrap" id="window-chart">{history_chart(history)}</div>{legend(keys)}'
        )
    passing = sorted((since, cid) for cid, since in window["passing_since"].items() if since)
    table = (
        "<table><tr><th>control</th><th>passing since</th></tr>"
        + "".join(f"<tr><td>{escape(c)}</td><td>{escape(s)}</td></tr>" for s, c in passing)
        + "</table>"
        if passing
        else ""
    )
    return f"<ul>{items}</ul>{chart}{table}"
