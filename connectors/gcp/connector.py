"""The GCP connector: walks the resource hierarchy, then collects every project concurrently."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import ClassVar

from connectors.base import CollectContext, CollectionError, Connector, EvidenceItem

from .kinds import EVIDENCE_KINDS, PERMISSIONS
from .settings import GcpSettings
from .transport import RetryPolicy


class GcpConnector(Connector[GcpSettings]):
    """Organization, folders, projects and their IAM policies; buckets, service accounts, firewalls, SQL."""

    name = "gcp"
    extra = "gcp"
    settings_model = GcpSettings
    evidence_kinds = EVIDENCE_KINDS
    permissions = PERMISSIONS
    retry_policy: ClassVar[RetryPolicy] = RetryPolicy()
    max_workers: ClassVar[int] = 8

    def __init__(self, settings: GcpSettings, context: CollectContext) -> None:
        super().__init__(settings, context)
        self.gcp: GcpSettings = settings

    @classmethod
    def simulated_estate(cls, now: datetime) -> Iterator[EvidenceItem | CollectionError]:
        from .demo import simulated_estate

        return simulated_estate(now)

    def collect(self) -> Iterator[EvidenceItem | CollectionError]:
        from .collect import Collection

        yield from Collection(self.gcp, self.context, self.retry_policy, self.max_workers).run()
