"""Which accounts and regions a run covers: the caller's account, or the whole Organization."""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.base import ConnectorError

from .session import Account, ClientFactory, aws_exceptions, error_text, paginate
from .settings import AwsSettings


@dataclass
class Scope:
    accounts: list[Account]
    # account id -> "AssumeRole ..." reason, for member accounts that could not be reached
    unreachable: dict[str, str] = field(default_factory=dict)
    # why the Organization's member accounts could not be listed (None: listed, or not asked for)
    members_unknown: str | None = None


def discover_accounts(factory: ClientFactory, settings: AwsSettings) -> Scope:
    """The caller's account; with ``accounts_role`` every ACTIVE account of the Organization too.

    Without the caller's identity nothing can be attributed, so that failure stops the connector. An
    Organization that cannot be listed costs the member accounts, not the caller's own evidence: the
    reason is kept in ``members_unknown`` and reported against every kind, so the run is never complete.
    """
    try:
        identity = factory.client(None, "sts").get_caller_identity()
    except aws_exceptions() as exc:
        raise ConnectorError(f"aws: cannot identify the caller (sts GetCallerIdentity): {error_text(exc)}") from None
    caller_account = identity["Account"]
    partition = identity["Arn"].split(":")[1]
    own = Account(caller_account, partition)
    if not settings.accounts_role:
        return Scope([own])
    org = factory.client(None, "organizations")
    role_name = settings.accounts_role.split(":role/", 1)[-1]
    scope = Scope([own])
    try:
        # The whole list first: a page that fails must not leave a shorter Organization behind.
        members = list(paginate(org, "list_accounts", "Accounts"))
    except aws_exceptions() as exc:
        scope.members_unknown = f"organizations ListAccounts: {error_text(exc)}"
        return scope
    sts = factory.client(None, "sts")
    for entry in members:
        account_id = entry["Id"]
        if account_id == caller_account or entry.get("Status") != "ACTIVE":
            continue
        role_arn = f"arn:{partition}:iam::{account_id}:role/{role_name}"
        try:
            creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="annexa-audit")["Credentials"]
        except aws_exceptions() as exc:
            scope.unreachable[account_id] = f"AssumeRole {role_arn}: {error_text(exc)}"
            continue
        scope.accounts.append(
            Account(
                account_id,
                partition,
                {k: creds[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")},
            )
        )
    return scope


def enabled_regions(factory: ClientFactory, account: Account, settings: AwsSettings) -> list[str]:
    """The configured regions, else every region enabled for the account (opted-in or not requiring it)."""
    if settings.regions:
        return list(settings.regions)
    ec2 = factory.client(account, "ec2")
    regions = ec2.describe_regions(Filters=[{"Name": "opt-in-status", "Values": ["opt-in-not-required", "opted-in"]}])[
        "Regions"
    ]
    return sorted(r["RegionName"] for r in regions)
