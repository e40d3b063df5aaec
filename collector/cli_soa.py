"""`annexa risks` and `annexa soa`: the risk register with its exposure, the Statement of Applicability."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .cli import _emit, _table, cli, config_option, follow_symlinks_option, format_option

SOA_FORMATS = ("xlsx", "csv", "md", "html", "json")


@cli.command()
@config_option
@click.option("--run", "run_ref", metavar="ID", help="Run id, `latest` or `previous` (default: latest).")
@format_option(("table", "json", "md"), "table")
def risks(config: str | None, run_ref: str | None, fmt: str) -> None:
    """The risk register as the run recorded it: each risk's inherent score (likelihood x impact), its
    treatment, the status of its treating controls, and whether it is exposed (a treating control fails,
    is not assessed or lacks current evidence), highest score first."""
    from .operations import open_store_for_reading
    from .report import build_gap_report
    from .risks import risks_document
    from .soa import risks_for_run
    from .yamlload import InputError

    with open_store_for_reading(config) as store:
        run = store.resolve_run(run_ref)
        assessed = risks_for_run(store, run, build_gap_report(store, run))
    if assessed is None:
        raise InputError(
            "risks",
            None,
            "",
            f"run {run['id']} recorded no risk register: set risks: in annexa.yaml, then `annexa run`",
        )
    doc = risks_document(run, assessed)
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    rows = [
        [
            r["id"],
            str(r["score"]),
            r["treatment"],
            "EXPOSED" if r["exposed"] else "treated",
            ", ".join(f"{c['id']} {c['status']}" for c in r["controls"]) or "-",
            r["title"],
        ]
        for r in assessed
    ]
    if fmt == "md":
        lines = ["| risk | score | treatment | state | controls | title |", "| --- | --- | --- | --- | --- | --- |"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        click.echo("\n".join(lines))
    else:
        click.echo(_table(["risk", "score", "treatment", "state", "controls", "title"], rows))
    summary = doc["summary"]
    click.echo(f"{summary['risks']} risks, {summary['exposed']} exposed, {summary['accepted']} accepted")


@cli.command()
@config_option
@click.option("--run", "run_ref", metavar="ID", help="Run id, `latest` or `previous` (default: latest).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(SOA_FORMATS),
    help="Output format (default: from the -o file's suffix, else md).",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), metavar="FILE", help="Write to FILE, not stdout.")
@follow_symlinks_option
def soa(config: str | None, run_ref: str | None, fmt: str | None, output: Path | None, follow_symlinks: bool) -> None:
    """The Statement of Applicability of a run: all 93 Annex A controls, applicable or excluded (with the
    reason), the justification for inclusion (risks treated, soa.justifications), the implementation
    status derived from the evidence, the evidence behind it and the run's date."""
    from .operations import open_store_for_reading
    from .outputs import check_destination, emit_bytes, refuse_terminal
    from .report import build_gap_report
    from .soa import render_csv, render_html, render_json, render_markdown, render_xlsx, soa_document

    if fmt is None:
        suffix = output.suffix.lower().lstrip(".") if output is not None else ""
        fmt = suffix if suffix in SOA_FORMATS else "md"
    if fmt == "xlsx":
        refuse_terminal(output, "an XLSX file")
    if output is not None:
        check_destination(output, follow_symlinks=follow_symlinks)
    with open_store_for_reading(config) as store:
        run = store.resolve_run(run_ref)
        gap = build_gap_report(store, run)
        doc = soa_document(store, run, gap)
    if fmt == "xlsx":
        emit_bytes(render_xlsx(doc, str(gap["run"].get("tool_version") or "")), output, follow_symlinks=follow_symlinks)
        return
    render = {"csv": render_csv, "md": render_markdown, "html": render_html, "json": render_json}[fmt]
    _emit(render(doc), output, follow_symlinks)
