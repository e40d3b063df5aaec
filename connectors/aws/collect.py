"""One collection run: accounts and regions in scope, every service fanned out over a bounded pool."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from connectors.base import CollectContext, CollectionError, EvidenceItem

from .compute import (
    collect_ebs_default,
    collect_kms_keys,
    collect_load_balancers,
    collect_rds_instances,
    collect_security_groups,
    collect_vpcs,
)
from .iam import collect_iam
from .monitoring import (
    collect_access_analyzer,
    collect_config,
    collect_guardduty,
    collect_log_groups,
    collect_security_hub,
    collect_session_manager,
    collect_trails,
)
from .s3 import collect_buckets
from .scope import discover_accounts, enabled_regions
from .session import Account, ClientFactory, aws_exceptions, error_text
from .settings import AwsSettings

Record = EvidenceItem | CollectionError
RegionalCollector = Callable[[ClientFactory, Account, str], list[Record]]

# Each regional collector yields exactly one evidence kind; its errors are recorded under that kind.
REGIONAL: tuple[tuple[str, RegionalCollector], ...] = (
    ("aws.config.region", collect_config),
    ("aws.guardduty.region", collect_guardduty),
    ("aws.accessanalyzer.region", collect_access_analyzer),
    ("aws.ec2.region", collect_ebs_default),
    ("aws.ec2.security_group", collect_security_groups),
    ("aws.ec2.vpc", collect_vpcs),
    ("aws.kms.key", collect_kms_keys),
    ("aws.rds.instance", collect_rds_instances),
    ("aws.ssm.region", collect_session_manager),
    ("aws.elbv2.load_balancer", collect_load_balancers),
    ("aws.logs.log_group", collect_log_groups),
    ("aws.securityhub.region", collect_security_hub),
)


def _guarded(
    kind: str, collector: RegionalCollector, factory: ClientFactory, account: Account, region: str
) -> list[Record]:
    try:
        return collector(factory, account, region)
    except aws_exceptions() as exc:
        return [CollectionError(kind, f"{account.account_id}/{region}: {error_text(exc)}")]


class _AccountParts:
    """What aws.account is assembled from once both halves are known."""

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.facts: dict[str, Any] | None = None
        self.trails: list[dict[str, Any]] | None = None
        self.trails_done = False
        self.emitted = False

    def ready(self) -> bool:
        return not self.emitted and self.facts is not None and self.trails_done

    def records(self) -> list[Record]:
        self.emitted = True
        data = dict(self.facts or {})
        if self.trails is None:
            # Left out, not null: "no trails" would be a fact the multi-region check judges.
            error = CollectionError(
                "aws.account",
                f"{self.account_id}/global: trails unknown: CloudTrail could not be read (see aws.cloudtrail.trail)",
                ("trails",),
            )
            return [error, EvidenceItem("aws.account", self.account_id, data)]
        data["trails"] = self.trails
        return [EvidenceItem("aws.account", self.account_id, data)]


class Collection:
    def __init__(
        self, boto3: Any, settings: AwsSettings, context: CollectContext, all_kinds: frozenset[str], max_workers: int
    ) -> None:
        self.settings = settings
        self.context = context
        self.all_kinds = all_kinds
        self.max_workers = max_workers
        self.factory = ClientFactory(boto3, settings, context, pool_size=max_workers * 2)

    def run(self) -> Iterator[Record]:
        scope = discover_accounts(self.factory, self.settings)
        if scope.members_unknown:
            for kind in sorted(self.all_kinds):
                yield CollectionError(kind, f"organization: member accounts not collected: {scope.members_unknown}")
        for account_id, reason in sorted(scope.unreachable.items()):
            for kind in sorted(self.all_kinds):
                yield CollectionError(kind, f"{account_id}/global: {reason}")
        self.context.progress(f"aws: {len(scope.accounts)} account(s) in scope")
        parts = {a.account_id: _AccountParts(a.account_id) for a in scope.accounts}
        with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="annexa-aws") as pool:
            pending: dict[Future[Any], tuple[str, Account]] = {}
            for account in scope.accounts:
                pending[pool.submit(enabled_regions, self.factory, account, self.settings)] = ("regions", account)
                pending[pool.submit(collect_iam, self.factory, account)] = ("iam", account)
                pending[pool.submit(collect_buckets, self.factory, account, self.settings.regions)] = ("s3", account)
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task, account = pending.pop(future)
                    part = parts[account.account_id]
                    if task == "regions":
                        yield from self._regions_done(pool, pending, future, account, part)
                    elif task == "iam":
                        part.facts, records = future.result()
                        yield from records
                    elif task == "trails":
                        records, part.trails = future.result()
                        part.trails_done = True
                        yield from records
                    else:
                        yield from future.result()
                    if part.ready():
                        yield from part.records()

    def _regions_done(
        self,
        pool: ThreadPoolExecutor,
        pending: dict[Future[Any], tuple[str, Account]],
        future: Future[Any],
        account: Account,
        part: _AccountParts,
    ) -> Iterator[Record]:
        try:
            regions: list[str] = future.result()
        except aws_exceptions() as exc:
            reason = f"{account.account_id}/{self.factory.home_region}: DescribeRegions: {error_text(exc)}"
            part.trails_done = True  # trails stay None: unknown, never "none"
            yield CollectionError("aws.cloudtrail.trail", reason)
            for kind, _ in REGIONAL:
                yield CollectionError(kind, reason)
            return
        self.context.progress(f"aws {account.account_id}: {len(regions)} region(s)")
        pending[pool.submit(collect_trails, self.factory, account, regions)] = ("trails", account)
        for region in regions:
            for kind, collector in REGIONAL:
                pending[pool.submit(_guarded, kind, collector, self.factory, account, region)] = (kind, account)
