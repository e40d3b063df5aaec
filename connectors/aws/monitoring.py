"""Logging and detection services: CloudTrail, AWS Config, GuardDuty, IAM Access Analyzer."""

from __future__ import annotations

from typing import Any

from connectors.base import CollectionError, EvidenceItem

from .session import Account, ClientFactory, aws_exceptions, error_text, paginate, plain
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
