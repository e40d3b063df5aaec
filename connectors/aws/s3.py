"""S3 buckets with their configuration, each read through a client in the bucket's own region."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from connectors.base import CollectionError, EvidenceItem

from .iam import statements
from .session import Account, ClientFactory, aws_exceptions, error_code, error_text, paginate, plain
from .unknown import Unknowns

BUCKET_WORKERS = 8
# What GetBucketPolicy alone tells about a bucket.
POLICY_FIELDS = ("policy", "policy_statements")

# Error codes that mean "this configuration is not set", which is a fact (null), not a failure.
_ABSENT = {
    "get_public_access_block": "NoSuchPublicAccessBlockConfiguration",
    "get_bucket_encryption": "ServerSideEncryptionConfigurationNotFoundError",
    "get_bucket_policy_status": "NoSuchBucketPolicy",
    "get_bucket_policy": "NoSuchBucketPolicy",
    "get_bucket_lifecycle_configuration": "NoSuchLifecycleConfiguration",
    "get_object_lock_configuration": "ObjectLockConfigurationNotFoundError",
}


class Unknown:
    """Marks a fact that could not be read (None already means "not configured")."""


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


def _policy(s3: Any, name: str) -> dict[str, Any]:
    text = _optional(s3, "get_bucket_policy", "Policy", name)
    policy = json.loads(text) if text else None
    return {"policy": policy, "policy_statements": statements(policy) if policy else []}


def _bucket_item(
    factory: ClientFactory,
    account: Account,
    bucket: dict[str, Any],
    region: str,
    account_block: dict[str, Any] | Unknown | None,
    unknowns: Unknowns,
) -> EvidenceItem:
    """One bucket; each configuration read on its own, a failed one left out (see unknown.py)."""
    name = bucket["Name"]
    s3 = factory.client(account, "s3", region)
    scope, subject = f"{account.account_id}/{region}", f"bucket {name}"
    data: dict[str, Any] = {
        "name": name,
        "arn": f"arn:{account.partition}:s3:::{name}",
        "account_id": account.account_id,
        "region": region,
        "creation_date": plain(bucket.get("CreationDate")),
    }
    if not isinstance(account_block, Unknown):
        data["account_public_access_block"] = account_block
    details: tuple[tuple[str, str, Callable[[], Any]], ...] = (
        (
            "public_access_block",
            "GetPublicAccessBlock",
            lambda: plain(_optional(s3, "get_public_access_block", "PublicAccessBlockConfiguration", name)),
        ),
        (
            "encryption",
            "GetBucketEncryption",
            lambda: plain(_optional(s3, "get_bucket_encryption", "ServerSideEncryptionConfiguration", name)),
        ),
        ("versioning", "GetBucketVersioning", lambda: _versioning(s3, name)),
        ("logging", "GetBucketLogging", lambda: plain(s3.get_bucket_logging(Bucket=name).get("LoggingEnabled"))),
        (
            "policy_status",
            "GetBucketPolicyStatus",
            lambda: plain(_optional(s3, "get_bucket_policy_status", "PolicyStatus", name)),
        ),
        # Per bucket, like the calls above: lifecycle rules and Object Lock have no account- or region-wide
        # call, and the bucket's tags come with them rather than from a second API (Resource Groups Tagging).
        ("tags", "GetBucketTagging", lambda: _tags(s3, name)),
        (
            "lifecycle",
            "GetBucketLifecycleConfiguration",
            lambda: plain(_optional(s3, "get_bucket_lifecycle_configuration", "Rules", name)),
        ),
        (
            "object_lock",
            "GetObjectLockConfiguration",
            lambda: plain(_optional(s3, "get_object_lock_configuration", "ObjectLockConfiguration", name)),
        ),
    )
    for field, call, read in details:
        unknowns.read(data, field, read, scope=scope, call=call, subject=subject)
    failures: tuple[type[BaseException], ...] = (*aws_exceptions(), ValueError)  # ValueError: policy not JSON
    try:
        data.update(_policy(s3, name))
    except failures as exc:
        unknowns.add(scope, "GetBucketPolicy", POLICY_FIELDS, subject, exc)
    return EvidenceItem("aws.s3.bucket", data["arn"], data)


def _tags(s3: Any, name: str) -> dict[str, str]:
    """The bucket's tags as a map; NoSuchTagSet is S3's answer for a bucket without tags."""
    try:
        tag_set = s3.get_bucket_tagging(Bucket=name).get("TagSet") or []
    except aws_exceptions() as exc:
        if error_code(exc) != "NoSuchTagSet":
            raise
        return {}
    return {t["Key"]: t["Value"] for t in tag_set}


def _versioning(s3: Any, name: str) -> dict[str, Any]:
    versioning = s3.get_bucket_versioning(Bucket=name)
    return {"Status": versioning.get("Status"), "MFADelete": versioning.get("MFADelete")}


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
    by either level; if it cannot be read it is left out of every bucket (and named in the error).
    """
    s3 = factory.client(account, "s3")
    scope = f"{account.account_id}/global"
    try:
        buckets = list(paginate(s3, "list_buckets", "Buckets"))
    except aws_exceptions() as exc:
        return [CollectionError("aws.s3.bucket", f"{scope}: {error_text(exc)}")]
    records: list[EvidenceItem | CollectionError] = []
    account_block: dict[str, Any] | Unknown | None
    try:
        account_block = account_public_access_block(factory, account)
    except aws_exceptions() as exc:
        account_block = Unknown()
        reason = f"{scope}: GetPublicAccessBlock (account_public_access_block unknown): {error_text(exc)}"
        records.append(CollectionError("aws.s3.bucket", reason, ("account_public_access_block",)))
    unknowns = Unknowns("aws.s3.bucket")

    def one(bucket: dict[str, Any]) -> EvidenceItem | CollectionError | None:
        name = bucket["Name"]
        try:
            region = bucket.get("BucketRegion") or bucket_region(
                s3.get_bucket_location(Bucket=name).get("LocationConstraint")
            )
        except aws_exceptions() as exc:
            # Without its region the bucket can be neither placed in scope nor read: a missing item.
            return CollectionError("aws.s3.bucket", f"{scope}: bucket {name}: GetBucketLocation: {error_text(exc)}")
        if regions is not None and region not in regions:
            return None
        return _bucket_item(factory, account, bucket, region, account_block, unknowns)

    with ThreadPoolExecutor(max_workers=BUCKET_WORKERS) as pool:
        records.extend(r for r in pool.map(one, buckets) if r is not None)
    return [*records, *unknowns.errors()]
