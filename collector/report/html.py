"""A single self-contained HTML gap report: no external assets, because audits happen offline."""

from __future__ import annotations

from html import escape
from typing import Any

THEMES = (
    ("organizational", "Organizational (A.5)"),
    ("people", "People (A.6)"),
    ("physical", "Physical (A.7)"),
    ("technological", "Technological (A.8)"),
)
STATUSES = ("pass", "fail", "not_assessed", "manual", "excluded")
COLOURS = {
    "pass": "#2e7d32",
    "fail": "#c62828",
    "not_assessed": "#ef8f00",
    "manual": "#5c6bc0",
    "excluded": "#9e9e9e",
    "error": "#ef8f00",
    "not_applicable": "#9e9e9e",
}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#222;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}.meta{color:#555;margin-top:0}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;
text-align:left;vertical-align:top;font-size:.92rem}th{background:#f5f5f5}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:.8rem;color:#fff;font-size:.8rem;white-space:nowrap}
.cards{display:flex;gap:.8rem;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:.5rem;padding:.6rem 1rem;
min-width:7rem}.card b{display:block;font-size:1.5rem}
details{border:1px solid #e3e3e3;border-radius:.4rem;margin:.4rem 0;padding:.3rem .6rem}summary{cursor:pointer}
.check{margin:.5rem 0 .5rem 1rem}.fix{background:#f1f8e9;padding:.3rem .5rem;border-radius:.3rem}
.err{color:#8a4b00}code{font-size:.85rem}.legend span{margin-right:1rem}
"""


CONNECTOR_COLOURS = {"ok": COLOURS["pass"], "partial": COLOURS["not_assessed"], "error": COLOURS["fail"]}


def _badge(status: str, colour: str | None = None) -> str:
    label = status.replace("_", " ")
    background = colour or COLOURS.get(status, "#666")
    return f'<span class="badge status-{status}" style="background:{background}">{label}</span>'


def _theme_counts(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    counts = {theme: dict.fromkeys(STATUSES, 0) for theme, _ in THEMES}
    for control in report["controls"]:
        counts[control["theme"]][control["status"]] += 1
    return counts


def _chart(report: dict[str, Any]) -> str:
    """Stacked horizontal bars: control status per theme, drawn as inline SVG."""
    counts = _theme_counts(report)
    width, bar, gap, label_w = 760, 26, 14, 190
    height = len(THEMES) * (bar + gap) + 10
    parts = [
        f'<svg id="theme-chart" role="img" aria-label="Control status per theme" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    scale = (width - label_w - 40) / max(1, max(sum(c.values()) for c in counts.values()))
    for row, (theme, title) in enumerate(THEMES):
        y = 5 + row * (bar + gap)
        parts.append(f'<text x="0" y="{y + bar * 0.7}" font-size="13">{escape(title)}</text>')
        x = float(label_w)
        for status in STATUSES:
            n = counts[theme][status]
            if not n:
                continue
            w = n * scale
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="{COLOURS[status]}">'
                f"<title>{title}: {n} {status.replace('_', ' ')}</title></rect>"
            )
            if w > 18:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + bar * 0.7}" font-size="12" fill="#fff" '
                    f'text-anchor="middle">{n}</text>'
                )
            x += w
    parts.append("</svg>")
    legend = "".join(
        f'<span><svg width="12" height="12"><rect width="12" height="12" fill="{COLOURS[s]}"/></svg> '
        f"{s.replace('_', ' ')}</span>"
        for s in STATUSES
    )
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def _history(history: list[dict[str, Any]]) -> str:
    points = [h for h in history if h.get("summary")]
    if len(points) < 2:
        return ""
    points = list(reversed(points[:60]))
    width, height = 760, 120
    step = (width - 40) / max(1, len(points) - 1)
    coords = []
    for i, run in enumerate(points):
        s = run["summary"]
        assessed = max(1, s["pass"] + s["fail"] + s["not_assessed"])
        rate = s["pass"] / assessed
        coords.append(f"{20 + i * step:.1f},{height - 10 - rate * (height - 20):.1f}")
    return (
        "<h2>Pass rate over time</h2>"
        f'<svg id="history-chart" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f'<polyline fill="none" stroke="#2e7d32" stroke-width="2" points="{" ".join(coords)}"/></svg>'
        f"<p class=meta>{len(points)} runs from {escape(points[0]['started_at'])} to "
        f"{escape(points[-1]['started_at'])}; pass rate = passing / (passing + failing + not assessed).</p>"
    )


def _control(control: dict[str, Any]) -> str:
    open_attr = " open" if control["status"] == "fail" else ""
    body = []
    if control["exclusion_reason"]:
        body.append(f"<p>Excluded in the Statement of Applicability: {escape(control['exclusion_reason'])}</p>")
    if not control["checks"] and not control["exclusion_reason"]:
        expected = control.get("manual_evidence") or "documents and records showing the control operates"
        body.append(f"<p>No automated check. The auditor will ask for: {escape(expected)}</p>")
    for check in control["checks"]:
        c = check["counts"]
        rows = "".join(
            f"<tr><td><code>{escape(f['resource'])}</code></td><td>{escape(f['message'])}</td></tr>"
            for f in check["failing"][:200]
        )
        more = f"<p>… {len(check['failing']) - 200} more in the JSON report.</p>" if len(check["failing"]) > 200 else ""
        failing = f"<table><tr><th>resource</th><th>why</th></tr>{rows}</table>{more}" if rows else ""
        errors = "".join(f'<li class="err">{escape(e)}</li>' for e in check["errors"][:20])
        fix = f'<p class="fix">Remediation: {escape(check["remediation"])}</p>' if check["status"] == "fail" else ""
        body.append(
            f'<div class="check" id="check-{escape(check["id"])}">{_badge(check["status"])} '
            f"<code>{escape(check['id'])}</code> {escape(check['title'])} "
            f"<small>({escape(check['severity'])}; {c['pass']} pass, {c['fail']} fail, {c['error']} error)</small>"
            f"{failing}{'<ul>' + errors + '</ul>' if errors else ''}{fix}</div>"
        )
    return (
        f'<details id="control-{escape(control["id"])}" class="control"{open_attr}><summary>'
        f"{_badge(control['status'])} <b>{escape(control['id'])}</b> {escape(control['title'])}</summary>"
        f"{''.join(body)}</details>"
    )


def render_html(report: dict[str, Any], history: list[dict[str, Any]] | None = None) -> str:
    run, summary = report["run"], report["summary"]
    org = escape(report["organization"] or "unnamed organization")
    cards = "".join(
        f'<div class="card" id="summary-{s}"><b>{summary[s]}</b>{s.replace("_", " ")}</div>' for s in STATUSES
    )
    connector_rows = "".join(
        f"<tr><td>{escape(c['name'])}</td><td>{_badge(c['status'], CONNECTOR_COLOURS.get(c['status']))}</td>"
        f"<td>{c['evidence_items']}</td><td>{'<br>'.join(escape(e) for e in c['errors'][:20])}</td></tr>"
        for c in run["connectors"]
    )
    theme_rows = "".join(
        f"<tr><td>{escape(title)}</td>" + "".join(f"<td>{n}</td>" for n in counts.values()) + "</tr>"
        for (_, title), counts in zip(THEMES, _theme_counts(report).values(), strict=True)
    )
    theme_head = "".join(f"<th>{s.replace('_', ' ')}</th>" for s in STATUSES)
    sections = []
    for theme, title in THEMES:
        controls = [c for c in report["controls"] if c["theme"] == theme]
        sections.append(f"<h3>{escape(title)}</h3>" + "".join(_control(c) for c in controls))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>ISO/IEC 27001:2022 gap report — {org}</title><style>{CSS}</style></head>
<body>
<h1>ISO/IEC 27001:2022 gap report — {org}</h1>
<p class="meta">Run <code>{escape(run["id"])}</code> ({escape(run["status"])}), started {escape(run["started_at"])},
finished {escape(str(run["finished_at"]))}; generated {escape(report["generated_at"])}.</p>
<h2>Summary</h2>
<div class="cards" id="summary">{cards}</div>
<h2>Control status by theme</h2>
{_chart(report)}
<table id="themes"><tr><th>theme</th>{theme_head}</tr>{theme_rows}</table>
{_history(history or [])}
<h2>Connectors</h2>
<table><tr><th>connector</th><th>status</th><th>evidence items</th><th>errors</th></tr>{connector_rows}</table>
<h2>Controls</h2>
{"".join(sections)}
</body></html>
"""
