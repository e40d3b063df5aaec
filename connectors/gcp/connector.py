"""The GCP connector: walks the resource hierarchy, then collects every project concurrently."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import ClassVar

from connectors.base import CollectContext, CollectionError, Connector, EvidenceItem

from .kinds import EVIDENCE_KINDS, PERMISSIONS
from .settings import GcpSettings


class GcpConnector(Connector[GcpSettings]):
    """Organization, folders, projects and their IAM policies; buckets, service accounts, firewalls, SQL."""

    name = "gcp"
    extra = "gcp"
    settings_model = GcpSettings
    evidence_kinds = EVIDENCE_KINDS
    permissions = PERMISSIONS
    # The key file ADC reads (a service-account key's private_key, an authorized user's refresh_token and
    # client_secret), and the AWS secrets google-auth reads for workload identity federation from AWS.
    secret_file_env = ("GOOGLE_APPLICATION_CREDENTIALS",)
    secret_env = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    # How retries wait; tests record the waits instead of sleeping.
    retry_sleep: ClassVar[Callable[[float], None]] = time.sleep

    def __init__(self, settings: GcpSettings, context: CollectContext) -> None:
        super().__init__(settings, context)
        self.gcp: GcpSettings = settings

    @classmethod
    def simulated_estate(cls, now: datetime) -> Iterator[EvidenceItem | CollectionError]:
        from .demo import simulated_estate

        return simulated_estate(now)

    def collect(self) -> Iterator[EvidenceItem | CollectionError]:
        from .collect import Collection

        yield from Collection(self.gcp, self.context, type(self).retry_sleep).run()
