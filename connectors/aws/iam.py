"""Account-level IAM facts, the credential report, IAM users and customer-managed policies."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

from connectors.base import CollectionError, EvidenceItem

from .session import Account, ClientFactory, aws_exceptions, error_code, error_text, pages, paginate, plain

# The credential report is generated asynchronously; poll this often, this many times.
REPORT_POLL_SECONDS = 2.0
REPORT_POLL_ATTEMPTS = 60
USER_WORKERS = 8
ROOT_USER = "<root_account>"


class CredentialReport:
    """The parsed report: rows by ARN plus its generation time (AWS may serve one up to 4 hours old)."""

    def __init__(self, rows: dict[str, dict[str, str]], generated_at: str | None) -> None:
        self.rows = rows
        self.generated_at = generated_at

    def root(self) -> dict[str, str] | None:
        return next((row for row in self.rows.values() if row.get("user") == ROOT_USER), None)


def fetch_credential_report(iam: Any, sleep: Callable[[float], None] = time.sleep) -> CredentialReport:
    for _ in range(REPORT_POLL_ATTEMPTS):
        if iam.generate_credential_report().get("State") == "COMPLETE":
            break
        sleep(REPORT_POLL_SECONDS)
    else:
        raise TimeoutError("the IAM credential report did not complete in time")
    response = iam.get_credential_report()
    content = response["Content"]
    text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
    rows = {row["arn"]: row for row in csv.DictReader(io.StringIO(text))}
    return CredentialReport(rows, plain(response.get("GeneratedTime")))


def report_failures() -> tuple[type[BaseException], ...]:
    return (*aws_exceptions(), TimeoutError)


def report_time(value: str | None) -> str | None:
    """A credential-report timestamp as ISO-8601 Z; AWS's placeholders (N/A, no_information...) -> None."""
    if not value or not value[0].isdigit():
        return None
    return value.replace("+00:00", "Z")


def account_facts(factory: ClientFactory, account: Account, report: CredentialReport) -> dict[str, Any]:
    """Password policy, account summary, root row of the report, root virtual MFA, account S3 block."""
    iam = factory.client(account, "iam")
    try:
        password_policy = plain(iam.get_account_password_policy()["PasswordPolicy"])
    except aws_exceptions() as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        password_policy = None  # no policy set: AWS's default rules apply
    summary = iam.get_account_summary()["SummaryMap"]
    root_virtual_mfa = [
        device["SerialNumber"]
        for device in paginate(iam, "list_virtual_mfa_devices", "VirtualMFADevices", AssignmentStatus="Assigned")
        if device["SerialNumber"].endswith(":mfa/root-account-mfa-device")
        or str(device.get("User", {}).get("Arn", "")).endswith(":root")
    ]
    from .s3 import account_public_access_block

    account_block = account_public_access_block(factory, account)
    root = report.root()
    return {
        "account_id": account.account_id,
        "partition": account.partition,
        "password_policy": password_policy,
        "account_summary": plain(summary),
        "root": dict(root) if root else None,
        "root_virtual_mfa_devices": root_virtual_mfa,
        "root_password_last_used": report_time(root.get("password_last_used")) if root else None,
        "credential_report_generated_at": report.generated_at,
        "s3_public_access_block": account_block,
    }


def _document(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        raw = json.loads(unquote(raw))
    return dict(raw or {})


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Statements with Action/NotAction/Resource/NotResource always lists, so CEL can use `in`."""
    out = []
    for statement in _as_list(document.get("Statement")):
        entry = dict(statement)
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            entry[key] = _as_list(statement.get(key))
        entry.setdefault("Effect", "Allow")
        entry.setdefault("Condition", {})
        out.append(entry)
    return out


def _user_item(
    factory: ClientFactory, account: Account, detail: dict[str, Any], report: CredentialReport
) -> EvidenceItem:
    iam = factory.client(account, "iam")
    name, arn = detail["UserName"], detail["Arn"]
    mfa = [plain(d) for d in paginate(iam, "list_mfa_devices", "MFADevices", UserName=name)]
    keys = []
    for key in paginate(iam, "list_access_keys", "AccessKeyMetadata", UserName=name):
        used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"]).get("AccessKeyLastUsed", {})
        keys.append(
            {
                "AccessKeyId": key["AccessKeyId"],
                "Status": key["Status"],
                "CreateDate": plain(key["CreateDate"]),
                "LastUsedDate": plain(used.get("LastUsedDate")),
                "LastUsedServiceName": used.get("ServiceName"),
                "LastUsedRegion": used.get("Region"),
            }
        )
    row = report.rows.get(arn)
    if row is not None:
        password_enabled = row.get("password_enabled") == "true"
        password_last_changed = report_time(row.get("password_last_changed"))
    else:  # created after the cached report: ask IAM directly
        try:
            profile = iam.get_login_profile(UserName=name)["LoginProfile"]
            password_enabled, password_last_changed = True, plain(profile.get("CreateDate"))
        except aws_exceptions() as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            password_enabled, password_last_changed = False, None
    data = {
        "user": name,
        "arn": arn,
        "user_id": detail.get("UserId"),
        "path": detail.get("Path"),
        "create_date": plain(detail.get("CreateDate")),
        "account_id": account.account_id,
        "password_enabled": password_enabled,
        "password_last_used": report_time(row.get("password_last_used")) if row else None,
        "password_last_changed": password_last_changed,
        "mfa_devices": mfa,
        "access_keys": keys,
        "attached_policies": plain(detail.get("AttachedManagedPolicies") or []),
        "inline_policies": [
            {"PolicyName": p["PolicyName"], "statements": statements(_document(p.get("PolicyDocument")))}
            for p in detail.get("UserPolicyList") or []
        ],
        "groups": list(detail.get("GroupList") or []),
        "credential_report": dict(row) if row else None,
        "credential_report_generated_at": report.generated_at,
    }
    return EvidenceItem("aws.iam.user", arn, data)


def _policy_item(account: Account, detail: dict[str, Any]) -> EvidenceItem:
    versions = detail.get("PolicyVersionList") or []
    default = next((v for v in versions if v.get("IsDefaultVersion")), None)
    document = _document(default.get("Document")) if default else {}
    data = {k: plain(v) for k, v in detail.items() if k != "PolicyVersionList"}
    data.update(account_id=account.account_id, document=document, statements=statements(document))
    return EvidenceItem("aws.iam.policy", detail["Arn"], data)


def collect_iam(
    factory: ClientFactory, account: Account
) -> tuple[dict[str, Any] | CollectionError, list[EvidenceItem | CollectionError]]:
    """(account facts or their error, users and policies or their errors) for one account."""
    scope = f"{account.account_id}/global"
    iam = factory.client(account, "iam")
    try:
        report = fetch_credential_report(iam)
    except report_failures() as exc:
        reason = f"{scope}: credential report: {error_text(exc)}"
        return CollectionError("aws.account", reason), [CollectionError("aws.iam.user", reason)]
    try:
        facts: dict[str, Any] | CollectionError = account_facts(factory, account, report)
    except aws_exceptions() as exc:
        facts = CollectionError("aws.account", f"{scope}: {error_text(exc)}")
    records: list[EvidenceItem | CollectionError] = []
    users: list[dict[str, Any]] = []
    try:
        for page in pages(iam, "get_account_authorization_details", Filter=["User", "LocalManagedPolicy"]):
            users.extend(page.get("UserDetailList") or [])
            records.extend(_policy_item(account, p) for p in page.get("Policies") or [])
    except aws_exceptions() as exc:
        reason = f"{scope}: {error_text(exc)}"
        return facts, [CollectionError("aws.iam.user", reason), CollectionError("aws.iam.policy", reason)]
    try:
        with ThreadPoolExecutor(max_workers=USER_WORKERS) as pool:
            records.extend(pool.map(lambda d: _user_item(factory, account, d, report), users))
    except aws_exceptions() as exc:
        records = [r for r in records if r.kind != "aws.iam.user"]
        records.append(CollectionError("aws.iam.user", f"{scope}: {error_text(exc)}"))
    return facts, records
