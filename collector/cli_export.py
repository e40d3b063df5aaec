"""`annexa export pack` and `annexa export oscal`: hand a run to an auditor and to GRC tools."""

from __future__ import annotations

from pathlib import Path

import click

from .cli import _emit, cli, config_option, follow_symlinks_option


@cli.group()
def export() -> None:
    """Hand evidence on: the auditor pack, OSCAL Assessment Results, a push into CISO Assistant."""


@export.command()
@config_option
@click.option("--run", "run_ref", metavar="ID", help="Run id, `latest` or `previous` (default: latest).")
@click.option("--since", metavar="YYYY-MM-DD", help="Add the run history from this day: the observation window.")
@click.option(
    "-o", "--output", required=True, type=click.Path(path_type=Path), metavar="FILE", help="The ZIP to write."
)
@click.option("--force", is_flag=True, help="Replace an existing file.")
def pack(config: str | None, run_ref: str | None, since: str | None, output: Path, force: bool) -> None:
    """One ZIP an auditor opens offline: index.html, the gap report, SoA and readiness report, per control
    the checks, their findings, the evidence items judged and the manual evidence files, a manifest with
    every file's SHA-256, SHA256SUMS and the run's seal chain (docs/auditor-pack.md)."""
    from .export.pack import write_pack
    from .operations import open_store_for_reading
    from .outputs import check_destination, write_streamed
    from .register import parse_day
    from .yamlload import InputError

    day = parse_day(since, "--since") if since else None
    if output.exists() and not output.is_dir() and not force:
        raise InputError(str(output), None, "", "exists: give --force to replace it, or another -o FILE")
    check_destination(output)
    with open_store_for_reading(config) as store:
        run = store.resolve_run(run_ref)
        try:
            manifest = {}
            write_streamed(
                output, lambda handle: manifest.update(write_pack(handle, store, run, config=config, since=day))
            )
        except LookupError as exc:
            raise InputError(str(store.path), None, "", str(exc)) from None
    click.echo(f"wrote {output}: run {run['id']}, {manifest['files']} files, seal {str(manifest['seal'])[:16]}…")


@export.command()
@config_option
@click.option("--run", "run_ref", metavar="ID", help="Run id, `latest` or `previous` (default: latest).")
@click.option("-o", "--output", type=click.Path(path_type=Path), metavar="FILE", help="Write to FILE, not stdout.")
@follow_symlinks_option
def oscal(config: str | None, run_ref: str | None, output: Path | None, follow_symlinks: bool) -> None:
    """The run as an OSCAL 1.1.3 Assessment Results document (JSON): reviewed controls, an observation
    per evidence item and manual evidence document, a finding per control (docs/oscal.md)."""
    from .export.oscal import assessment_results, render
    from .operations import open_store_for_reading
    from .outputs import check_destination

    if output is not None:
        check_destination(output, follow_symlinks=follow_symlinks)
    with open_store_for_reading(config) as store:
        document = assessment_results(store, store.resolve_run(run_ref))
    _emit(render(document), output, follow_symlinks)


@export.command("ciso-assistant")
@config_option
@click.option("--run", "run_ref", metavar="ID", help="Run id, `latest` or `previous` (default: latest).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def ciso_assistant(config: str | None, run_ref: str | None, fmt: str) -> None:
    """Push the run into CISO Assistant (annexa.yaml `exports.ciso_assistant`): per Annex A control the
    requirement assessment's result and observation, and its evidence file as an Evidence, a new revision
    only when the evidence changed (docs/ciso-assistant.md). Exit 1 when the push fails."""
    import json

    from .config import config_path, load_settings
    from .export.ciso_assistant import push_configured

    summary = push_configured(load_settings(config_path(config)), run_ref)
    click.echo(json.dumps(summary.as_dict(), indent=2) if fmt == "json" else summary.line())
