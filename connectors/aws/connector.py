"""The AWS connector: one account or a whole Organization, every enabled region, collected concurrently."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import ClassVar

from connectors.base import CollectContext, CollectionError, Connector, EvidenceItem, require

from .kinds import EVIDENCE_KINDS, PERMISSIONS
from .settings import AwsSettings


class AwsConnector(Connector[AwsSettings]):
    """IAM, S3, CloudTrail, Config, GuardDuty, Access Analyzer, EC2, KMS and RDS evidence via boto3."""

    name = "aws"
    extra = "aws"
    settings_model = AwsSettings
    evidence_kinds = EVIDENCE_KINDS
    permissions = PERMISSIONS
    max_workers: ClassVar[int] = 16  # concurrent (account, region, service) tasks

    def __init__(self, settings: AwsSettings, context: CollectContext) -> None:
        super().__init__(settings, context)
        self.aws: AwsSettings = settings

    @classmethod
    def simulated_estate(cls, now: datetime) -> Iterator[EvidenceItem | CollectionError]:
        from .demo import simulated_estate

        return simulated_estate(now)

    def collect(self) -> Iterator[EvidenceItem | CollectionError]:
        boto3 = require("boto3", self.extra)
        from .collect import Collection

        yield from Collection(boto3, self.aws, self.context, self.kind_names(), self.max_workers).run()
