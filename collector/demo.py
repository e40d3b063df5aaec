"""`annexa demo`: every connector's simulated estate through the real runner, store and reports.

The estates are functions of a clock; the demo hands them the start of the current UTC day, so two
demos on one day see identical evidence and `annexa diff` shows nothing changed. `--drift` applies a
scripted change on top (an IAM user and an Okta user lose their MFA, a bucket loses its public access
block) so the diff shows real regressions. The demo also writes an `annexa.yaml` for its store, so the
reading commands (`runs`, `report`, `diff`, `health`, `readiness`, `soa`) work on it like on a real one,
with a small ISMS in git beside it (documents declared under `manual_evidence:`).

A first demo into an empty folder also replays the six days before today (one run a day, before the
collector's role lost the permissions today's run is denied), so the readiness report has an
observation window and passing-since dates to show.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.base import CollectContext, CollectionError, Connector, EvidenceItem

from .config import load_settings
from .demo_isms import RISK_FILE, audit_date, justifications_yaml, manual_evidence_yaml, write_documents, write_risks
from .manual_evidence import manual_plan
from .mapping import load_checks
from .operations import REPORT_FILES, run_plans
from .registry import available_connectors, evidence_kinds
from .risks import isms_plan
from .runner import CollectorPlan, RunResult
from .store import Store
from .timeutil import utcnow
from .yamlload import InputError

ORGANIZATION = "Demo Corp (simulated estate)"
EXCLUDED = {"A.7.4": "No own premises: data centres are operated by the cloud providers (simulated SoA)"}
# GitHub logins -> the people's Okta e-mails, for the cross-source checks. gita is Greta, who left (her
# Okta user is deactivated) and still holds an organization seat: the demo's leaver. farid, hugo and
# ines map to nobody, so the identity check names them.
IDENTITIES = {
    "alice": "anna.admin@example-gmbh.de",
    "bjorn": "ben.ops@example-gmbh.de",
    "chen": "clara@example-gmbh.de",
    "dana": "dirk@example-gmbh.de",
    "eve": "eva@example-gmbh.de",
    "gita": "greta.leaver@example-gmbh.de",
}
# Allow-list and opt-in checks are not_applicable until configured (never a silent pass): the demo
# configures them as its organization would, so they judge something.
CHECK_PARAMS: dict[str, dict[str, Any]] = {
    "github.outside_collaborator.approved": {"approved": ["contractor-kim"]},
    "azure.entra.terms_of_use_required": {"required": True},
}
STORE_NAME = "annexa-demo.db"
CONFIG_NAME = "annexa.yaml"
_CONFIG_MARK = "# Written by `annexa demo`"
BACKFILL_DAYS = 6

Mutation = Callable[[dict[str, Any]], None]


def _no_mfa_devices(data: dict[str, Any]) -> None:
    data["mfa_devices"] = []


def _no_factors(data: dict[str, Any]) -> None:
    data["factors"] = []


def _public(data: dict[str, Any]) -> None:
    data["public_access_block"] = dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), False
    )


# (kind, id) -> what `--drift` changes: each turns a passing finding into a failing one.
DRIFT: dict[tuple[str, str], tuple[str, Mutation]] = {
    ("aws.iam.user", "arn:aws:iam::111122223333:user/alice"): ("IAM user alice lost her MFA device", _no_mfa_devices),
    ("okta.user", "clara@example-gmbh.de"): ("Okta user clara removed her only factor", _no_factors),
    ("aws.s3.bucket", "arn:aws:s3:::demo-logs"): ("bucket demo-logs lost its public access block", _public),
}


@dataclass
class DemoResult:
    run: RunResult
    written: list[Path]
    config: Path
    drift: list[str]
    verified: str = ""


def estate_clock(now: datetime) -> datetime:
    """The simulated estates' clock: the start of the UTC day, so same-day demos are identical."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def demo_plan(cls: type[Connector], clock: datetime, drift: bool, *, denials: bool = True) -> CollectorPlan:
    def collect(context: CollectContext) -> Iterator[EvidenceItem | CollectionError]:
        for record in cls.simulated_estate(clock):
            if isinstance(record, CollectionError) and not denials:
                continue  # the replayed days, before the collector's role lost those permissions
            if drift and isinstance(record, EvidenceItem) and (record.kind, record.id) in DRIFT:
                DRIFT[(record.kind, record.id)][1](record.data)
            yield record

    return CollectorPlan(cls.name, f"{cls.name} (simulated)", cls.kind_names(), collect)


def perform_demo(directory: Path, *, drift: bool = False, quiet: bool = False) -> DemoResult:
    if directory.exists() and not directory.is_dir():
        raise InputError(directory, None, "--dir", "is a file; give a directory for the demo")
    directory.mkdir(parents=True, exist_ok=True)
    today = estate_clock(utcnow())
    config = write_demo_config(directory, today)
    store_path = directory / STORE_NAME
    if not _has_runs(store_path):
        for days_ago in range(BACKFILL_DAYS, 0, -1):
            _demo_run(directory, config, today - timedelta(days=days_ago), drift=False, quiet=True, replay=True)
        if drift:
            _demo_run(directory, config, utcnow(), drift=False, quiet=quiet)  # the baseline to compare with
    result = _demo_run(directory, config, utcnow(), drift=drift, quiet=quiet)
    changes = [label for label, _ in DRIFT.values()] if drift else []
    written = [directory / name for name in REPORT_FILES.values()]
    verified = _hand_over(directory, config, result.run_id, written)
    return DemoResult(result, written, config, changes, verified)


def _hand_over(directory: Path, config: Path, run_id: str, written: list[Path]) -> str:
    """What an auditor gets: the pack and the OSCAL results of the run, and the store's seals verified."""
    from .export.oscal import assessment_results, render
    from .export.pack import write_pack
    from .outputs import write_streamed, write_text
    from .verify import verify

    with Store(directory / STORE_NAME) as store:
        run = store.resolve_run(run_id)
        pack, oscal = directory / "pack.zip", directory / "assessment-results.json"
        write_streamed(pack, lambda handle: write_pack(handle, store, run, config=str(config)))
        write_text(oscal, render(assessment_results(store, run)))
        written += [pack, oscal]
        checked = verify(store)
    if not checked.ok:  # a fresh demo store that does not verify is a bug, not a finding
        failure = checked.first_failure
        raise RuntimeError(f"the demo store does not verify: {failure.problems[0] if failure else '?'}")
    return f"verified the store: {len(checked.runs)} runs, every seal and the chain match"


def _demo_run(
    directory: Path, config: Path, when: datetime, *, drift: bool, quiet: bool, replay: bool = False
) -> RunResult:
    connectors = available_connectors()
    clock = estate_clock(when)
    plans = [demo_plan(cls, clock, drift, denials=not replay) for _, cls in sorted(connectors.items())]
    if config.exists():
        settings = load_settings(config)
        extra = (manual_plan(settings.manual), isms_plan(settings.risks, settings.model.soa.justifications))
        plans += [plan for plan in extra if plan is not None]
    checks = load_checks(evidence_kinds(connectors), overrides={k: {"params": v} for k, v in CHECK_PARAMS.items()})
    checks.identities = dict(IDENTITIES)
    return run_plans(
        directory / STORE_NAME,
        plans,
        checks,
        ORGANIZATION,
        "demo",
        EXCLUDED,
        wait=True,
        quiet=quiet,
        report_dir=None if replay else directory,
        started_at=clock + timedelta(hours=6) if replay else None,
    )


def _has_runs(store_path: Path) -> bool:
    if not store_path.exists():
        return False
    with Store(store_path) as store:
        return any(r["status"] in ("complete", "partial") for r in store.runs())


def write_demo_config(directory: Path, today: datetime) -> Path:
    """An annexa.yaml naming the demo's store and its ISMS documents, so `annexa runs -c DIR/annexa.yaml`
    and the readiness commands read it. A file there that the demo did not write is left alone."""
    path = directory / CONFIG_NAME
    if path.exists() and not path.read_text(encoding="utf-8", errors="replace").startswith(_CONFIG_MARK):
        return path
    write_documents(directory)
    write_risks(directory, today.date())
    excluded = "\n".join(f'    {cid}: "{reason}"' for cid, reason in EXCLUDED.items())
    day = today.date()
    path.write_text(
        f"{_CONFIG_MARK} for its store: the reading commands (runs, report, diff, health) use it.\n"
        "# It configures no connector; for your own estate, start from `annexa init`.\n"
        f"organization: {ORGANIZATION}\n"
        f"store: ./{STORE_NAME}\n"
        f"soa:\n  excluded:\n{excluded}\n{justifications_yaml()}"
        f"risks: {RISK_FILE}\n"
        "identities:\n"
        + "".join(f"  {login}: {person}\n" for login, person in IDENTITIES.items())
        + "checks:\n"
        + "".join(f"  {check}:\n    params: {json.dumps(params)}\n" for check, params in CHECK_PARAMS.items())
        + f"readiness:\n  audit_date: {audit_date(day).isoformat()}\n"
        f"{manual_evidence_yaml(day)}",
        encoding="utf-8",
    )
    return path


def next_steps(directory: Path, drift: bool) -> list[str]:
    config = directory / CONFIG_NAME
    steps = [
        f"annexa runs -c {config}",
        f"annexa report -c {config} --format html -o gap-report.html",
        f"annexa readiness -c {config} --format html -o readiness.html",
        f"annexa soa -c {config} -o soa.xlsx",
        f"annexa verify {directory / 'pack.zip'}",
    ]
    if drift:
        steps.append(f"annexa diff -c {config}")
    else:
        steps.append(f"annexa demo --dir {directory} --drift && annexa diff -c {config}")
    return steps


__all__ = ["ORGANIZATION", "DemoResult", "estate_clock", "next_steps", "perform_demo"]
