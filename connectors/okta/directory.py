"""Inventory kinds: groups, authenticators and applications."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.base import CollectionError, EvidenceItem

from .client import Api, OktaApiError
from .facts import scrub_secrets, without_links
from .kinds import APPLICATION, AUTHENTICATOR, GROUP


async def collect_list(
    api: Api,
    org: str,
    kind: str,
    path: str,
    params: dict[str, Any],
    shape: Callable[[dict[str, Any]], dict[str, Any]] = without_links,
    unsupported: Callable[[OktaApiError], bool] = lambda exc: False,
) -> list[EvidenceItem | CollectionError]:
    try:
        raws = await api.get_all(path, params)
    except OktaApiError as exc:
        if unsupported(exc):
            api.context.log.info("okta %s: %s not available: %s", org, kind, exc.reason)
            return []
        return [CollectionError(kind, f"{org}: {kind}: {exc.reason}")]
    records: list[EvidenceItem | CollectionError] = []
    for raw in raws:
        if isinstance(raw, dict) and raw.get("id"):
            data = shape(raw)
            data["org"] = org
            records.append(EvidenceItem(kind, str(raw["id"]), data))
    return records


def _classic_engine(exc: OktaApiError) -> bool:
    """The Authenticators API belongs to Identity Engine; Classic orgs answer E0000015 (feature not enabled)."""
    return exc.code == "E0000015"


async def collect_directory(api: Api, org: str, page_limit: int) -> list[EvidenceItem | CollectionError]:
    records = await collect_list(api, org, GROUP, "/api/v1/groups", {"limit": page_limit})
    records += await collect_list(api, org, AUTHENTICATOR, "/api/v1/authenticators", {}, unsupported=_classic_engine)
    records += await collect_list(api, org, APPLICATION, "/api/v1/apps", {"limit": page_limit}, shape=scrub_secrets)
    return records
