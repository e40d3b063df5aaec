"""The `annexa` command line: thin commands over config, runner, store and reports.

User errors print one line and exit with the contract's status (2 for usage, configuration and
mapping errors; 4 when the store is busy); tracebacks appear only with --debug.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__
from .exit_codes import BUSY, COLLECTION_FAILED, FAIL_ON, OK, USAGE, VERIFY_FAILED
from .redact import redact

PROG = "annexa"


config_option = click.option(
    "-c", "--config", "config", metavar="PATH", help="Configuration file (default: $ANNEXA_CONFIG, else ./annexa.yaml)."
)


follow_symlinks_option = click.option(
    "--follow-symlinks",
    is_flag=True,
    help="Write through an output path that is a symbolic link (refused by default).",
)


def format_option(choices: tuple[str, ...], default: str) -> Callable[[Any], Any]:
    return click.option(
        "--format", "fmt", type=click.Choice(choices), default=default, show_default=True, help="Output format."
    )


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Exit status: 0 success; 1 a connector or evidence kind failed to collect (or the run could not be "
    "published); 2 usage, configuration or mapping error, or an unusable store; 3 the --fail-on condition "
    "holds; 4 another run holds the store (--no-wait); 5 verification failed (verify, check-store).",
)
@click.version_option(__version__, "--version", prog_name=PROG, message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Annexa: automated evidence collection for ISO/IEC 27001:2022 Annex A.

    Connectors collect read-only evidence from cloud, identity and code-hosting APIs; declarative
    CEL checks judge it; every run is a snapshot in SQLite with a gap report per Annex A control.
    """
    ctx.obj = {"debug": debug}


def _settings(config: str | None) -> Any:
    from .config import config_path, load_settings

    return load_settings(config_path(config))


@cli.command()
@config_option
@click.option("--only", multiple=True, metavar="NAME", help="Run only this connector (repeatable).")
@click.option(
    "--report-dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR", help="Also write the reports here."
)
@click.option("--fail-on", type=click.Choice(["fail"]), help="Exit 3 when any control fails.")
@click.option("--no-wait", is_flag=True, help="Exit 4 instead of waiting when another run holds the store.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--no-notify", is_flag=True, help="Do not post to the `notify:` webhook after this run.")
@click.option("--no-push", is_flag=True, help="Do not push to CISO Assistant after this run (`on: schedule`).")
@follow_symlinks_option
def run(
    config: str | None,
    only: tuple[str, ...],
    report_dir: Path | None,
    fail_on: str | None,
    no_wait: bool,
    quiet: bool,
    no_notify: bool,
    no_push: bool,
    follow_symlinks: bool,
) -> None:
    """One collection run: every configured connector collects concurrently, every check is evaluated, the
    snapshot is stored; prints the run id and a summary (progress per connector on standard error).

    Exit status: 0 all collected; 1 a connector or evidence kind failed to collect, the run could not
    be published (it is recorded failed), or its reports could not be written (the run is stored);
    2 bad configuration or options (nothing written); 3 --fail-on holds; 4 the store is busy (--no-wait).
    With `exports.ciso_assistant.on: schedule` the run is then pushed into CISO Assistant; a failed push
    is reported and makes the status at least 1 (the run stays stored).
    """
    from .operations import perform_run

    settings = _settings(config)
    result = perform_run(
        settings,
        only=list(only),
        wait=not no_wait,
        quiet=quiet,
        report_dir=report_dir,
        follow_symlinks=follow_symlinks,
    )
    _print_run_summary(result)
    if result.report_error:
        click.echo(f"{PROG}: error: {redact(result.report_error)}", err=True)
    if not no_notify:
        _notify(settings)
    code = run_exit_code(result, fail_on)
    if not no_push:
        from .export.ciso_assistant import push_after_run

        pushed = push_after_run(settings)
        if pushed is not None:
            ok, line = pushed
            click.echo(redact(line) if ok else f"{PROG}: error: push failed: {redact(line)}", err=True)
            if not ok and code == OK:
                code = COLLECTION_FAILED
    sys.exit(code)


def _notify(settings: Any) -> None:
    """A failed notification is reported but does not change the run's exit status: the run is stored."""
    from .notify import notify_latest

    outcome = notify_latest(settings)
    if outcome is None:
        return
    message, details = outcome
    if message == "notification failed":
        click.echo(f"{PROG}: warning: notification failed: {redact(details['error'])}", err=True)
    else:
        click.echo(f"notification sent (HTTP {details['http_status']}, {details['regressions']} regressions)", err=True)


def run_exit_code(result: Any, fail_on: str | None) -> int:
    if fail_on == "fail" and result.failing_controls:
        return FAIL_ON
    failed = result.collection_failed or bool(getattr(result, "report_error", None))
    return COLLECTION_FAILED if failed else OK


def _print_run_summary(result: Any) -> None:
    s = result.summary
    click.echo(f"run {result.run_id} {result.status}")
    for c in result.connector_runs:
        click.echo(f"  {c.connector}: {c.status}, {c.evidence_items} items, {len(c.errors)} errors")
        for err in c.errors[:5]:
            click.echo(f"    - {err}")
        if len(c.errors) > 5:
            click.echo(f"    - … {len(c.errors) - 5} more (annexa report)")
    click.echo(
        f"controls: {s['pass']} pass, {s['fail']} fail, {s['not_assessed']} not assessed, "
        f"{s['manual']} manual, {s['excluded']} excluded (of {s['controls']})"
    )


@cli.command()
@config_option
@click.option("--run", "run_ref", metavar="ID", help="Run id, `latest` or `previous` (default: latest).")
@format_option(("md", "html", "json", "csv", "pdf"), "md")
@click.option("-o", "--output", type=click.Path(path_type=Path), metavar="FILE", help="Write to FILE, not stdout.")
@follow_symlinks_option
def report(config: str | None, run_ref: str | None, fmt: str, output: Path | None, follow_symlinks: bool) -> None:
    """The gap report of a run (default: the latest complete or partial run): per Annex A control pass,
    fail, not assessed, manual or excluded."""
    from .operations import open_store_for_reading, report_text
    from .outputs import check_destination

    if fmt == "pdf":  # bytes, through the optional WeasyPrint (annexa[pdf]); never to a terminal
        from .report.pdf import emit_pdf

        emit_pdf(config, run_ref, output, follow_symlinks)
        return
    if output is not None:
        check_destination(output, follow_symlinks=follow_symlinks)  # before reading anything
    with open_store_for_reading(config) as store:
        text = report_text(store, run_ref, fmt)
    _emit(text, output, follow_symlinks)


def _emit(text: str, output: Path | None, follow_symlinks: bool = False) -> None:
    from .outputs import write_text

    if output is None:
        click.echo(text, nl=False)
        return
    write_text(output, text, follow_symlinks=follow_symlinks)
    click.echo(f"wrote {output}", err=True)


@cli.command()
@config_option
@format_option(("table", "json"), "table")
def runs(config: str | None, fmt: str) -> None:
    """The stored runs, newest first by sequence (whatever the clocks said), failed and interrupted ones
    included."""
    from .operations import open_store_for_reading, runs_document

    with open_store_for_reading(config) as store:
        document = runs_document(store)
    if fmt == "json":
        click.echo(json.dumps(document, indent=2))
        return
    rows = [
        [r["id"], r["status"], r["started_at"], r["finished_at"] or "", _connectors_cell(r["connectors"])]
        for r in document["runs"]
    ]
    click.echo(_table(["id", "status", "started", "finished", "connectors"], rows))


def _connectors_cell(connectors: list[dict[str, Any]]) -> str:
    return ", ".join(f"{c['name']}:{c['status']}({c['evidence_items']})" for c in connectors)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)] if rows else map(len, headers)
    widths = list(widths)
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


@cli.command()
@config_option
@format_option(("table", "json"), "table")
def controls(config: str | None, fmt: str) -> None:
    """The 93 Annex A controls with the checks mapped to each."""
    from .operations import controls_document

    document = controls_document(config)
    if fmt == "json":
        click.echo(json.dumps(document, indent=2))
        return
    rows = [[c["id"], c["theme"], c["title"][:48], _checks_cell(c["strengths"])] for c in document["controls"]]
    click.echo(_table(["id", "theme", "title", "checks"], rows))
    covered = sum(1 for c in document["controls"] if c["primary_checks"])
    click.echo(f"{covered} of {len(document['controls'])} controls have a primary automated check")


def _checks_cell(strengths: dict[str, str]) -> str:
    primary = [c for c, s in strengths.items() if s == "primary"]
    supporting = len(strengths) - len(primary)
    also = f" (+{supporting} supporting)" if supporting else ""
    if not primary:
        return f"(manual){also}"
    per_connector: dict[str, int] = {}
    for check_id in primary:
        connector = check_id.split(".")[0]
        per_connector[connector] = per_connector.get(connector, 0) + 1
    return f"{len(primary)}: " + ", ".join(f"{name} {n}" for name, n in sorted(per_connector.items())) + also


@cli.command()
@config_option
@format_option(("table", "json"), "table")
def checks(config: str | None, fmt: str) -> None:
    """Every check with its connector, evidence kind, severity, controls and parameters."""
    from .operations import checks_document

    document = checks_document(config)
    if fmt == "json":
        click.echo(json.dumps(document, indent=2))
        return
    rows = [
        [c["id"], c["evidence"], c["severity"], ",".join(c["controls"]), "yes" if c["enabled"] else "no"]
        for c in document["checks"]
    ]
    click.echo(_table(["id", "evidence", "severity", "controls", "enabled"], rows))


@cli.command()
@config_option
def validate(config: str | None) -> None:
    """Validate the configuration and every mapping file before anything runs; exit 2 with one line naming
    file, line and key on the first error."""
    from .config import config_path
    from .operations import validate_all

    path = config_path(config)
    click.echo(validate_all(path, explicit=config is not None))


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    default=Path("annexa-demo"),
    show_default=True,
    help="Where the demo's store and reports go.",
)
@click.option("--drift", is_flag=True, help="Apply a scripted change (MFA lost, a bucket made public) for `diff`.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
def demo(directory: Path, drift: bool, quiet: bool) -> None:
    """A full run against the built-in simulated estate, no credentials, no network: writes the store,
    `gap-report.{json,md,html,csv}`, the auditor pack, the OSCAL results and an annexa.yaml for the store
    into DIR, and verifies the store's seals. Two demos on one day see
    the same estate; --drift applies a scripted change so that `annexa diff` shows regressions.
    """
    from .demo import next_steps, perform_demo

    outcome = perform_demo(directory, drift=drift, quiet=quiet)
    _print_run_summary(outcome.run)
    for change in outcome.drift:
        click.echo(f"drift: {change}")
    for path in outcome.written:
        click.echo(f"wrote {path}")
    click.echo(f"wrote {outcome.config}")
    click.echo(outcome.verified)
    click.echo("next:")
    for step in next_steps(directory, drift):
        click.echo(f"  {step}")


@cli.command()
@config_option
@click.option("--from", "from_ref", metavar="ID", help="Older run (default: the run before --to).")
@click.option("--to", "to_ref", metavar="ID", help="Newer run (default: latest).")
@format_option(("md", "json"), "md")
@click.option("--fail-on", type=click.Choice(["regression"]), help="Exit 3 when anything regressed.")
def diff(config: str | None, from_ref: str | None, to_ref: str | None, fmt: str, fail_on: str | None) -> None:
    """Drift between two runs (default: the two latest): controls and findings whose status changed (`absent`
    for new or removed resources), evidence added, removed and changed with the changed fields; regressions
    first."""
    from .drift import compute_drift, has_regression, render_drift_markdown
    from .operations import open_store_for_reading

    with open_store_for_reading(config) as store:
        drift = compute_drift(store, from_ref, to_ref)
    click.echo(json.dumps(drift, indent=2) if fmt == "json" else render_drift_markdown(drift), nl=fmt == "json")
    if fail_on == "regression" and has_regression(drift):
        sys.exit(FAIL_ON)


@cli.command()
@config_option
@click.option(
    "--max-age",
    type=float,
    default=26.0,
    show_default=True,
    metavar="HOURS",
    help="Healthy when the latest complete or partial run finished less than HOURS ago.",
)
@click.option(
    "--require",
    type=click.Choice(["complete", "partial"]),
    default="partial",
    show_default=True,
    help="complete: unhealthy unless every connector collected everything.",
)
@click.option(
    "--max-skew",
    type=float,
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="Unhealthy when the run's finish time is further than this in the future of this host's clock.",
)
def health(config: str | None, max_age: float, require: str, max_skew: float) -> None:
    """For container health checks: status 0 when the latest complete or partial run finished less than
    --max-age hours ago, else 1 with the reason; also 1 when the latest run failed (no connector collected
    anything: expired credentials look like that), when --require complete is given and the run is partial,
    or when its finish time lies more than --max-skew seconds in the future of this host's clock.
    """
    from .operations import health_status

    healthy, message = health_status(config, max_age, require, max_skew)
    click.echo(message, err=not healthy)
    sys.exit(OK if healthy else COLLECTION_FAILED)


@cli.command()
@config_option
@click.option("--now", "run_now", is_flag=True, help="Also run once at start.")
@click.option("--log-format", type=click.Choice(["json", "text"]), help="Default: json when not on a terminal.")
def schedule(config: str | None, run_now: bool, log_format: str | None) -> None:
    """The long-running agent: `run` on `schedule.cron`, one run at a time (a run still going when the next
    is due is skipped and logged); JSON log lines when not on a terminal; SIGTERM or SIGINT stops it within
    30 s with status 0 and records an abandoned run as failed."""
    from .logs import configure
    from .schedule import Agent
    from .yamlload import InputError

    settings = _settings(config)
    if settings.model.schedule is None:
        raise InputError(settings.file, None, "schedule", "`schedule.cron` must be set for `annexa schedule`")
    Agent(settings, configure(log_format), run_now=run_now).start()


@cli.command()
@click.option(
    "-c", "--config", "config", metavar="PATH", default="annexa.yaml", show_default=True, help="File to write."
)
@click.option("--connector", "connectors", multiple=True, metavar="NAME", help="Include this connector (repeatable).")
@click.option("--organization", default="Example GmbH", show_default=True, help="Shown on the reports.")
def init(config: str, connectors: tuple[str, ...], organization: str) -> None:
    """Write a commented starter annexa.yaml (every connector unless --connector is given); never overwrites."""
    from .init import write_starter

    path = write_starter(Path(config), connectors, organization=organization)
    click.echo(f"wrote {path}: set the credentials it names, then run `annexa validate -c {path}`")


@cli.command("check-store")
@config_option
def check_store(config: str | None) -> None:
    """SQLite's full integrity check over the evidence store; exit 5 when it finds damage."""
    from .operations import open_store_for_reading
    from .store import StoreDamaged

    try:
        with open_store_for_reading(config) as store:
            problems = store.integrity_problems()
            path = store.path
    except StoreDamaged as exc:
        click.echo(f"{PROG}: {exc}", err=True)
        sys.exit(VERIFY_FAILED)
    if problems:
        click.echo(f"{PROG}: the evidence store {path} is damaged:", err=True)
        for problem in problems[:20]:
            click.echo(f"  - {problem}", err=True)
        click.echo("  restore a backup (`annexa backup`), or see README: Recovering a damaged store", err=True)
        sys.exit(VERIFY_FAILED)
    click.echo(f"{path}: integrity check ok")


@cli.command()
@config_option
@click.argument("destination", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace DESTINATION if it exists.")
def backup(config: str | None, destination: Path, force: bool) -> None:
    """A consistent copy of the evidence store through SQLite's online backup API, safe while a run is
    writing (a cron container need not stop)."""
    from .operations import backup_store

    written = backup_store(config, destination, force=force)
    click.echo(f"wrote {written}")


def main() -> None:
    from .redact import install_log_filter

    install_log_filter()
    debug = "--debug" in sys.argv[1:]
    try:
        cli.main(prog_name=PROG, standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        click.echo(f"{PROG}: interrupted; an unfinished run is recorded as failed", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:
        code, message = _classify(exc)
        if debug or code is None:
            # Tracebacks carry SDK exception text, which may quote a credential: masked like every line.
            import traceback

            click.echo(redact("".join(traceback.format_exception(exc))), err=True, nl=False)
            sys.exit(code if code is not None else 1)
        click.echo(f"{PROG}: error: {redact(message)}", err=True)
        sys.exit(code)


def _classify(exc: Exception) -> tuple[int | None, str]:
    import sqlite3

    from .export.ciso_client import PushError
    from .operations import RunFailed
    from .outputs import OutputError
    from .runner import RunInterrupted
    from .signing import SigningError
    from .store import NoRunError, Store, StoreBusyError, StoreError, damaged
    from .yamlload import InputError

    if isinstance(exc, RunFailed | PushError):
        return COLLECTION_FAILED, str(exc)
    if isinstance(exc, InputError | StoreError | OutputError | SigningError):
        return USAGE, str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and Store.last_path is not None:
        return USAGE, str(damaged(Store.last_path, exc))
    if isinstance(exc, StoreBusyError):
        return BUSY, str(exc)
    if isinstance(exc, NoRunError):
        return USAGE, str(exc).strip("'\"")
    if isinstance(exc, RunInterrupted):
        return 143, "terminated; the unfinished run is recorded as failed"
    return None, str(exc)


# Command groups kept in their own modules register themselves on `cli` when imported; imported last,
# once `cli` exists, so that `collector.cli.cli` always carries every command (the docs tests read it).
from . import cli_evidence, cli_export, cli_readiness, cli_seal, cli_soa  # noqa: E402,F401  (their commands register on import)
