"""S3 buckets with their configuration, each read through a client in the bucket's own region."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from connectors.base import CollectionError, EvidenceItem

from .iam import statements
from .session import Account, ClientFactory, aws_exceptions, error_code, error_text, paginate, plain

BUCKET_WORKERS = 8

# Error codes that mean "this configuration is not set", which is a fact (null), not a failure.
_ABSENT = {
    "get_public_access_block": "NoSuchPublicAccessBlockConfiguration",
    "get_bucket_encryption": "ServerSideEncryptionConfigurationNotFoundError",
    "get_bucket_policy_status": "NoSuchBucketPolicy",
    "get_bucket_policy": "NoSuchBucketPolicy",
}


def bucket_region(location: str | None) -> str:
    """GetBucketLocation's answer as a region name (null is us-east-1, the legacy EU is eu-west-1)."""
    if not location:
        return "us-east-1"
    return "eu-west-1" if location == "EU" else location


def _optional(client: Any, operation: str, key: str, bucket: str) -> Any:
    try:
        return getattr(client, operation)(Bucket=bucket).get(key)
    except aws_exceptions() as exc:
        if error_code(exc) == _ABSENT.get(operation):
            return None
        raise


def _bucket_item(
    factory: ClientFactory, account: Account, bucket: dict[str, Any], region: str, account_block: Any
) -> EvidenceItem:
    name = bucket["Name"]
    s3 = factory.client(account, "s3", region)
    versioning = s3.get_bucket_versioning(Bucket=name)
    policy_text = _optional(s3, "get_bucket_policy", "Policy", name)
    policy = json.loads(policy_text) if policy_text else None
    data = {
        "name": name,
        "arn": f"arn:{account.partition}:s3:::{name}",
        "account_id": account.account_id,
        "region": region,
        "creation_date": plain(bucket.get("CreationDate")),
        "public_access_block": plain(_optional(s3, "get_public_access_block", "PublicAccessBlockConfiguration", name)),
        "account_public_access_block": account_block,
        "encryption": plain(_optional(s3, "get_bucket_encryption", "ServerSideEncryptionConfiguration", name)),
        "versioning": {"Status": versioning.get("Status"), "MFADelete": versioning.get("MFADelete")},
        "logging": plain(s3.get_bucket_logging(Bucket=name).get("LoggingEnabled")),
        "policy_status": plain(_optional(s3, "get_bucket_policy_status", "PolicyStatus", name)),
        "policy": policy,
        "policy_statements": statements(policy) if policy else [],
    }
    return EvidenceItem("aws.s3.bucket", data["arn"], data)


def account_public_access_block(factory: ClientFactory, account: Account) -> dict[str, Any] | None:
    """The account-level S3 public access block (S3 Control), None when the account has none."""
    s3control = factory.client(account, "s3control")
    try:
        response = s3control.get_public_access_block(AccountId=account.account_id)
    except aws_exceptions() as exc:
        if error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
            raise
        return None
    return dict(plain(response["PublicAccessBlockConfiguration"]))


def collect_buckets(
    factory: ClientFactory, account: Account, regions: list[str] | None
) -> list[EvidenceItem | CollectionError]:
    """Every bucket of the account (restricted to ``regions`` when the user configured them).

    The account-level public access block is joined onto each bucket, because a bucket is protected
    by either level; if it cannot be read, no bucket is reported (its protection would be unknown).
    """
    s3 = factory.client(account, "s3")
    try:
        account_block = account_public_access_block(factory, account)
        buckets = list(paginate(s3, "list_buckets", "Buckets"))
    except aws_exceptions() as exc:
        return [CollectionError("aws.s3.bucket", f"{account.account_id}/global: {error_text(exc)}")]

    def one(bucket: dict[str, Any]) -> EvidenceItem | CollectionError | None:
        name = bucket["Name"]
        region = "global"
        try:
            region = bucket.get("BucketRegion") or bucket_region(
                s3.get_bucket_location(Bucket=name).get("LocationConstraint")
            )
            if regions is not None and region not in regions:
                return None
            return _bucket_item(factory, account, bucket, region, account_block)
        except aws_exceptions() as exc:
            return CollectionError("aws.s3.bucket", f"{account.account_id}/{region}: bucket {name}: {error_text(exc)}")

    with ThreadPoolExecutor(max_workers=BUCKET_WORKERS) as pool:
        return [r for r in pool.map(one, buckets) if r is not None]
