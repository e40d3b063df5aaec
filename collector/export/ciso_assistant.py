"""`annexa export ciso-assistant`: push a run into a CISO Assistant ISO/IEC 27001:2022 assessment.

The push finds or creates the domain (folder), the perimeter and the compliance assessment (loading
the ISO/IEC 27001:2022 library first when the instance has not), then per Annex A control:

- the control's evidence, a JSON file of its checks, their findings and the items judged, goes into
  one Evidence per control with a stable name. The file holds nothing run-specific, so unchanged
  evidence hashes the same: the push compares the latest revision's ``attachment_hash`` with its own
  and adds a revision only when the evidence changed (a re-push of a run writes nothing);
- the requirement assessment gets its ``result`` and an ``observation`` naming the run, the checks and
  the failing resources, written only when they differ from what is there.

Controls Annexa has no primary automated check for are left as they are: their result belongs to
whoever assesses them in CISO Assistant (a control with supporting checks only gets their evidence
attached, nothing more). Each step finds before it creates, so a push that stopped half way
(a 500, a timeout) is finished by the next one without duplicates.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import CisoAssistantConfig, Settings
from ..store import Store
from .ciso_client import CisoClient, PushError

FRAMEWORK_URN = "urn:intuitem:risk:framework:iso27001-2022"
LIBRARY_URN = "urn:intuitem:risk:library:iso27001-2022"
REQUIREMENT_PREFIX = "urn:intuitem:risk:req_node:iso27001-2022:"
EVIDENCE_FORMAT = "annexa-ciso-evidence/1"
MAX_BODIES = 2000  # item bodies per evidence file; beyond, items are listed by hash (the pack has them all)
FAILING_SHOWN = 5  # failing resources named per check in an observation

RESULTS = ("compliant", "non_compliant", "partially_compliant", "not_assessed", "not_applicable")


def target_name(config: CisoAssistantConfig) -> str:
    """How a push target is named in the store's push log and in `annexa health`."""
    return f"ciso-assistant {config.url}"


def evidence_name(control_id: str) -> str:
    return f"Annexa {control_id} automated evidence"


def requirement_urn(control_id: str) -> str:
    return REQUIREMENT_PREFIX + control_id.lower()


def result_for(control: Mapping[str, Any]) -> str | None:
    """The requirement assessment result for a control's Annexa status; None: leave the control alone."""
    status = str(control["status"])
    if status == "excluded":
        return "not_applicable"
    if status == "pass":
        return "compliant"
    if status == "fail":
        passing = any(c["status"] == "pass" for c in control["checks"])
        return "partially_compliant" if passing else "non_compliant"
    if status == "not_assessed":
        return "not_assessed"
    return None  # manual: no automated evidence, the result is a person's call


def observation_for(control: Mapping[str, Any], run: Mapping[str, Any], evidence_sha256: str | None) -> str:
    lines = [f"Annexa run {run['id']} (finished {run['finished_at']}): {control['status']}."]
    if control["status"] == "excluded":
        lines.append(f"Excluded in the Statement of Applicability: {control.get('exclusion_reason') or ''}".rstrip())
    for check in control["checks"]:
        counts = check.get("counts") or {}
        line = f"- {check['id']} ({check['severity']}): {check['status']}"
        failing = [f["resource"] for f in check.get("failing") or []]
        if failing:
            shown = ", ".join(failing[:FAILING_SHOWN])
            more = f" and {len(failing) - FAILING_SHOWN} more" if len(failing) > FAILING_SHOWN else ""
            line += f"; {len(failing)} failing: {shown}{more}"
        elif counts:
            line += "; " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()) if v)
        if check["status"] in ("error", "not_applicable") and check.get("reason"):
            line += f" ({check['reason']})"
        lines.append(line)
    if evidence_sha256:
        lines.append(f"Evidence: {evidence_name(str(control['id']))} (SHA-256 {evidence_sha256}).")
    return "\n".join(lines)


def evidence_file(store: Store, seq: int, control: Mapping[str, Any]) -> bytes:
    """The control's checks, findings and judged items as canonical JSON, free of run ids and times of
    the push, so the same evidence gives the same bytes (and the same SHA-256) run after run."""
    checks = []
    bodies = 0
    for check in control["checks"]:
        findings = []
        for row in store.judged(seq, check["id"], check["evidence"]):
            entry: dict[str, Any] = {
                "resource": row["resource"],
                "status": row["status"],
                "message": row["message"],
                "evidence_sha256": row["hash"],
                "collected_at": row["collected_at"],
            }
            if row["data"] is not None and bodies < MAX_BODIES:
                entry["evidence"] = json.loads(row["data"])
                bodies += 1
            findings.append(entry)
        checks.append(
            {
                "id": check["id"],
                "title": check["title"],
                "connector": check["connector"],
                "evidence_kind": check["evidence"],
                "severity": check["severity"],
                "status": check["status"],
                "counts": check["counts"],
                "remediation": check.get("remediation"),
                "findings": findings,
            }
        )
    document = {
        "format": EVIDENCE_FORMAT,
        "control": control["id"],
        "title": control["title"],
        "status": control["status"],
        "checks": checks,
        "manual_evidence": [
            {k: d.get(k) for k in ("id", "title", "sha256", "state", "valid_until")}
            for d in control.get("manual_evidence") or []
        ],
    }
    return (json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()


@dataclass
class PushSummary:
    url: str
    run_id: str
    assessment: dict[str, Any] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)  # folder, perimeter, assessment, library
    requirements_updated: int = 0
    requirements_unchanged: int = 0
    requirements_left: int = 0  # controls without automated evidence: not touched
    evidence_created: int = 0
    evidence_revised: int = 0
    evidence_unchanged: int = 0
    calls: int = 0
    writes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": "annexa/ciso-assistant-push@1",
            "url": self.url,
            "run": self.run_id,
            "assessment": self.assessment,
            "created": self.created,
            "requirement_assessments": {
                "updated": self.requirements_updated,
                "unchanged": self.requirements_unchanged,
                "left_alone": self.requirements_left,
            },
            "evidence": {
                "created": self.evidence_created,
                "new_revisions": self.evidence_revised,
                "unchanged": self.evidence_unchanged,
            },
            "api_calls": self.calls,
            "writes": self.writes,
        }

    def line(self) -> str:
        made = f"; created {', '.join(self.created)}" if self.created else ""
        return (
            f"pushed run {self.run_id} to CISO Assistant {self.url}: assessment {self.assessment.get('name')!r}"
            f"{made}; requirement assessments {self.requirements_updated} updated, {self.requirements_unchanged} "
            f"unchanged, {self.requirements_left} without automated evidence left as they are; evidence "
            f"{self.evidence_created} new, {self.evidence_revised} new revisions, {self.evidence_unchanged} unchanged "
            f"({self.calls} API calls, {self.writes} writes)"
        )


def client_for(config: CisoAssistantConfig, base: Path) -> CisoClient:
    return CisoClient(
        url=config.url,
        token=config.token,
        timeout=config.timeout_seconds,
        verify_tls=config.verify_tls,
        ca_bundle=str(base / config.ca_bundle) if config.ca_bundle else None,
        retry=config.retry.policy(),
    )


def push_run(
    client: CisoClient, config: CisoAssistantConfig, store: Store, run: Mapping[str, Any], gap: Mapping[str, Any]
) -> PushSummary:
    summary = PushSummary(url=config.url, run_id=str(run["id"]))
    try:
        _push(client, config, store, run, gap, summary)
    finally:
        summary.calls, summary.writes = client.calls, client.writes
    return summary


def _push(
    client: CisoClient,
    config: CisoAssistantConfig,
    store: Store,
    run: Mapping[str, Any],
    gap: Mapping[str, Any],
    summary: PushSummary,
) -> None:
    framework = _framework(client, summary)
    folder = _find_or_create(
        client,
        "folders/",
        {"content_type": "DO"},
        lambda o: o.get("name") == config.folder and _content_type(o) in ("DO", "Domain", "GL", "Global"),
        {"name": config.folder, "description": "Evidence pushed by Annexa (ISO/IEC 27001:2022 Annex A)."},
        f"domain {config.folder!r}",
        summary,
    )
    perimeter = _find_or_create(
        client,
        "perimeters/",
        {"folder": folder},
        lambda o: o.get("name") == config.perimeter and _ref(o.get("folder")) == folder,
        {"name": config.perimeter, "folder": folder},
        f"perimeter {config.perimeter!r}",
        summary,
    )
    assessment = _find_or_create(
        client,
        "compliance-assessments/",
        {"perimeter": perimeter},
        lambda o: (
            o.get("name") == config.assessment
            and _ref(o.get("perimeter")) == perimeter
            and _ref(o.get("framework")) == framework
        ),
        {"name": config.assessment, "perimeter": perimeter, "framework": framework, "folder": folder},
        f"compliance assessment {config.assessment!r}",
        summary,
    )
    summary.assessment = {"id": assessment, "name": config.assessment, "folder": folder, "perimeter": perimeter}
    requirements = _requirement_assessments(client, assessment, framework)
    evidences = _evidences_in(client, folder)
    revisions: dict[str, list[dict[str, Any]]] = {}
    for revision in client.list("evidence-revisions/", {"folder": folder}):
        revisions.setdefault(str(_ref(revision.get("evidence"))), []).append(revision)

    seq = int(run["seq"])
    for control in gap["controls"]:
        control_id = str(control["id"])
        result = result_for(control)
        if result is None and not control["checks"]:
            summary.requirements_left += 1
            continue
        requirement = requirements.get(requirement_urn(control_id))
        if requirement is None:
            raise PushError(
                f"the compliance assessment {config.assessment!r} has no requirement {requirement_urn(control_id)}: "
                "is it an assessment of another framework version?"
            )
        digest = None
        if control["checks"]:
            data = evidence_file(store, seq, control)
            digest = hashlib.sha256(data).hexdigest()
            _push_evidence(
                client, summary, folder, control_id, str(requirement["id"]), data, digest, run, evidences, revisions
            )
        if result is None:  # manual, with supporting checks only: their evidence is attached, the result is not ours
            summary.requirements_left += 1
            continue
        _update_requirement(client, summary, requirement, result, observation_for(control, run, digest))


def _framework(client: CisoClient, summary: PushSummary) -> str:
    for attempt in (0, 1):
        for framework in client.list("frameworks/", {"urn": FRAMEWORK_URN}):
            if framework.get("urn") == FRAMEWORK_URN:
                return str(framework["id"])
        if attempt:
            break
        try:
            client.post(f"stored-libraries/{LIBRARY_URN}/import/")
        except PushError as exc:
            if exc.status == 404:
                raise PushError(
                    f"CISO Assistant has no ISO/IEC 27001:2022 library ({LIBRARY_URN}) to load: update the "
                    "instance's libraries or load the framework by hand, then push again"
                ) from None
            raise
        summary.created.append("library iso27001-2022")
    raise PushError(f"CISO Assistant loaded {LIBRARY_URN} but lists no framework {FRAMEWORK_URN}")


def _find_or_create(
    client: CisoClient,
    path: str,
    filters: Mapping[str, str],
    matches: Any,
    body: Mapping[str, Any],
    what: str,
    summary: PushSummary,
) -> str:
    found = [o for o in client.list(path, filters) if matches(o)]
    if found:
        return str(found[0]["id"])
    try:
        created = client.post(path, body)
    except PushError as exc:
        if exc.status != 400:
            raise
        # A name taken a moment ago (another push, or a create whose answer was lost): use that one.
        found = [o for o in client.list(path, filters) if matches(o)]
        if found:
            return str(found[0]["id"])
        raise PushError(f"cannot create the {what}: {exc}") from None
    summary.created.append(what)
    return str(created["id"])


def _requirement_assessments(client: CisoClient, assessment: str, framework: str) -> dict[str, dict[str, Any]]:
    """The assessment's requirement assessments by requirement URN (Annex A ones only)."""
    rows = [
        r
        for r in client.list("requirement-assessments/", {"compliance_assessment": assessment})
        if _ref(r.get("compliance_assessment"), assessment) == assessment
    ]
    urns: dict[str, str] = {}
    if any(not isinstance(r.get("requirement"), dict) for r in rows):  # older servers give only the node's id
        urns = {str(n["id"]): str(n.get("urn")) for n in client.list("requirement-nodes/", {"framework": framework})}
    out = {}
    for row in rows:
        node = row.get("requirement")
        urn = str(node.get("urn")) if isinstance(node, dict) else urns.get(str(node), "")
        if urn.startswith(REQUIREMENT_PREFIX + "a."):
            out[urn] = row
    return out


def _push_evidence(
    client: CisoClient,
    summary: PushSummary,
    folder: str,
    control_id: str,
    requirement_id: str,
    data: bytes,
    digest: str,
    run: Mapping[str, Any],
    evidences: dict[str, dict[str, Any]],
    revisions: Mapping[str, list[dict[str, Any]]],
) -> None:
    name = evidence_name(control_id)
    filename = f"annexa-{control_id}.json"
    evidence = evidences.get(name)
    if evidence is None:
        body = {
            "name": name,
            "folder": folder,
            "description": f"Annexa's automated evidence for {control_id}: checks, findings and the items judged.",
            "requirement_assessments": [requirement_id],
        }
        try:
            evidence = client.post("evidences/", body)
        except PushError as exc:
            if exc.status != 400:
                raise
            # The name is taken (names are unique per folder): made by someone a moment ago, or missed
            # by the sweep. Take that one and go on as for any existing evidence.
            evidence = _evidences_in(client, folder).get(name)
            if evidence is None:
                raise PushError(f"cannot create the evidence {name!r}: {exc}") from None
            revisions = {str(evidence["id"]): _revisions_of(client, str(evidence["id"]))}
        else:
            evidences[name] = evidence
            client.upload(f"evidences/{evidence['id']}/upload/", filename, data)
            _check_uploaded(client, str(evidence["id"]), digest, name)
            summary.evidence_created += 1
            return
        evidences[name] = evidence
    evidence_id = str(evidence["id"])
    linked = [str(_ref(r)) for r in evidence.get("requirement_assessments") or []]
    if requirement_id not in linked:
        client.patch(f"evidences/{evidence_id}/", {"requirement_assessments": [*linked, requirement_id]})
    latest = _latest(revisions.get(evidence_id, []))
    if latest is not None and latest.get("attachment_hash") == digest:
        summary.evidence_unchanged += 1
        return
    if latest is None or not latest.get("attachment"):
        # The revision a create (or an earlier, interrupted push) left without its file: fill it.
        client.upload(f"evidences/{evidence_id}/upload/", filename, data)
        summary.evidence_created += 1
    else:
        revision = client.post(
            "evidence-revisions/",
            {"evidence": evidence_id, "folder": folder, "observation": f"Annexa run {run['id']}"},
        )
        client.upload(f"evidence-revisions/{revision['id']}/upload/", filename, data)
        summary.evidence_revised += 1
    _check_uploaded(client, evidence_id, digest, name)


def _evidences_in(client: CisoClient, folder: str) -> dict[str, dict[str, Any]]:
    """The folder's evidence by name (names are unique per folder; the filter may be ignored: match)."""
    return {
        str(e.get("name")): e for e in client.list("evidences/", {"folder": folder}) if _ref(e.get("folder")) == folder
    }


def _revisions_of(client: CisoClient, evidence_id: str) -> list[dict[str, Any]]:
    return [
        r
        for r in client.list("evidence-revisions/", {"evidence": evidence_id})
        if str(_ref(r.get("evidence"))) == evidence_id
    ]


def _latest(revisions: list[dict[str, Any]]) -> dict[str, Any] | None:
    return max(revisions, key=lambda r: int(r.get("version") or 0), default=None)


def _check_uploaded(client: CisoClient, evidence_id: str, digest: str, name: str) -> None:
    """The server hashes what it stored: it must be what was sent."""
    latest = _latest(_revisions_of(client, evidence_id))
    if latest is None:
        return  # a server without revisions: nothing to compare
    if latest.get("attachment_hash") not in (None, digest):
        raise PushError(
            f"CISO Assistant stored {name!r} with SHA-256 {latest.get('attachment_hash')}, not the {digest} sent"
        )


def _update_requirement(
    client: CisoClient, summary: PushSummary, requirement: Mapping[str, Any], result: str, observation: str
) -> None:
    if normalise_choice(requirement.get("result")) == result and (requirement.get("observation") or "") == observation:
        summary.requirements_unchanged += 1
        return
    client.patch(f"requirement-assessments/{requirement['id']}/", {"result": result, "observation": observation})
    summary.requirements_updated += 1


def normalise_choice(value: Any) -> str:
    """A choice as its value: reads may give the display label ("Non-compliant") where writes take
    the value ("non_compliant")."""
    return re.sub(r"[\s-]+", "_", str(value or "").strip().lower())


def _ref(value: Any, default: Any = None) -> Any:
    """An object reference as its id: reads nest related objects (``{"id": …, "str": …}``)."""
    if value is None:
        return default
    if isinstance(value, dict):
        return str(value.get("id"))
    return str(value)


def _content_type(folder: Mapping[str, Any]) -> str:
    return str(folder.get("content_type") or "")


def push_configured(settings: Settings, run_ref: str | None = None) -> PushSummary:
    """Push a run (latest by default) as annexa.yaml's `exports.ciso_assistant` says, and record the
    outcome in the store's push log; a PushError (the push failed) is recorded, then raised."""
    config = settings.model.exports.ciso_assistant
    if config is None:
        raise settings.source.error(
            ("exports",), "no exports.ciso_assistant section: add one with url and token (docs/ciso-assistant.md)"
        )
    from ..report import build_gap_report

    with Store(settings.store_path) as store:
        run = store.resolve_run(run_ref)
        gap = build_gap_report(store, dict(run), settings.model.readiness.expiring_within_days)
        client = client_for(config, settings.file.resolve().parent)
        try:
            summary = push_run(client, config, store, run, gap)
        except PushError as exc:
            _record(store, target_name(config), str(run["id"]), False, str(exc), {"api_calls": client.calls})
            raise
        _record(store, target_name(config), summary.run_id, True, summary.line(), summary.as_dict())
    return summary


def _record(store: Store, target: str, run_id: str, ok: bool, message: str, detail: Mapping[str, Any]) -> None:
    """Into the push log under the write lock; a run holding it right now only costs the record."""
    from ..store import StoreBusyError

    try:
        store.acquire_lock(wait=False)
    except StoreBusyError:
        import sys

        print("annexa: note: a run holds the store, so this push's outcome is not in the push log", file=sys.stderr)
        return
    try:
        store.record_push(target, run_id, ok, message, detail)
    finally:
        store.release_lock()


def push_after_run(settings: Settings) -> tuple[bool, str] | None:
    """After a scheduled run (`exports.ciso_assistant.on: schedule`): push the latest run. None when no
    push is configured for schedules; else (pushed, the line to log). Never raises: the run is stored."""
    config = settings.model.exports.ciso_assistant
    if config is None or config.on != "schedule":
        return None
    try:
        return True, push_configured(settings).line()
    except PushError as exc:
        return False, str(exc)
    except Exception as exc:  # a bug here must not take the agent down: it is logged like a failed push
        return False, f"{exc.__class__.__name__}: {exc}"
