"""Policies of the four types the checks judge, each joined with its rules."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from connectors.base import CollectionError, EvidenceItem

from .client import Api, OktaApiError
from .facts import enrollment_of, without_links
from .kinds import ORG, POLICY

POLICY_TYPES = ("PASSWORD", "MFA_ENROLL", "OKTA_SIGN_ON", "ACCESS_POLICY")


@dataclass
class PolicyResult:
    records: list[EvidenceItem | CollectionError] = field(default_factory=list)
    mfa_enroll: list[dict[str, Any]] | None = None  # None: MFA_ENROLL policies could not be read


def _is_unsupported(exc: OktaApiError, policy_type: str) -> bool:
    """Classic Engine orgs answer 400 E0000001 to type=ACCESS_POLICY: the type does not exist there."""
    return policy_type == "ACCESS_POLICY" and exc.status == 400 and exc.code == "E0000001"


async def collect_policies(api: Api, org: str, page_limit: int, concurrency: int) -> PolicyResult:
    result = PolicyResult()
    semaphore = asyncio.Semaphore(concurrency)

    async def with_rules(raw: dict[str, Any]) -> list[EvidenceItem | CollectionError]:
        data = without_links(raw)
        data["org"] = org
        records: list[EvidenceItem | CollectionError] = []
        async with semaphore:
            try:
                rules = await api.get_all(f"/api/v1/policies/{raw['id']}/rules", {"limit": page_limit})
                data["rules"] = [without_links(rule) for rule in rules if isinstance(rule, dict)]
            except OktaApiError as exc:
                data["rules"] = None
                # The policy itself is known: only checks reading its rules are in doubt.
                records.append(
                    CollectionError(
                        POLICY, f"{org}: rules of policy {raw.get('name')}: {exc.reason}", fields=("rules",)
                    )
                )
        if data.get("type") == "MFA_ENROLL":
            data["authenticator_enrollment"] = enrollment_of(data.get("settings"))
        records.insert(0, EvidenceItem(POLICY, str(raw["id"]), data))
        return records

    for policy_type in POLICY_TYPES:
        try:
            policies = await api.get_all("/api/v1/policies", {"type": policy_type, "limit": page_limit})
        except OktaApiError as exc:
            if _is_unsupported(exc, policy_type):
                api.context.log.info("okta %s: no %s policies on this engine (%s)", org, policy_type, exc.reason)
                continue
            result.records.append(CollectionError(POLICY, f"{org}: {policy_type} policies: {exc.reason}"))
            if policy_type == "MFA_ENROLL":
                result.records.append(CollectionError(ORG, f"{org}: MFA enrollment policies: {exc.reason}"))
            continue
        policies = [p for p in policies if isinstance(p, dict) and p.get("id")]
        batches = await asyncio.gather(*(with_rules(policy) for policy in policies))
        for records in batches:
            result.records.extend(records)
        if policy_type == "MFA_ENROLL":
            result.mfa_enroll = [
                {
                    key: record.data.get(key)
                    for key in ("id", "name", "status", "priority", "system", "authenticator_enrollment")
                }
                for records in batches
                for record in records
                if isinstance(record, EvidenceItem)
            ]
    return result
