"""`annexa clauses` and `annexa readiness`: the ISMS clause items and the Stage 1 readiness report."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .cli import _emit, _table, cli, config_option, follow_symlinks_option, format_option


@cli.command()
@config_option
@format_option(("table", "json"), "table")
def clauses(config: str | None, fmt: str) -> None:
    """The mandatory documented information of ISO/IEC 27001 clauses 4-10, each with the state of its
    evidence (current, expiring, expired or missing) in the manual evidence register."""
    from .config import config_path, load_settings
    from .operations import open_store_for_reading
    from .readiness import clause_states
    from .register import current_entries
    from .timeutil import utcnow

    warn_days = load_settings(config_path(config)).model.readiness.expiring_within_days
    with open_store_for_reading(config) as store:
        items = clause_states(current_entries(store), utcnow().date(), warn_days)
    if fmt == "json":
        click.echo(json.dumps({"schema": "annexa/clauses@1", "clauses": items}, indent=2))
        return
    rows = [[i["id"], i["state"], ", ".join(e["id"] for e in i["evidence"]) or "-", i["title"]] for i in items]
    click.echo(_table(["clause", "state", "evidence", "title"], rows))


@cli.command()
@config_option
@click.option("--run", "run_ref", metavar="ID", help="Run id, `latest` or `previous` (default: latest).")
@click.option("--audit-date", metavar="YYYY-MM-DD", help="The Stage 1 audit date (default: readiness.audit_date).")
@format_option(("md", "html", "json"), "md")
@click.option("-o", "--output", type=click.Path(path_type=Path), metavar="FILE", help="Write to FILE, not stdout.")
@follow_symlinks_option
def readiness(
    config: str | None,
    run_ref: str | None,
    audit_date: str | None,
    fmt: str,
    output: Path | None,
    follow_symlinks: bool,
) -> None:
    """The Stage 1 readiness report: clause items, internal audit and management review before the audit,
    SoA completeness, exposed risks, failing automated controls, manual controls without current
    evidence and the observation window, each with a verdict (ready or gaps)."""
    from .outputs import check_destination
    from .readiness import readiness_document
    from .readiness_render import render_html, render_markdown
    from .register import parse_day

    day = parse_day(audit_date, "--audit-date") if audit_date else None
    if output is not None:
        check_destination(output, follow_symlinks=follow_symlinks)
    doc = readiness_document(config, run_ref, day)
    if fmt == "json":
        text = json.dumps(doc, indent=2) + "\n"
    else:
        text = render_html(doc) if fmt == "html" else render_markdown(doc)
    _emit(text, output, follow_symlinks)
