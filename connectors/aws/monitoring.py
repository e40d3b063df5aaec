"""Logging and detection services: CloudTrail, AWS Config, GuardDuty, IAM Access Analyzer, CloudWatch Logs,
Session Manager preferences."""

from __future__ import annotations

import json
from typing import Any

from connectors.base import CollectionError, EvidenceItem

from .session import Account, ClientFactory, aws_exceptions, error_code, error_text, paginate, plain
from .unknown import Unknowns

# Facts about each trail that aws.account carries for the account-wide multi-region check.
TRAIL_SUMMARY_FIELDS = (
    "TrailARN",
    "Name",
    "HomeRegion",
    "IsMultiRegionTrail",
    "IsOrganizationTrail",
    "IncludeGlobalServiceEvents",
    "LogFileValidationEnabled",
    "IsLogging",
)


# What GetTrailStatus alone tells about a trail.
TRAIL_STATUS_FIELDS = ("IsLogging", "status")


def regional_id(account: Account, region: str) -> str:
    return f"{account.account_id}/{region}"


def collect_trails(
    factory: ClientFactory, account: Account, regions: list[str]
) -> tuple[list[EvidenceItem | CollectionError], list[dict[str, Any]] | None]:
    """Trails seen from every region (shadow trails included), deduplicated by ARN, with their status.

    Returns the records and the per-trail summary for aws.account (None when no region could be read,
    so "no multi-region trail" is never concluded from nothing). A multi-region trail is visible from
    every region, so one unreadable region cannot hide it.
    """
    records: list[EvidenceItem | CollectionError] = []
    trails: dict[str, dict[str, Any]] = {}
    read_any = False
    for region in regions:
        try:
            found = factory.client(account, "cloudtrail", region).describe_trails(includeShadowTrails=True)
        except aws_exceptions() as exc:
            records.append(
                CollectionError("aws.cloudtrail.trail", f"{regional_id(account, region)}: {error_text(exc)}")
            )
            continue
        read_any = True
        for trail in found.get("trailList") or []:
            trails.setdefault(trail["TrailARN"], trail)
    unknowns = Unknowns("aws.cloudtrail.trail")
    summaries = []
    for arn, trail in sorted(trails.items()):
        home = trail.get("HomeRegion") or factory.home_region
        data = plain(trail)
        data.update(account_id=account.account_id, region=home)
        data.setdefault("LogFileValidationEnabled", False)
        data.setdefault("IsMultiRegionTrail", False)
        data.setdefault("KmsKeyId", None)
        try:
            status = factory.client(account, "cloudtrail", home).get_trail_status(Name=arn)
        except aws_exceptions() as exc:
            # IsLogging and status are left out: checks reading them error, the others keep judging
            # the trail; in the account summary a trail without IsLogging cannot count as logging.
            unknowns.add(regional_id(account, home), "GetTrailStatus", TRAIL_STATUS_FIELDS, f"trail {arn}", exc)
        else:
            data.update(status=plain(status), IsLogging=bool(status.get("IsLogging")))
        records.append(EvidenceItem("aws.cloudtrail.trail", arn, data))
        summaries.append({f: data.get(f) for f in TRAIL_SUMMARY_FIELDS if f in data or f not in TRAIL_STATUS_FIELDS})
    records.extend(unknowns.errors())
    return records, summaries if read_any else None


def collect_config(factory: ClientFactory, account: Account, region: str) -> list[EvidenceItem | CollectionError]:
    config = factory.client(account, "config", region)
    scope = regional_id(account, region)
    unknowns = Unknowns("aws.config.region")
    recorders = [plain(r) for r in config.describe_configuration_recorders().get("ConfigurationRecorders") or []]
    try:
        statuses = config.describe_configuration_recorder_status().get("ConfigurationRecordersStatus") or []
    except aws_exceptions() as exc:
        # Each recorder keeps its configuration; only its "status" key is left out.
        unknowns.add(scope, "DescribeConfigurationRecorderStatus", (), "", exc)
    else:
        by_name = {s["name"]: plain(s) for s in statuses}
        for recorder in recorders:
            recorder["status"] = by_name.get(recorder.get("name"))
    data = {"id": scope, "account_id": account.account_id, "region": region, "recorders": recorders}
    unknowns.read(
        data,
        "delivery_channels",
        lambda: plain(config.describe_delivery_channels().get("DeliveryChannels") or []),
        scope=scope,
        call="DescribeDeliveryChannels",
    )
    return [*unknowns.errors(), EvidenceItem("aws.config.region", scope, data)]


def collect_guardduty(factory: ClientFactory, account: Account, region: str) -> list[EvidenceItem | CollectionError]:
    guardduty = factory.client(account, "guardduty", region)
    scope = regional_id(account, region)
    unknowns = Unknowns("aws.guardduty.region")
    detectors = []
    for detector_id in paginate(guardduty, "list_detectors", "DetectorIds"):
        entry: dict[str, Any] = {"DetectorId": detector_id}
        try:
            entry.update(plain(guardduty.get_detector(DetectorId=detector_id)))
        except aws_exceptions() as exc:
            # The detector is listed without Status: it cannot count as enabled, nor as disabled.
            unknowns.add(scope, "GetDetector", (), f"detector {detector_id}", exc)
        detectors.append(entry)
    data = {"id": scope, "account_id": account.account_id, "region": region, "detectors": detectors}
    return [*unknowns.errors(), EvidenceItem("aws.guardduty.region", scope, data)]


def collect_access_analyzer(
    factory: ClientFactory, account: Account, region: str
) -> list[EvidenceItem | CollectionError]:
    analyzer_client = factory.client(account, "accessanalyzer", region)
    scope = regional_id(account, region)
    unknowns = Unknowns("aws.accessanalyzer.region")
    analyzers = []
    for analyzer in paginate(analyzer_client, "list_analyzers", "analyzers"):
        entry = plain(analyzer)
        entry["active_findings"] = None  # null: not an active account/organization analyzer
        if analyzer.get("type") in ("ACCOUNT", "ORGANIZATION") and analyzer.get("status") == "ACTIVE":
            try:
                entry["active_findings"] = _active_findings(analyzer_client, analyzer["arn"])
            except aws_exceptions() as exc:
                del entry["active_findings"]  # unknown, which is neither "none" nor "not applicable"
                unknowns.add(scope, "ListFindings", (), f"analyzer {analyzer.get('name')}", exc)
        analyzers.append(entry)
    data = {"id": scope, "account_id": account.account_id, "region": region, "analyzers": analyzers}
    return [*unknowns.errors(), EvidenceItem("aws.accessanalyzer.region", scope, data)]


def _active_findings(client: Any, analyzer_arn: str) -> list[dict[str, Any]]:
    return [
        {k: plain(f.get(k)) for k in ("id", "resource", "resourceType", "isPublic", "resourceOwnerAccount")}
        for f in paginate(
            client, "list_findings", "findings", analyzerArn=analyzer_arn, filter={"status": {"eq": ["ACTIVE"]}}
        )
    ]


# Session Manager keeps a region's preferences (logging, encryption, run-as) in this Session document.
SESSION_PREFERENCES_DOCUMENT = "SSM-SessionManagerRunShell"


def collect_session_manager(
    factory: ClientFactory, account: Account, region: str
) -> list[EvidenceItem | CollectionError]:
    """The region's Session Manager preferences (the document's ``inputs``); null when never saved."""
    ssm = factory.client(account, "ssm", region)
    scope = regional_id(account, region)
    preferences: dict[str, Any] | None
    try:
        document = ssm.get_document(Name=SESSION_PREFERENCES_DOCUMENT, DocumentFormat="JSON")
    except aws_exceptions() as exc:
        if error_code(exc) != "InvalidDocument":  # the answer when the preferences were never saved
            raise
        preferences = None
    else:
        try:
            content = json.loads(document.get("Content") or "{}")
        except ValueError:
            return [CollectionError("aws.ssm.region", f"{scope}: GetDocument {SESSION_PREFERENCES_DOCUMENT}: not JSON")]
        preferences = dict(content.get("inputs") or {})
    data = {"id": scope, "account_id": account.account_id, "region": region, "session_preferences": preferences}
    return [EvidenceItem("aws.ssm.region", scope, data)]


def collect_log_groups(factory: ClientFactory, account: Account, region: str) -> list[EvidenceItem | CollectionError]:
    logs = factory.client(account, "logs", region)
    items: list[EvidenceItem | CollectionError] = []
    for group in paginate(logs, "describe_log_groups", "logGroups"):
        data = plain(group)
        # DescribeLogGroups leaves retentionInDays out for a group whose events never expire.
        data.setdefault("retentionInDays", None)
        arn = group.get("logGroupArn") or str(group.get("arn", "")).removesuffix(":*")
        data.update(account_id=account.account_id, region=region, logGroupArn=arn)
        items.append(EvidenceItem("aws.logs.log_group", arn, data))
    return items


def _hub(client: Any) -> dict[str, Any] | None:
    try:
        hub = client.describe_hub()
    except aws_exceptions() as exc:
        if error_code(exc) != "InvalidAccessException":  # "not subscribed": Security Hub is off here
            raise
        return None
    return {k: plain(hub.get(k)) for k in ("HubArn", "SubscribedAt", "AutoEnableControls", "ControlFindingGenerator")}


def _standards(client: Any) -> list[dict[str, Any]]:
    return [
        {k: s.get(k) for k in ("StandardsArn", "StandardsSubscriptionArn", "StandardsStatus")}
        for s in paginate(client, "get_enabled_standards", "StandardsSubscriptions")
    ]


def _high_findings(client: Any, account: Account, region: str) -> list[dict[str, Any]]:
    def eq(*values: str) -> list[dict[str, str]]:
        return [{"Value": v, "Comparison": "EQUALS"} for v in values]

    # Account and region filters keep an aggregation region (or a delegated administrator) from
    # reporting other accounts' or regions' findings as this region's.
    filters = {
        "RecordState": eq("ACTIVE"),
        "SeverityLabel": eq("HIGH", "CRITICAL"),
        "AwsAccountId": eq(account.account_id),
        "Region": eq(region),
    }
    # Each finding keeps what triage and resolution are judged on, nothing about the affected resources.
    return [
        {
            "Id": f.get("Id"),
            "SeverityLabel": (f.get("Severity") or {}).get("Label"),
            "WorkflowStatus": (f.get("Workflow") or {}).get("Status"),
            "CreatedAt": f.get("CreatedAt"),
            "ProductName": f.get("ProductName"),
            "ComplianceStatus": (f.get("Compliance") or {}).get("Status"),
        }
        for f in paginate(client, "get_findings", "Findings", Filters=filters)
    ]


def collect_security_hub(factory: ClientFactory, account: Account, region: str) -> list[EvidenceItem | CollectionError]:
    """Security Hub in one region: the hub (null when not enabled), enabled standards, active HIGH and
    CRITICAL findings of this account and region."""
    client = factory.client(account, "securityhub", region)
    scope = regional_id(account, region)
    unknowns = Unknowns("aws.securityhub.region")
    hub = _hub(client)
    data: dict[str, Any] = {"id": scope, "account_id": account.account_id, "region": region, "hub": hub}
    if hub is None:
        data.update(standards=[], high_findings=[])
    else:
        unknowns.read(data, "standards", lambda: _standards(client), scope=scope, call="GetEnabledStandards")
        unknowns.read(
            data, "high_findings", lambda: _high_findings(client, account, region), scope=scope, call="GetFindings"
        )
    return [*unknowns.errors(), EvidenceItem("aws.securityhub.region", scope, data)]
