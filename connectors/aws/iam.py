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
from .unknown import Unknowns

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


ACCOUNT = "aws.account"
USER = "aws.iam.user"
# What the credential report alone tells; unknown (left out) when the report cannot be read.
ACCOUNT_REPORT_FIELDS = ("root", "root_password_last_used", "credential_report_generated_at")
USER_REPORT_FIELDS = ("password_last_used", "credential_report", "credential_report_generated_at")


def _password_policy(iam: Any) -> dict[str, Any] | None:
    try:
        return dict(plain(iam.get_account_password_policy()["PasswordPolicy"]))
    except aws_exceptions() as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        return None  # no policy set: AWS's default rules apply


def _root_virtual_mfa(iam: Any) -> list[str]:
    return [
        device["SerialNumber"]
        for device in paginate(iam, "list_virtual_mfa_devices", "VirtualMFADevices", AssignmentStatus="Assigned")
        if device["SerialNumber"].endswith(":mfa/root-account-mfa-device")
        or str(device.get("User", {}).get("Arn", "")).endswith(":root")
    ]


def _security_contact(factory: ClientFactory, account: Account) -> dict[str, Any] | None:
    """The account's SECURITY alternate contact; None when none is registered (ResourceNotFoundException)."""
    client = factory.client(account, "account")
    try:
        contact = client.get_alternate_contact(AlternateContactType="SECURITY")["AlternateContact"]
    except aws_exceptions() as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        return None
    # The phone number is personal data no check needs.
    return {k: contact.get(k) for k in ("AlternateContactType", "EmailAddress", "Name", "Title")}


def account_facts(
    factory: ClientFactory, account: Account, report: CredentialReport | None, unknowns: Unknowns
) -> dict[str, Any]:
    """Password policy, account summary, root row of the report, root virtual MFA, account S3 block,
    security contact.

    Each fact is read on its own: one that fails is left out (see unknown.py), the others stay.
    """
    from .s3 import account_public_access_block

    iam = factory.client(account, "iam")
    scope = f"{account.account_id}/global"
    data: dict[str, Any] = {"account_id": account.account_id, "partition": account.partition}
    facts: tuple[tuple[str, str, Callable[[], Any]], ...] = (
        ("password_policy", "GetAccountPasswordPolicy", lambda: _password_policy(iam)),
        ("account_summary", "GetAccountSummary", lambda: plain(iam.get_account_summary()["SummaryMap"])),
        ("root_virtual_mfa_devices", "ListVirtualMFADevices", lambda: _root_virtual_mfa(iam)),
        ("s3_public_access_block", "GetPublicAccessBlock", lambda: account_public_access_block(factory, account)),
        ("security_contact", "GetAlternateContact", lambda: _security_contact(factory, account)),
    )
    for field, call, read in facts:
        unknowns.read(data, field, read, scope=scope, call=call)
    if report is not None:
        root = report.root()
        data["root"] = dict(root) if root else None
        data["root_password_last_used"] = report_time(root.get("password_last_used")) if root else None
        data["credential_report_generated_at"] = report.generated_at
    return data


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


def _access_keys(iam: Any, name: str, unknowns: Unknowns, scope: str) -> list[dict[str, Any]]:
    keys = []
    for key in paginate(iam, "list_access_keys", "AccessKeyMetadata", UserName=name):
        entry = {"AccessKeyId": key["AccessKeyId"], "Status": key["Status"], "CreateDate": plain(key["CreateDate"])}
        try:
            used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"]).get("AccessKeyLastUsed", {})
        except aws_exceptions() as exc:
            # Only this key's last use is unknown: its LastUsed* keys are left out, CreateDate stays.
            unknowns.add(scope, "GetAccessKeyLastUsed", (), f"user {name}", exc)
        else:
            entry.update(
                LastUsedDate=plain(used.get("LastUsedDate")),
                LastUsedServiceName=used.get("ServiceName"),
                LastUsedRegion=used.get("Region"),
            )
        keys.append(entry)
    return keys


def _login_profile(iam: Any, name: str) -> tuple[bool, str | None]:
    """(password enabled, password created) asked live, for users the credential report does not know."""
    try:
        profile = iam.get_login_profile(UserName=name)["LoginProfile"]
    except aws_exceptions() as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        return False, None
    return True, plain(profile.get("CreateDate"))


def _user_item(
    factory: ClientFactory,
    account: Account,
    detail: dict[str, Any],
    report: CredentialReport | None,
    unknowns: Unknowns,
) -> EvidenceItem:
    iam = factory.client(account, "iam")
    scope = f"{account.account_id}/global"
    name, arn = detail["UserName"], detail["Arn"]
    subject = f"user {name}"
    data: dict[str, Any] = {
        "user": name,
        "arn": arn,
        "user_id": detail.get("UserId"),
        "path": detail.get("Path"),
        "create_date": plain(detail.get("CreateDate")),
        "account_id": account.account_id,
    }
    row = report.rows.get(arn) if report is not None else None
    if row is not None:
        data["password_enabled"] = row.get("password_enabled") == "true"
        data["password_last_changed"] = report_time(row.get("password_last_changed"))
    else:  # created after the cached report, or no report: ask IAM directly
        try:
            data["password_enabled"], data["password_last_changed"] = _login_profile(iam, name)
        except aws_exceptions() as exc:
            unknowns.add(scope, "GetLoginProfile", ("password_enabled", "password_last_changed"), subject, exc)
    if report is not None:
        data["password_last_used"] = report_time(row.get("password_last_used")) if row else None
        data["credential_report"] = dict(row) if row else None
        data["credential_report_generated_at"] = report.generated_at
    unknowns.read(
        data,
        "mfa_devices",
        lambda: [plain(d) for d in paginate(iam, "list_mfa_devices", "MFADevices", UserName=name)],
        scope=scope,
        call="ListMFADevices",
        subject=subject,
    )
    unknowns.read(
        data,
        "access_keys",
        lambda: _access_keys(iam, name, unknowns, scope),
        scope=scope,
        call="ListAccessKeys",
        subject=subject,
    )
    data.update(
        attached_policies=plain(detail.get("AttachedManagedPolicies") or []),
        inline_policies=[
            {"PolicyName": p["PolicyName"], "statements": statements(_document(p.get("PolicyDocument")))}
            for p in detail.get("UserPolicyList") or []
        ],
        groups=list(detail.get("GroupList") or []),
    )
    return EvidenceItem(USER, arn, data)


def _policy_item(account: Account, detail: dict[str, Any]) -> EvidenceItem:
    versions = detail.get("PolicyVersionList") or []
    default = next((v for v in versions if v.get("IsDefaultVersion")), None)
    document = _document(default.get("Document")) if default else {}
    data = {k: plain(v) for k, v in detail.items() if k != "PolicyVersionList"}
    data.update(account_id=account.account_id, document=document, statements=statements(document))
    return EvidenceItem("aws.iam.policy", detail["Arn"], data)


def collect_iam(
    factory: ClientFactory, account: Account
) -> tuple[dict[str, Any], list[EvidenceItem | CollectionError]]:
    """(account facts, users and policies and every error) for one account.

    The account facts come back separately because aws.account is completed with the trails later;
    their field-scoped errors are already among the records.
    """
    scope = f"{account.account_id}/global"
    iam = factory.client(account, "iam")
    records: list[EvidenceItem | CollectionError] = []
    report: CredentialReport | None = None
    try:
        report = fetch_credential_report(iam)
    except report_failures() as exc:
        reason = f"{scope}: credential report: {error_text(exc)}"
        records.append(CollectionError(ACCOUNT, reason, ACCOUNT_REPORT_FIELDS))
        records.append(CollectionError(USER, reason, USER_REPORT_FIELDS))
    account_unknowns = Unknowns(ACCOUNT)
    facts = account_facts(factory, account, report, account_unknowns)
    records.extend(account_unknowns.errors())
    users: list[dict[str, Any]] = []
    policies: list[EvidenceItem] = []
    try:
        for page in pages(iam, "get_account_authorization_details", Filter=["User", "LocalManagedPolicy"]):
            users.extend(page.get("UserDetailList") or [])
            policies.extend(_policy_item(account, p) for p in page.get("Policies") or [])
    except aws_exceptions() as exc:
        reason = f"{scope}: {error_text(exc)}"
        return facts, [*records, CollectionError(USER, reason), CollectionError("aws.iam.policy", reason)]
    records.extend(policies)
    user_unknowns = Unknowns(USER)
    with ThreadPoolExecutor(max_workers=USER_WORKERS) as pool:
        records.extend(pool.map(lambda d: _user_item(factory, account, d, report, user_unknowns), users))
    records.extend(user_unknowns.errors())
    return facts, records
