"""A single self-contained HTML gap report: no external assets, because audits happen offline.

Layout: a summary whose counts link to filtered views; what fails first (failing controls by severity,
then every failing finding); why anything is not assessed; the controls by theme, each linking to its
checks; every check once, with the controls it backs, its failing resources and its whole population
(collapsed) traced to the evidence's SHA-256 and collection time; the connectors; how to read it.
A small inline script filters by status, theme, connector, severity and text (state kept in the URL
fragment, e.g. ``#status=fail&theme=technological``) and exports the visible rows as CSV.
``printable=True`` (the PDF) opens every section and leaves the script and the filter form out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from .assets import CSS, SCRIPT
from .charts import COLOURS, THEME_COLOURS, history_chart, legend, theme_chart, theme_counts
from .gap import StoredRows
from .views import (
    CHECK_AS_CONTROL,
    CONTROL_STATUSES,
    FALLBACK_EXPECTED,
    THEMES,
    count_phrase,
    failing_index,
    label,
    plural,
    population_of,
    short_hash,
    unique_checks,
)
from .views import controls_of as _controls_of
from .views import theme_of as _theme_of

SEVERITIES = ("critical", "high", "medium", "low")
POPULATION_LIMIT = 2000  # rows per check in the page; the JSON and CSV reports hold every one
FAILING_LIMIT = 200  # failing rows per check article
FINDINGS_LIMIT = 5000  # rows of the findings table
HASH_SHOWN = 16  # hex digits shown (the full hash is in the cell's title, the export and the JSON)


def _e(value: object) -> str:
    return escape(str(value), quote=True)


_BREAK_AFTER = re.compile(r"([./:_@-])(?=[^\s])")


def _ids(value: object) -> str:
    """An identifier (check id, ARN, path) escaped, with break opportunities after its separators, so a
    narrow column wraps it at a dot or a slash instead of overflowing (or breaking it anywhere)."""
    return _BREAK_AFTER.sub(r"\1<wbr>", _e(value))


def _badge(status: str) -> str:
    return f'<span class="badge s-{_e(status)}">{_e(label(status))}</span>'


def _sev(severity: str) -> str:
    return f'<span class="sev sev-{_e(severity)}">{_e(severity)}</span>'


def _filter_attrs(
    status: Iterable[str], themes: Iterable[str], connectors: Iterable[str], severities: Iterable[str]
) -> str:
    def tokens(values: Iterable[str]) -> str:
        return _e(" ".join(sorted(set(values))))

    return (
        f' data-f="" data-status="{tokens(status)}" data-theme="{tokens(themes)}" '
        f'data-connector="{tokens(connectors)}" data-severity="{tokens(severities)}"'
    )


def _control_link(control_id: str) -> str:
    return f'<a href="#control-{_e(control_id)}">{_e(control_id)}</a>'


def _check_link(check_id: str) -> str:
    return f'<a href="#check-{_e(check_id)}"><code>{_ids(check_id)}</code></a>'


def _hash_cell(value: str | None) -> str:
    if not value:
        return "<td></td>"
    shown = _e(value[:HASH_SHOWN])
    return f'<td data-value="{_e(value)}"><code class="hash" title="sha256:{_e(value)}">{shown}…</code></td>'


class _Page:
    def __init__(self, report: Mapping[str, Any], history: Sequence[Mapping[str, Any]], printable: bool) -> None:
        self.report = report
        self.history = list(history)
        self.printable = printable
        self.controls: list[dict[str, Any]] = list(report["controls"])
        self.checks = unique_checks(report)
        self.theme_of = _theme_of(report)
        computed = _controls_of(report)
        self.controls_of = {c["id"]: list(c.get("controls") or computed.get(c["id"], [])) for c in self.checks}
        self.index = failing_index(report)
        self.open = " open" if printable else ""

    def themes_of(self, check: Mapping[str, Any]) -> set[str]:
        return {self.theme_of[c] for c in self.controls_of[check["id"]] if c in self.theme_of}

    # -- sections ---------------------------------------------------------------------------------

    def header(self) -> str:
        run = self.report["run"]
        org = _e(self.report["organization"] or "unnamed organization")
        failing = sum(1 for _ in self._findings())
        links = [
            ("#summary", "Summary"),
            ("#failing", f"Failing controls ({len(self.index)})"),
            ("#findings", f"Failing findings ({failing})"),
            ("#not-assessed", f"Not assessed ({self.report['summary']['not_assessed']})"),
            ("#controls", "Controls"),
            ("#checks", f"Checks ({len(self.checks)})"),
            ("#connectors", "Connectors"),
            ("#about", "Reading this report"),
        ]
        nav = "".join(f'<a href="{href}">{_e(text)}</a>' for href, text in links)
        return (
            f"<h1>ISO/IEC 27001:2022 gap report — {org}</h1>"
            f'<p class="meta">Run <code>{_e(run["id"])}</code> ({_e(run["status"])}), started '
            f"{_e(run['started_at'])}, finished {_e(run['finished_at'])}; generated {_e(self.report['generated_at'])}."
            f'</p><nav class="toc" aria-label="Sections">{nav}</nav>'
        )

    def exposed_risks(self) -> str:
        risks = self.report.get("exposed_risks")
        if not risks:
            return ""
        rows = "".join(
            f"<tr><td><b>{_e(r['id'])}</b></td><td>{_e(r['score'])}</td><td>{_e(r['title'])}</td>"
            f"<td>{_e(r['owner'])}</td><td>{_e('; '.join(r['reasons']))}</td>"
            f"<td>{_e(plural(r['failing_total'], 'failing resource'))}</td></tr>"
            for r in risks
        )
        return (
            f'<section id="exposed-risks"><h2>Exposed risks ({len(risks)})</h2>'
            "<p>Risks whose treating controls fail, are not assessed or lack current evidence, highest score first.</p>"
            "<table><thead><tr><th>risk</th><th>score</th><th>title</th><th>owner</th><th>why</th>"
            f"<th>behind it</th></tr></thead><tbody>{rows}</tbody></table></section>"
        )

    def summary(self) -> str:
        summary, run = self.report["summary"], self.report["run"]
        cards = "".join(
            f'<a class="card c-{s}" id="summary-{s}" href="#status={s}"><b>{summary[s]}</b>{_e(label(s))}</a>'
            for s in CONTROL_STATUSES
        )
        judged = sum(len(population_of(c)) for c in self.checks)
        connectors = run["connectors"]
        facts = [
            ("controls", f"{summary['controls']} Annex A controls"),
            ("checks", f"{len(self.checks)} automated checks, {judged} resource verdicts"),
            (
                "evidence",
                f"{sum(c['evidence_items'] for c in connectors)} items from {plural(len(connectors), 'connector')}",
            ),
            ("run", f"{run['id']} ({run['status']}), Annexa {run.get('tool_version') or '?'}"),
        ]
        dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts)
        counts = theme_counts(self.controls)
        head = "".join(f'<th class="num">{_e(label(s))}</th>' for s in CONTROL_STATUSES)
        rows = "".join(
            f"<tr><td>{_e(title)}</td>"
            + "".join(
                f'<td class="num"><a href="#status={s}&amp;theme={theme}">{counts[theme][s]}</a></td>'
                if counts[theme][s]
                else '<td class="num">0</td>'
                for s in CONTROL_STATUSES
            )
            + "</tr>"
            for theme, title in THEMES
        )
        status_legend = legend([(label(s), COLOURS[s]) for s in CONTROL_STATUSES])
        return (
            f'<h2 id="summary">Summary</h2><div class="cards">{cards}</div><dl class="facts">{dl}</dl>'
            f'<h3>Control status by theme</h3><div class="chart-wrap">{theme_chart(self.controls)}</div>{status_legend}'
            f'<div class="scroll"><table id="themes"><thead><tr><th>theme</th>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div>{self.trend()}"
        )

    def trend(self) -> str:
        points = [h for h in self.history if h.get("summary")]
        if len(points) < 2:
            return (
                '<h3 id="history">Pass rate over time</h3><p class="muted">The chart appears from the second '
                "published run in this store.</p>"
            )
        keys = [("all controls", "#1f2328")] + [
            (title, THEME_COLOURS[t]) for t, title in THEMES if any((h.get("themes") or {}).get(t) for h in points)
        ]
        rows = "".join(
            f"<tr><td>{_e(h['started_at'])}</td><td><code>{_e(h.get('run_id', h.get('id', '')))}</code></td>"
            + "".join(f'<td class="num">{h["summary"].get(s, 0)}</td>' for s in ("pass", "fail", "not_assessed"))
            + f'<td class="num">{_rate(h["summary"])}</td></tr>'
            for h in reversed(points)
        )
        return (
            f'<h3 id="history">Pass rate over time</h3><div class="chart-wrap">{history_chart(points)}</div>'
            f"{legend(keys)}"
            f'<p class="muted">{len(points)} runs from {_e(points[0]["started_at"])} '
            f"to {_e(points[-1]['started_at'])}; "
            "pass rate = passing / (passing + failing + not assessed) controls; themes whose controls are all "
            "manual or excluded have no line.</p>"
            f'<details class="population"{self.open}><summary>The runs as a table</summary><div class="scroll"><table>'
            '<thead><tr><th>started</th><th>run</th><th class="num">pass</th><th class="num">fail</th>'
            '<th class="num">not assessed</th><th class="num">pass rate</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></div></details>"
        )

    def filters(self) -> str:
        if self.printable:
            return ""

        def select(name: str, text: str, options: Iterable[tuple[str, str]]) -> str:
            opts = "".join(f'<option value="{_e(v)}">{_e(t)}</option>' for v, t in options)
            return f'<label>{_e(text)}<select name="{name}"><option value="">any</option>{opts}</select></label>'

        connectors = sorted(
            {c["connector"] for c in self.checks} | {c["name"] for c in self.report["run"]["connectors"]}
        )
        return (
            '<form id="filters" role="search" aria-label="Filter the report">'
            + select("status", "status", [(s, label(s)) for s in CONTROL_STATUSES])
            + select("theme", "theme", [(t, title) for t, title in THEMES])
            + select("connector", "connector", [(c, c) for c in connectors])
            + select("severity", "severity", [(s, s) for s in SEVERITIES])
            + '<label>search<input type="search" name="q" placeholder="control, check, resource…"></label>'
            '<button type="reset">Clear</button></form>'
        )

    def failing(self) -> str:
        rows = []
        for f in self.index:
            control = f.control
            checks = ", ".join(_check_link(c["id"]) for c in f.checks)
            attrs = _filter_attrs(
                ["fail"], [control["theme"]], [c["connector"] for c in f.checks], [c["severity"] for c in f.checks]
            )
            rows.append(
                f'<tr{attrs}><td>{_sev(f.severity)}</td><td class="id">{_control_link(control["id"])}</td>'
                f'<td class="title">{_e(control["title"])}</td><td class="list">{checks}</td>'
                f'<td class="num">{f.resources}</td></tr>'
            )
        body = "".join(rows)
        return (
            f'<section data-group="failing"><h2 id="failing">Failing controls, by severity '
            f'<span class="shown" id="failing-shown"></span></h2>'
            '<p class="muted">Ordered by the worst severity among each control\'s failing checks, then by the number '
            "of failing resources.</p>"
            '<div class="scroll"><table><thead><tr><th>severity</th><th>control</th><th>title</th>'
            '<th>failing checks</th><th class="num">failing resources</th></tr></thead>'
            f'<tbody>{body}</tbody></table></div><p class="empty"{"" if not rows else " hidden"}>'
            "No failing control matches.</p></section>"
        )

    def _findings(self) -> Iterable[tuple[dict[str, Any], dict[str, Any]]]:
        for check in self.checks:
            if check["status"] == "fail":
                for item in check["failing"]:
                    yield check, item

    def findings(self) -> str:
        rows = []
        total = 0
        for check, item in self._findings():
            total += 1
            if total > FINDINGS_LIMIT:
                continue
            controls = self.controls_of[check["id"]]
            attrs = _filter_attrs(["fail"], self.themes_of(check), [check["connector"]], [check["severity"]])
            rows.append(
                f"<tr{attrs}><td>{_sev(check['severity'])}</td><td><code>{_ids(item['resource'])}</code></td>"
                f"<td>{_e(item['message'])}</td><td>{_check_link(check['id'])}</td>"
                f"<td>{', '.join(_control_link(c) for c in controls)}</td><td>{_e(check['connector'])}</td>"
                f"{_hash_cell(item.get('evidence_hash'))}<td>{_e(item.get('collected_at') or '')}</td></tr>"
            )
        more = (
            f'<p class="muted">The first {FINDINGS_LIMIT} of {total} are shown; the JSON and CSV reports list all.</p>'
            if total > FINDINGS_LIMIT
            else ""
        )
        export = (
            ""
            if self.printable
            else '<p class="export"><button type="button" data-export="#findings-table" '
            'data-file="annexa-findings.csv">Export the shown findings (CSV)</button></p>'
        )
        return (
            f'<section data-group="findings"><h2 id="findings">Failing findings '
            f'<span class="shown" id="findings-shown"></span></h2>{export}'
            '<div class="scroll"><table id="findings-table"><thead><tr><th>severity</th><th>resource</th><th>why</th>'
            "<th>check</th><th>controls</th><th>connector</th><th>evidence SHA-256</th><th>collected</th></tr></thead>"
            f'<tbody>{"".join(rows)}</tbody></table></div>{more}<p class="empty"{"" if not rows else " hidden"}>'
            "No failing finding matches.</p></section>"
        )

    def not_assessed(self) -> str:
        rows = []
        for control in self.controls:
            if control["status"] != "not_assessed":
                continue
            checks = [c for c in control["checks"] if c["status"] in ("error", "not_applicable")]
            attrs = _filter_attrs(
                ["not_assessed"],
                [control["theme"]],
                [c["connector"] for c in control["checks"]],
                [c["severity"] for c in control["checks"]],
            )
            why = "".join(
                f"<li>{_check_link(c['id'])} {_badge(c['status'])} {_e(c.get('reason') or count_phrase(c))}</li>"
                for c in checks
            )
            rows.append(
                f'<tr{attrs}><td class="id">{_control_link(control["id"])}</td>'
                f'<td class="title">{_e(control["title"])}</td>'
                f'<td><ul class="checklist">{why}</ul></td></tr>'
            )
        return (
            f'<section data-group="not-assessed"><h2 id="not-assessed">Not assessed, and why '
            f'<span class="shown" id="not-assessed-shown"></span></h2>'
            '<p class="muted">A control is not assessed when a check could not be evaluated (a collection or '
            "evaluation error) or none of its checks had anything in scope. It never counts as passing.</p>"
            '<div class="scroll"><table><thead><tr><th>control</th><th>title</th><th>why</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div><p class="empty"{"" if not rows else " hidden"}>'
            "No control that was not assessed matches.</p></section>"
        )

    def control(self, control: Mapping[str, Any]) -> str:
        checks = control["checks"]
        attrs = _filter_attrs(
            [control["status"]], [control["theme"]], [c["connector"] for c in checks], [c["severity"] for c in checks]
        )
        open_attr = " open" if self.printable or control["status"] in ("fail", "not_assessed") else ""
        body = []
        if control["exclusion_reason"]:
            body.append(f"<p>Excluded in the Statement of Applicability: {_e(control['exclusion_reason'])}</p>")
        if control["status"] == "not_assessed" and control.get("reason"):
            body.append(f'<p class="why"><b>Not assessed:</b> {_e(control["reason"])}</p>')
        if control["status"] == "manual" and checks and control.get("reason"):
            body.append(f'<p class="why"><b>Supporting evidence only:</b> {_e(control["reason"])}</p>')
        if checks:
            items = "".join(
                f"<li>{_badge(c['status'])} {_check_link(c['id'])} {_e(c['title'])} <small>({_e(c['severity'])}; "
                f"{_e(count_phrase(c))}{'; supporting' if c.get('strength') == 'supporting' else ''})</small></li>"
                for c in checks
            )
            body.append(f'<ul class="checklist">{items}</ul>')
            if control.get("automated_scope"):
                body.append(f'<p class="scope"><b>What this evidence proves:</b> {_e(control["automated_scope"])}</p>')
        expected = control.get("guidance") or control.get("expected")
        documents = control.get("manual_evidence") or []
        if documents:
            rows = "".join(
                f"<li>{_badge(d['state'])} {_e(d['title'])} <small>({_e(d['id'])}"
                + (f"; sha256 <code>{_e(short_hash(d['sha256']))}</code>" if d.get("sha256") else "")
                + (f"; valid until {_e(d['valid_until'])}" if d.get("valid_until") else "")
                + "</small></li>"
                for d in documents
            )
            body.append(f'<p class="expected"><b>Manual evidence</b> ({_e(control.get("evidence_state", ""))}):</p>')
            body.append(f'<ul class="checklist">{rows}</ul>')
        if not control["exclusion_reason"] and not (documents and not checks):
            if not checks:
                text = expected or FALLBACK_EXPECTED
                body.append(f'<p class="expected"><b>No automated check.</b> The auditor will ask for: {_e(text)}</p>')
            elif expected:
                body.append(
                    f'<p class="expected"><b>Beyond the checks</b>, the auditor will ask for: {_e(expected)}</p>'
                )
        summary_bits = (
            plural(len(checks), "check") if checks else ("excluded" if control["exclusion_reason"] else "manual")
        )
        return (
            f'<details id="control-{_e(control["id"])}" class="control"{open_attr}{attrs}><summary>'
            f"{_badge(control['status'])} <b>{_e(control['id'])}</b> {_e(control['title'])} "
            f"<small>· {_e(summary_bits)}</small></summary>{''.join(body)}</details>"
        )

    def controls_section(self) -> str:
        parts = []
        for theme, title in THEMES:
            items = "".join(self.control(c) for c in self.controls if c["theme"] == theme)
            parts.append(f'<div data-subgroup="{theme}"><h3 id="theme-{theme}">{_e(title)}</h3>{items}</div>')
        return (
            f'<section data-group="controls"><h2 id="controls">Controls '
            f'<span class="shown" id="controls-shown"></span></h2>{"".join(parts)}'
            '<p class="empty" hidden>No control matches.</p></section>'
        )

    def check(self, check: Mapping[str, Any]) -> str:
        controls = self.controls_of[check["id"]]
        status = check["status"]
        attrs = _filter_attrs(
            [CHECK_AS_CONTROL.get(status, status), status],
            self.themes_of(check),
            [check["connector"]],
            [check["severity"]],
        )
        facts = [
            ("result", f"{_badge(status)} {_e(count_phrase(check))}"),
            ("severity", _sev(check["severity"])),
            ("controls", ", ".join(f"{_control_link(c)}" for c in controls)),
            ("connector", _e(check["connector"])),
            ("evidence kind", f"<code>{_e(check['evidence'])}</code>"),
        ]
        if check.get("scope"):
            facts.append(("scope", f"<code>{_e(check['scope'])}</code>"))
        body = [
            f"<h3>{_badge(status)} <code>{_ids(check['id'])}</code> {_e(check['title'])}</h3>",
            '<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>",
        ]
        if check.get("description"):
            body.append(f"<p>{_e(check['description'])}</p>")
        if check.get("reason"):
            body.append(f'<p class="why"><b>{_e(label(status).capitalize())}:</b> {_e(check["reason"])}</p>')
        failing = check["failing"]
        if failing:
            rows = "".join(
                f"<tr><td><code>{_ids(f['resource'])}</code></td><td>{_e(f['message'])}</td>"
                f"{_hash_cell(f.get('evidence_hash'))}<td>{_e(f.get('collected_at') or '')}</td></tr>"
                for f in failing[:FAILING_LIMIT]
            )
            more = (
                f'<p class="muted">… {len(failing) - FAILING_LIMIT} more in the population below '
                "and the JSON report.</p>"
                if len(failing) > FAILING_LIMIT
                else ""
            )
            body.append(
                '<div class="scroll"><table><thead><tr><th>failing resource</th><th>why</th><th>evidence SHA-256</th>'
                f"<th>collected</th></tr></thead><tbody>{rows}</tbody></table></div>{more}"
            )
        collection = check.get("collection_errors", [] if "population" in check else check["errors"])
        if collection:
            items = "".join(f'<li class="err">{_e(e)}</li>' for e in collection[:20])
            body.append(f"<p><b>Collection errors</b></p><ul>{items}</ul>")
        if status == "fail":
            body.append(f'<p class="fix"><b>Remediation:</b> {_e(check["remediation"])}</p>')
        body.append(self.population(check))
        return f'<article class="check k-{_e(status)}" id="check-{_e(check["id"])}"{attrs}>{"".join(body)}</article>'

    def population(self, check: Mapping[str, Any]) -> str:
        population = population_of(check)
        if not population:
            return ""
        tally: dict[str, int] = {}
        if isinstance(population, StoredRows):
            tally = population.status_counts()  # one query, not a pass over every row
        else:
            for p in population:
                tally[p["status"]] = tally.get(p["status"], 0) + 1
        counted = ", ".join(
            f"{n} {s}"
            for s, n in sorted(
                tally.items(),
                key=lambda kv: ("fail", "error", "pass").index(kv[0]) if kv[0] in ("fail", "error", "pass") else 9,
            )
        )
        rows = "".join(
            f"<tr><td><code>{_ids(p['resource'])}</code></td><td>{_badge(p['status'])}</td><td>{_e(p['message'])}</td>"
            f"{_hash_cell(p.get('evidence_hash'))}<td>{_e(p.get('collected_at') or '')}</td></tr>"
            for p in population[:POPULATION_LIMIT]
        )
        more = (
            f'<p class="muted">The first {POPULATION_LIMIT} of {len(population)} are shown; the JSON and CSV '
            "reports list every one.</p>"
            if len(population) > POPULATION_LIMIT
            else ""
        )
        return (
            f'<details class="population"{self.open}><summary>Population: {plural(len(population), "resource")} '
            f"judged ({_e(counted)})</summary>"
            f'<div class="scroll"><table class="population-table" data-check="{_e(check["id"])}"><thead><tr>'
            "<th>resource</th><th>status</th><th>message</th><th>evidence SHA-256</th><th>collected</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>{more}</details>"
        )

    def checks_section(self) -> str:
        export = (
            ""
            if self.printable
            else '<p class="export"><button type="button" data-export=".population-table" '
            'data-file="annexa-population.csv">Export the population of the shown checks (CSV)</button></p>'
        )
        return (
            f'<section data-group="checks"><h2 id="checks">Checks <span class="shown" id="checks-shown"></span></h2>'
            '<p class="muted">Every automated check once, failing first, with the controls it gives evidence for. '
            "Its population lists every in-scope resource it judged, with the SHA-256 of the evidence item and "
            f"when it was collected, for sampling.</p>{export}"
            f'{"".join(self.check(c) for c in self.checks)}<p class="empty" hidden>No check matches.</p></section>'
        )

    def connectors(self) -> str:
        rows = "".join(
            f'<tr><td>{_e(c["name"])}</td><td>{_badge(c["status"])}</td><td class="num">{c["evidence_items"]}</td>'
            f'<td class="num">{c.get("api_calls", "")}</td><td class="num">{c.get("duration_s", "")}</td>'
            f"<td>{'<br>'.join(_e(e) for e in c['errors'][:20])}"
            f"{'<br>…' if len(c['errors']) > 20 else ''}</td></tr>"
            for c in self.report["run"]["connectors"]
        )
        return (
            '<h2 id="connectors">Connectors</h2><div class="scroll"><table><thead><tr><th>connector</th><th>status</th>'
            '<th class="num">evidence items</th><th class="num">API calls</th><th class="num">seconds</th>'
            f"<th>errors</th></tr></thead><tbody>{rows}</tbody></table></div>"
        )

    def about(self) -> str:
        return (
            '<h2 id="about">Reading this report</h2><dl class="facts">'
            "<dt>pass</dt><dd>every in-scope resource of every mapped check was shown compliant.</dd>"
            "<dt>fail</dt><dd>at least one resource of a mapped check is not compliant.</dd>"
            "<dt>not assessed</dt><dd>a mapped check could not be evaluated (collection or evaluation error), or "
            "none had anything in scope; the reason is given with the control.</dd>"
            "<dt>manual</dt><dd>no automated check of a configured connector maps to the control: prepare the "
            "documents and records named with it.</dd>"
            "<dt>excluded</dt><dd>excluded in the Statement of Applicability, with the reason.</dd></dl>"
            "<p>Tracing a sampled resource: the evidence SHA-256 is the hash of the canonical JSON the check judged. "
            'It is stored in the evidence store and can be read with <code>sqlite3 annexa.db "select data from '
            "blobs where hash like '&lt;first digits&gt;%'\"</code>. <i>collected</i> is when an item with that "
            "content was collected; unchanged content is stored once, so it can be earlier than this run.</p>"
        )


def _rate(summary: Mapping[str, int]) -> str:
    assessed = summary.get("pass", 0) + summary.get("fail", 0) + summary.get("not_assessed", 0)
    return f"{summary.get('pass', 0) / assessed:.0%}" if assessed else "—"


def render_html(
    report: Mapping[str, Any], history: Sequence[Mapping[str, Any]] | None = None, *, printable: bool = False
) -> str:
    """The page. ``history`` is used only for a document without its own ``history`` key (older JSON)."""
    runs = report.get("history")
    if runs is None:
        runs = [
            {"run_id": h.get("id", ""), "started_at": h["started_at"], "summary": h["summary"]}
            for h in reversed(list(history or [])[:60])
            if h.get("summary")
        ]
    page = _Page(report, runs, printable)
    org = _e(report["organization"] or "unnamed organization")
    script = "" if printable else f"<script>{SCRIPT}</script>"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>ISO/IEC 27001:2022 gap report — {org}</title><style>{CSS}</style></head>\n<body>"
        + page.header()
        + page.summary()
        + page.exposed_risks()
        + page.filters()
        + page.failing()
        + page.findings()
        + page.not_assessed()
        + page.controls_section()
        + page.checks_section()
        + page.connectors()
        + page.about()
        + f"{script}</body></html>\n"
    )
