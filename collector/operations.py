"""What the CLI commands do, kept out of cli.py so the agent, the demo and tests share it."""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from .catalog import load_catalogue
from .config import Settings, config_path, load_settings
from .manual_evidence import manual_plan
from .mapping import CheckSet, load_checks
from .outputs import OutputError, check_directory, write_text
from .progress import make_progress
from .registry import evidence_kinds, load_connector
from .report import build_gap_report, render_report
from .risks import isms_plan
from .runner import CollectorPlan, RunInterrupted, RunResult, execute_run, plan_for
from .signing import Signer
from .store import Store, StoreBusyError, StoreError, damaged
from .yamlload import InputError

REPORT_FILES = {"json": "gap-report.json", "md": "gap-report.md", "html": "gap-report.html", "csv": "gap-report.csv"}


def perform_run(
    settings: Settings,
    only: list[str] | None = None,
    wait: bool = True,
    quiet: bool = False,
    report_dir: Path | None = None,
    follow_symlinks: bool = False,
) -> RunResult:
    entries = settings.connectors
    if only:
        unknown = sorted(set(only) - {e.name for e in entries})
        if unknown:
            configured = ", ".join(settings.connector_names) or "none"
            raise InputError(
                settings.file, None, "--only", f"{unknown[0]!r} is not configured (configured: {configured})"
            )
        entries = [e for e in entries if e.name in only]
    if not entries:
        raise InputError(
            settings.file, settings.source.line_of(("connectors",)), "connectors", "no connector is configured"
        )
    plans = [plan_for(load_connector(e.name), e.settings) for e in entries]
    if (manual := manual_plan(settings.manual)) is not None:
        plans.append(manual)
    if (isms := isms_plan(settings.risks, settings.model.soa.justifications)) is not None:
        plans.append(isms)
    return run_plans(
        settings.store_path,
        plans,
        settings.checks,
        settings.model.organization,
        settings.digest,
        settings.excluded,
        wait=wait,
        quiet=quiet,
        report_dir=report_dir,
        follow_symlinks=follow_symlinks,
        signer=settings.signer,
    )


def run_plans(
    store_path: Path,
    plans: list[CollectorPlan],
    checks: CheckSet,
    organization: str,
    digest: str,
    excluded: dict[str, str],
    *,
    wait: bool,
    quiet: bool,
    report_dir: Path | None,
    follow_symlinks: bool = False,
    started_at: datetime | None = None,
    signer: Signer | None = None,
) -> RunResult:
    if report_dir is not None:  # a report that cannot be written is refused before the run, not after
        try:
            check_directory(report_dir, REPORT_FILES.values(), follow_symlinks=follow_symlinks)
        except OutputError as exc:
            raise InputError("--report-dir", None, "", str(exc)) from None
    progress = make_progress(quiet)
    restore = _interrupt_on_sigterm()
    try:
        with Store(store_path, create=True) as store:
            if not wait:
                store.acquire_lock(wait=False)
            else:
                try:
                    store.acquire_lock(wait=False)
                except StoreBusyError:
                    progress.message("another run holds the store; waiting for it to finish")
                    store.acquire_lock(wait=True)
            try:
                result = execute_run(
                    store,
                    plans,
                    checks,
                    organization=organization,
                    config_digest=digest,
                    excluded=excluded,
                    progress=progress,
                    started_at=started_at,
                    signer=signer,
                )
            except sqlite3.DatabaseError as exc:
                raise RunFailed(str(damaged(store_path, exc))) from None
            except StoreError as exc:
                raise RunFailed(str(exc)) from None
            if report_dir is not None and result.status == "failed":
                result.report_error = f"run {result.run_id} failed, so no reports were written to {report_dir}"
            elif report_dir is not None:
                try:
                    write_reports(store, result.run_id, report_dir, follow_symlinks=follow_symlinks)
                except OutputError as exc:
                    result.report_error = (
                        f"{exc}; run {result.run_id} is stored: `annexa report --run {result.run_id}` writes it later"
                    )
    finally:
        restore()
        progress.close()
    return result


def _interrupt_on_sigterm() -> Callable[[], None]:
    """SIGTERM abandons the run like Ctrl-C: the runner records it as failed before the process exits."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: Any) -> None:
        raise RunInterrupted("terminated by SIGTERM")

    previous = signal.signal(signal.SIGTERM, handler)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


def write_reports(store: Store, run_id: str, directory: Path, *, follow_symlinks: bool = False) -> list[Path]:
    run = store.resolve_run(run_id)
    report = build_gap_report(store, run)
    history = store.runs(include_unpublished=False)
    written = []
    for fmt, name in REPORT_FILES.items():
        path = directory / name
        write_text(path, render_report(report, fmt, history), follow_symlinks=follow_symlinks)
        written.append(path)
    return written


class RunFailed(Exception):
    """The run could not be published (disk full, the store vanished): it is failed, earlier runs stand."""


@contextlib.contextmanager
def open_store_for_reading(config: str | None) -> Iterator[Store]:
    path = config_path(config)
    settings = load_settings(path)
    store = Store(settings.store_path)
    try:
        yield store
    finally:
        store.close()


@contextlib.contextmanager
def open_store_for_writing(config: str | None) -> Iterator[tuple[Settings, Store]]:
    """The store under its write lock (waiting for a run that holds it), for register changes."""
    settings = load_settings(config_path(config))
    with Store(settings.store_path, create=True) as store:
        try:
            store.acquire_lock(wait=False)
        except StoreBusyError:
            store.acquire_lock(wait=True)
        yield settings, store


def report_text(store: Store, run_ref: str | None, fmt: str) -> str:
    run = store.resolve_run(run_ref)
    history = store.runs(include_unpublished=False) if fmt == "html" else []
    return render_report(build_gap_report(store, run), fmt, history)


def runs_document(store: Store) -> dict[str, Any]:
    return {
        "schema": "annexa/runs@1",
        "runs": [
            {
                "id": r["id"],
                "started_at": r["started_at"],
                "finished_at": r["finished_at"],
                "status": r["status"],
                "connectors": [
                    {"name": c["connector"], "status": c["status"], "evidence_items": c["evidence_items"]}
                    for c in r["connector_runs"]
                ],
                "error": r["error"],
            }
            for r in store.runs()
        ],
    }


def _check_set(config: str | None) -> CheckSet:
    """The checks a configuration sees, or the built-in ones when there is no configuration."""
    path = config_path(config)
    if config is None and not path.exists():
        return load_checks(evidence_kinds())
    return load_settings(path).checks


def controls_document(config: str | None) -> dict[str, Any]:
    checks = _check_set(config)
    by_control: dict[str, dict[str, str]] = {}
    for check in checks.checks.values():
        for control_id in check.definition.control_ids:
            by_control.setdefault(control_id, {})[check.id] = check.definition.strength_of(control_id)
    out = []
    for c in load_catalogue():
        strengths = dict(sorted(by_control.get(c.id, {}).items()))
        primary = sum(1 for s in strengths.values() if s == "primary")
        out.append(
            {
                "id": c.id,
                "title": c.title,
                "theme": c.theme,
                "checks": list(strengths),
                "strengths": strengths,  # check id -> primary | supporting
                "primary_checks": primary,  # 0: the control is manual, whatever its supporting checks say
            }
        )
    return {"schema": "annexa/controls@1", "controls": out}


def checks_document(config: str | None) -> dict[str, Any]:
    checks = _check_set(config)
    return {
        "schema": "annexa/checks@1",
        "checks": [
            {
                "id": c.id,
                "title": c.definition.title,
                "connector": c.connector,
                "evidence": c.definition.evidence,
                "severity": c.definition.severity,
                "controls": list(c.definition.control_ids),
                "strengths": {control: c.definition.strength_of(control) for control in c.definition.control_ids},
                "enabled": c.enabled,
                "params": c.params,
                "remediation": c.definition.remediation,
            }
            for c in sorted(checks.checks.values(), key=lambda c: c.id)
        ],
    }


def validate_all(path: Path, explicit: bool) -> str:
    if not explicit and not path.exists():
        checks = load_checks(evidence_kinds())
        return f"no {path} found; the {len(checks.checks)} built-in checks are valid"
    settings = load_settings(path)
    active = settings.checks.for_connectors(settings.connector_names)
    connectors = ", ".join(settings.connector_names) or "none"
    for warning in excluded_but_checked(settings):
        print(f"annexa: warning: {warning}", file=sys.stderr)
    return (
        f"{path}: valid ({len(settings.checks.checks)} checks in all; {len(active)} enabled for the configured "
        f"connectors: {connectors})"
    )


def excluded_but_checked(settings: Settings) -> list[str]:
    """SoA exclusions of controls that enabled checks cover: allowed, but an auditor will ask why."""
    covering: dict[str, list[str]] = {}
    for check in settings.checks.for_connectors(settings.connector_names):
        for control_id in check.definition.control_ids:
            covering.setdefault(control_id, []).append(check.definition.id)
    out = []
    for control_id in settings.excluded:
        if checks := sorted(covering.get(control_id, [])):
            line = settings.source.line_of(("soa", "excluded", control_id))
            where = f"{settings.file}:{line}" if line else str(settings.file)
            out.append(
                f"{where}: soa.excluded.{control_id}: excluded, yet {len(checks)} enabled checks cover it "
                f"({', '.join(checks[:3])}{' …' if len(checks) > 3 else ''}); the report shows it as excluded"
            )
    return out


__all__ = ["load_connector", "perform_run", "run_plans"]


CLOCK_SKEW_TOLERANCE_S = 300.0


def health_status(
    config: str | None, max_age_hours: float, require: str = "partial", skew_tolerance_s: float = CLOCK_SKEW_TOLERANCE_S
) -> tuple[bool, str]:
    """Is the latest published run recent, did it collect anything, and is it as complete as required?

    A run whose connectors all errored collected nothing: the container is unhealthy (expired
    credentials look exactly like that). A finish time in the future means the agent's and this
    reader's clocks disagree: beyond the tolerance that is reported, not read as a fresh run.
    """
    from .store import NoRunError
    from .timeutil import parse_iso, utcnow

    settings = load_settings(config_path(config))
    if not settings.store_path.exists():
        return False, f"unhealthy: no evidence store at {settings.store_path} yet (no run has completed)"
    with Store(settings.store_path) as store:
        finished = [r for r in store.runs() if r["status"] not in ("running", "interrupted")]
        try:
            run = store.resolve_run("latest")
        except NoRunError:
            run = None
        connector_runs = store.connector_runs(run["id"]) if run else []
        last_push = None
        pushed = settings.model.exports.ciso_assistant
        if pushed is not None and pushed.on == "schedule":  # a failed scheduled push makes the agent unhealthy
            from .export.ciso_assistant import target_name

            last_push = store.last_push(target_name(pushed))
    if finished and finished[0]["status"] == "failed":
        return False, f"unhealthy: the latest run {finished[0]['id']} failed: {finished[0]['error']}"
    if run is None:
        return False, "unhealthy: no complete or partial run yet"
    age_s = (utcnow() - parse_iso(run["finished_at"])).total_seconds()
    if age_s < -skew_tolerance_s:
        return False, (
            f"unhealthy: the latest run {run['id']} finished {-age_s / 3600:.1f} h in the future of this clock: "
            f"the clocks of the agent and this host disagree by more than {skew_tolerance_s:g} s"
        )
    if connector_runs and all(c["status"] == "error" for c in connector_runs):
        first = next((e for c in connector_runs for e in c["errors"]), "no detail")
        return False, f"unhealthy: every connector failed in the latest run {run['id']} (first error: {first})"
    if require == "complete" and run["status"] != "complete":
        failed = ", ".join(c["connector"] for c in connector_runs if c["status"] != "ok")
        return False, f"unhealthy: the latest run {run['id']} is {run['status']} ({failed} did not collect everything)"
    age = max(age_s, 0.0) / 3600
    if age >= max_age_hours:
        return False, f"unhealthy: the latest run {run['id']} finished {age:.1f} h ago (limit {max_age_hours:g} h)"
    if last_push is not None and not last_push["ok"]:
        return False, (
            f"unhealthy: the latest push to CISO Assistant (run {last_push['run_id']}, at {last_push['at']}) "
            f"failed: {last_push['message']}"
        )
    skew = f"; its finish time is {-age_s:.0f} s ahead of this clock" if age_s < 0 else ""
    return True, f"healthy: run {run['id']} ({run['status']}) finished {age:.1f} h ago{skew}"


def backup_store(config: str | None, destination: Path, *, force: bool = False) -> Path:
    """A consistent copy of the store (SQLite's online backup), written beside DESTINATION then renamed."""
    import os
    import tempfile

    from .outputs import check_destination

    target = check_destination(destination)
    if target.exists() and not force:
        raise InputError(destination, None, "", "already exists (pass --force to replace it)")
    with open_store_for_reading(config) as store:
        if target.resolve() == store.path.resolve():
            raise InputError(destination, None, "", "is the store itself; choose another path")
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        try:
            store.backup(Path(temporary))
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    return target
