"""Org-wide security posture: device assurance policies and the ThreatInsight configuration.

Device assurance policies are their own kind (one item per policy), and are also summarised on the
``okta.org`` item, because "every required platform has a policy that demands encryption, a screen lock and
a minimum OS version" is a fact about the set of policies, which a check over one policy at a time cannot
see. ThreatInsight is one org-wide setting, joined onto ``okta.org``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.base import CollectionError, EvidenceItem

from .client import Api, OktaApiError
from .facts import without_links
from .kinds import DEVICE_ASSURANCE, ORG

# The fields of a device assurance policy the org summary keeps (the item keeps the whole policy).
SUMMARY_FIELDS = (
    "id",
    "name",
    "platform",
    "osVersion",
    "osVersionConstraints",
    "diskEncryptionType",
    "screenLockType",
    "secureHardwarePresent",
    "jailbreak",
)


@dataclass
class Posture:
    records: list[EvidenceItem | CollectionError] = field(default_factory=list)
    # Joined onto okta.org: the value, or the reason it is unknown.
    org_facts: dict[str, Any] = field(default_factory=dict)
    org_unknown: dict[str, str] = field(default_factory=dict)


def _feature_missing(exc: OktaApiError) -> bool:
    """Device assurance belongs to Identity Engine; Classic orgs answer E0000015 (feature not enabled)."""
    return exc.code == "E0000015"


async def collect_posture(api: Api, org: str) -> Posture:
    posture = Posture()
    try:
        policies = await api.get_all("/api/v1/device-assurances")
    except OktaApiError as exc:
        if _feature_missing(exc):
            # No device assurance on this engine: there are no policies, a fact the checks judge.
            api.context.log.info("okta %s: device assurance not available (%s)", org, exc.reason)
            posture.org_facts["device_assurances"] = []
        else:
            posture.records.append(CollectionError(DEVICE_ASSURANCE, f"{org}: device assurance policies: {exc.reason}"))
            posture.org_unknown["device_assurances"] = exc.reason
    else:
        summary = []
        for raw in policies:
            if not isinstance(raw, dict) or not raw.get("id"):
                continue
            data = without_links(raw)
            data["org"] = org
            posture.records.append(EvidenceItem(DEVICE_ASSURANCE, str(raw["id"]), data))
            summary.append({name: raw.get(name) for name in SUMMARY_FIELDS})
        posture.org_facts["device_assurances"] = summary
    try:
        threat, _ = await api.get("/api/v1/threats/configuration")
    except OktaApiError as exc:
        posture.org_unknown["threat_insight"] = exc.reason
    else:
        posture.org_facts["threat_insight"] = without_links(threat) if isinstance(threat, dict) else None
    for name, reason in posture.org_unknown.items():
        posture.records.append(CollectionError(ORG, f"{org}: {name.replace('_', ' ')}: {reason}", (name,), (org,)))
    return posture
