"""Policies of the four types the checks judge, each joined with its rules."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from connectors.base import CollectionError, EvidenceItem

from .client import Api, OktaApiError
from .facts import enrollment_of, without_links
from .failures import Unreadable
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
    rules_unread = Unreadable(POLICY, org, "rules", ("rules",), noun=("policy", "policies"))

    async def with_rules(raw: dict[str, Any]) -> EvidenceItem:
        data = without_links(raw)
        data["org"] = org
        if data.get("type") == "MFA_ENROLL":
            data["authenticator_enrollment"] = enrollment_of(data.get("settings"))
        item = EvidenceItem(POLICY, str(raw["id"]), data)
        async with semaphore:
            try:
                rules = await api.get_all(f"/api/v1/policies/{raw['id']}/rules", {"limit": page_limit})
            except OktaApiError as exc:
                # The policy itself is known: only checks reading its rules are in doubt.
                rules_unread.mark(item, exc, str(raw.get("name") or raw["id"]))
                return item
        data["rules"] = [without_links(rule) for rule in rules if isinstance(rule, dict)]
        return item

    async def of_type(policy_type: str) -> list[EvidenceItem] | OktaApiError | None:
        """The policies of one type with their rules; None when the org has no such type; the error."""
        try:
            policies = await api.get_all("/api/v1/policies", {"type": policy_type, "limit": page_limit})
        except OktaApiError as exc:
            if _is_unsupported(exc, policy_type):
                api.context.log.info("okta %s: no %s policies on this engine (%s)", org, policy_type, exc.reason)
                return None
            return exc
        return list(await asyncio.gather(*(with_rules(p) for p in policies if isinstance(p, dict) and p.get("id"))))

    # The four types are read side by side: on a slow org the policies cost one round of waits, not four.
    outcomes = await asyncio.gather(*(of_type(policy_type) for policy_type in POLICY_TYPES))
    for policy_type, outcome in zip(POLICY_TYPES, outcomes, strict=True):
        if isinstance(outcome, OktaApiError):
            result.records.append(CollectionError(POLICY, f"{org}: {policy_type} policies: {outcome.reason}"))
            if policy_type == "MFA_ENROLL":
                result.records.append(CollectionError(ORG, f"{org}: MFA enrollment policies: {outcome.reason}"))
            continue
        result.records.extend(outcome or [])
        if policy_type == "MFA_ENROLL":
            result.mfa_enroll = [
                {
                    key: item.data.get(key)
                    for key in ("id", "name", "status", "priority", "system", "authenticator_enrollment")
                }
                for item in outcome or []
            ]
    result.records.extend(rules_unread.errors())
    return result
