"""Logging and detection services: CloudTrail, AWS Config, GuardDuty, IAM Access Analyzer."""

from __future__ import annotations

from typing import Any

from connectors.base import CollectionError, EvidenceItem

from .session import Account, ClientFactory, aws_exceptions, error_text, paginate, plain

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


def regional_id(account: Account, region: str) -> str:
    return f"{account.account_id}/{region}"


def collect_trails(
    factory: ClientFactory, account: Account, regions: list[str]
) -> tuple[list[EvidenceItem | CollectionError], list[dict[str, Any]] | None]:
    """Trails seen from every region (shadow trails included), deduplicated by ARN, with their status.

    Returns the records and the per-trail summary for aws.account (None when no region could be read,
    so "no multi-region trail" is never concluded from nothing).
    """
    records: list[EvidenceItem | CollectionError] = []
    trails: dict[str, dict[str, Any]] = {}
    read_any = status_unknown = False
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
    summaries = []
    for arn, trail in sorted(trails.items()):
        home = trail.get("HomeRegion") or factory.home_region
        try:
            status = factory.client(account, "cloudtrail", home).get_trail_status(Name=arn)
        except aws_exceptions() as exc:
            records.append(
                CollectionError("aws.cloudtrail.trail", f"{regional_id(account, home)}: trail {arn}: {error_text(exc)}")
            )
            status_unknown = True  # that trail could be the one that logs everything
            continue
        data = plain(trail)
        data.update(account_id=account.account_id, region=home, status=plain(status))
        data["IsLogging"] = bool(status.get("IsLogging"))
        data.setdefault("LogFileValidationEnabled", False)
        data.setdefault("IsMultiRegionTrail", False)
        data.setdefault("KmsKeyId", None)
        records.append(EvidenceItem("aws.cloudtrail.trail", arn, data))
        summaries.append({field: data.get(field) for field in TRAIL_SUMMARY_FIELDS})
    return records, summaries if read_any and not status_unknown else None


def collect_config(factory: ClientFactory, account: Account, region: str) -> list[EvidenceItem | CollectionError]:
    config = factory.client(account, "config", region)
    recorders = config.describe_configuration_recorders().get("ConfigurationRecorders") or []
    statuses = {
        s["name"]: plain(s)
        for s in config.describe_configuration_recorder_status().get("ConfigurationRecordersStatus") or []
    }
    channels = config.describe_delivery_channels().get("DeliveryChannels") or []
    data = {
        "id": regional_id(account, region),
        "account_id": account.account_id,
        "region": region,
        "recorders": [{**plain(r), "status": statuses.get(r.get("name"))} for r in recorders],
        "delivery_channels": plain(channels),
    }
    return [EvidenceItem("aws.config.region", regional_id(account, region), data)]


def collect_guardduty(factory: ClientFactory, account: Account, region: str) -> list[EvidenceItem | CollectionError]:
    guardduty = factory.client(account, "guardduty", region)
    detectors = []
    for detector_id in paginate(guardduty, "list_detectors", "DetectorIds"):
        detector = plain(guardduty.get_detector(DetectorId=detector_id))
        detectors.append({"DetectorId": detector_id, **detector})
    data = {
        "id": regional_id(account, region),
        "account_id": account.account_id,
        "region": region,
        "detectors": detectors,
    }
    return [EvidenceItem("aws.guardduty.region", regional_id(account, region), data)]


def collect_access_analyzer(
    factory: ClientFactory, account: Account, region: str
) -> list[EvidenceItem | CollectionError]:
    analyzer_client = factory.client(account, "accessanalyzer", region)
    analyzers = []
    for analyzer in paginate(analyzer_client, "list_analyzers", "analyzers"):
        entry = plain(analyzer)
        entry["active_findings"] = None
        if analyzer.get("type") in ("ACCOUNT", "ORGANIZATION") and analyzer.get("status") == "ACTIVE":
            entry["active_findings"] = [
                {k: plain(f.get(k)) for k in ("id", "resource", "resourceType", "isPublic", "resourceOwnerAccount")}
                for f in paginate(
                    analyzer_client,
                    "list_findings",
                    "findings",
                    analyzerArn=analyzer["arn"],
                    filter={"status": {"eq": ["ACTIVE"]}},
                )
            ]
        analyzers.append(entry)
    data = {
        "id": regional_id(account, region),
        "account_id": account.account_id,
        "region": region,
        "analyzers": analyzers,
    }
    return [EvidenceItem("aws.accessanalyzer.region", regional_id(account, region), data)]
