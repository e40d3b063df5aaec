"""The AWS connector through boto3's real HTTP path against moto (server mode)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from stub import Stub

from collector.testing import collect_items, evaluate_connector_checks
from connectors.aws import AwsConnector
from connectors.aws import iam as aws_iam
from connectors.aws import session as aws_session
from connectors.base import CollectionError, ConnectorError, EvidenceItem

from .aws_estate import BAD, GOOD, MANAGEMENT, ROLE, Estate, access_analyzer, security_hub, seed_all
from .aws_moto import FaultyMoto

REGIONS = [GOOD, BAD]


@pytest.fixture(scope="module")
def faulty_moto(moto_server: str) -> Iterator[FaultyMoto]:
    server = FaultyMoto()
    yield server
    server.stop()


@pytest.fixture
def moto(faulty_moto: FaultyMoto, monkeypatch: pytest.MonkeyPatch, stub: Stub) -> FaultyMoto:
    """A fresh moto state behind the fault injector; Access Analyzer (absent from moto) and Security Hub
    (moto lacks GetEnabledStandards and GetFindings filters) imitated."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # read by the in-process server: faster regions
    faulty_moto.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", faulty_moto.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_ACCESSANALYZER", access_analyzer(stub))
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECURITYHUB", security_hub(stub))
    import botocore.retries.standard as std

    # botocore's jittered backoff would sleep seconds per retry; the retry decisions stay real.
    monkeypatch.setattr(std.ExponentialBackoff, "delay_amount", lambda self, ctx: 0)
    monkeypatch.setattr(aws_iam, "REPORT_POLL_SECONDS", 0.01)  # moto answers STARTED once, then COMPLETE
    return faulty_moto


@pytest.fixture
def estate(moto: FaultyMoto) -> Estate:
    seeded = seed_all()
    moto.clear_calls()
    return seeded


def items_of(records: list[Any], kind: str) -> dict[str, dict[str, Any]]:
    return {r.id: r.data for r in records if isinstance(r, EvidenceItem) and r.kind == kind}


def errors_of(records: list[Any]) -> list[CollectionError]:
    return [r for r in records if isinstance(r, CollectionError)]


def test_collects_every_kind_across_two_regions_and_the_organization(estate: Estate) -> None:
    records = collect_items(AwsConnector, {"regions": REGIONS, "accounts_role": ROLE})
    assert errors_of(records) == []

    accounts = items_of(records, "aws.account")
    assert set(accounts) == {MANAGEMENT, estate.member}
    management, member = accounts[MANAGEMENT], accounts[estate.member]
    assert management["password_policy"] is None  # NoSuchEntity -> null
    assert member["password_policy"]["MinimumPasswordLength"] == 16
    assert management["s3_public_access_block"] is None
    # S3 Control works with an endpoint override (account-id host prefix stripped)
    assert member["s3_public_access_block"]["RestrictPublicBuckets"] is True
    assert management["credential_report_generated_at"].endswith("Z")
    assert {t["Name"] for t in management["trails"]} == {"org-trail", "local-trail"}
    assert member["trails"] == []
    assert management["root"] is None  # moto's report has no root row; real AWS has one

    users = items_of(records, "aws.iam.user")
    assert set(users) >= {estate.ids[n] for n in ("alice", "bob", "carol", "dave")}
    assert f"arn:aws:iam::{estate.member}:user/member-user" in users  # reached by AssumeRole
    alice, carol = users[estate.ids["alice"]], users[estate.ids["carol"]]
    assert alice["password_enabled"] is True and len(alice["mfa_devices"]) == 1
    assert alice["groups"] == ["readers"]
    assert carol["password_enabled"] is False and carol["mfa_devices"] == []
    assert [k["Status"] for k in carol["access_keys"]] == ["Active"]
    assert carol["access_keys"][0]["CreateDate"].endswith("Z")
    dave = users[estate.ids["dave"]]
    assert dave["attached_policies"] == [{"PolicyName": "full-admin", "PolicyArn": estate.ids["full-admin"]}]
    assert dave["inline_policies"][0]["statements"][0]["Action"] == ["*"]

    policies = items_of(records, "aws.iam.policy")
    assert policies[estate.ids["s3-read"]]["statements"][0]["Action"] == ["s3:GetObject"]
    assert policies[estate.ids["s3-read"]]["statements"][0]["Resource"] == ["*"]

    buckets = items_of(records, "aws.s3.bucket")
    closed, opened = buckets[estate.ids["closed-bucket"]], buckets[estate.ids["open-bucket"]]
    assert closed["region"] == BAD and opened["region"] == GOOD
    assert closed["versioning"]["Status"] == "Enabled" and opened["versioning"]["Status"] is None
    assert opened["encryption"] is None and opened["public_access_block"] is None and opened["policy"] is None
    assert closed["encryption"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"

    trails = items_of(records, "aws.cloudtrail.trail")
    assert set(trails) == {estate.ids["org-trail"], estate.ids["local-trail"]}  # deduplicated across regions
    assert trails[estate.ids["org-trail"]]["IsLogging"] is True
    assert trails[estate.ids["local-trail"]]["region"] == BAD

    config = items_of(records, "aws.config.region")
    assert config[f"{MANAGEMENT}/{GOOD}"]["recorders"][0]["status"]["recording"] is True
    assert config[f"{MANAGEMENT}/{BAD}"]["recorders"] == []
    assert set(config) == {f"{a}/{r}" for a in (MANAGEMENT, estate.member) for r in REGIONS}
    guardduty = items_of(records, "aws.guardduty.region")
    assert [d["Status"] for d in guardduty[f"{MANAGEMENT}/{BAD}"]["detectors"]] == ["DISABLED"]
    ebs = items_of(records, "aws.ec2.region")
    assert ebs[f"{MANAGEMENT}/{GOOD}"]["EbsEncryptionByDefault"] is True
    assert ebs[f"{MANAGEMENT}/{BAD}"]["EbsEncryptionByDefault"] is False

    vpcs = items_of(records, "aws.ec2.vpc")
    assert len(vpcs[estate.ids["vpc-good"]]["flow_logs"]) == 1 and vpcs[estate.ids["vpc-bad"]]["flow_logs"] == []
    groups = items_of(records, "aws.ec2.security_group")
    assert groups[estate.ids["ssh-open"]]["IpPermissions"][0]["FromPort"] == 22
    keys = items_of(records, "aws.kms.key")
    assert keys[estate.ids["key-rotated"]]["rotation_enabled"] is True
    assert keys[estate.ids["key-unrotated"]]["rotation_enabled"] is False
    assert keys[estate.ids["key-signing"]]["rotation_enabled"] is None
    dbs = items_of(records, "aws.rds.instance")
    assert dbs[estate.ids["db-bad"]]["PubliclyAccessible"] is True and dbs[estate.ids["db-bad"]]["region"] == BAD
    analyzers = items_of(records, "aws.accessanalyzer.region")
    assert (
        analyzers[f"{MANAGEMENT}/{GOOD}"]["analyzers"][0]["active_findings"][0]["resource"]
        == "arn:aws:s3:::open-bucket"
    )


def test_only_read_operations_are_sent(estate: Estate, moto: FaultyMoto) -> None:
    collect_items(AwsConnector, {"regions": REGIONS, "accounts_role": ROLE})
    calls = moto.calls()
    assert len(calls) > 50
    read = ("Get", "List", "Describe", "GenerateCredentialReport", "AssumeRole")
    writes = [c for c in calls if c.protocol != "rest" and not c.operation.startswith(read)]
    # AWS Account Management answers every operation, reads included, to a POST (POST /getAlternateContact).
    rest_reads = ("POST /get", "POST /list")
    writes += [
        c
        for c in calls
        if c.protocol == "rest" and c.method not in ("GET", "HEAD") and not c.operation.startswith(rest_reads)
    ]
    assert writes == []
    # S3 calls for a bucket go to the bucket's own region
    closed = {
        c.region
        for c in calls
        if c.service == "s3" and "closed-bucket" in c.operation and not c.operation.endswith("?location")
    }
    assert closed == {BAD}


def test_throttled_calls_are_retried(estate: Estate, moto: FaultyMoto) -> None:
    moto.throttle("ListMFADevices", 3)  # query protocol (IAM)
    moto.throttle_json("ListKeys", 2)  # JSON protocol (KMS)
    moto.throttle("DescribeSecurityGroups", 2, region=BAD)
    records = collect_items(AwsConnector, {"regions": REGIONS})
    assert errors_of(records) == []
    assert len(items_of(records, "aws.kms.key")) == 4
    assert estate.ids["all-open-v6"] in items_of(records, "aws.ec2.security_group")
    ops = [c.operation for c in moto.calls()]
    assert ops.count("ListKeys") == 2 + 2  # two regions, two throttled attempts retried


def test_throttling_past_max_attempts_becomes_that_kinds_error(estate: Estate, moto: FaultyMoto) -> None:
    moto.throttle("DescribeVpcs", 100, region=BAD)
    records = collect_items(AwsConnector, {"regions": REGIONS, "max_attempts": 3})
    errors = errors_of(records)
    assert [(e.kind, e.message.split(":")[0]) for e in errors] == [("aws.ec2.vpc", f"{MANAGEMENT}/{BAD}")]
    assert "Throttling" in errors[0].message
    assert set(items_of(records, "aws.ec2.vpc")) == {estate.ids["vpc-good"]}  # GOOD still collected
    attempts = [c.region for c in moto.calls() if c.operation == "DescribeVpcs"]
    assert (attempts.count(GOOD), attempts.count(BAD)) == (1, 3)


def test_permission_denial_is_recorded_for_that_kind_and_region(estate: Estate, moto: FaultyMoto) -> None:
    moto.deny("GET /detector", region=BAD)  # GuardDuty ListDetectors (REST JSON protocol)
    moto.deny("GetAccountPasswordPolicy")
    records = collect_items(AwsConnector, {"regions": REGIONS})
    errors = {e.kind: (e.message, e.fields) for e in errors_of(records)}
    assert errors == {
        # the list could not be read: the whole kind is in doubt for that region
        "aws.guardduty.region": (
            f"{MANAGEMENT}/{BAD}: AccessDeniedException not authorized to perform GET /detector",
            None,
        ),
        # one fact of the account could not be read: only that field is unknown
        "aws.account": (
            f"{MANAGEMENT}/global: GetAccountPasswordPolicy (password_policy unknown): "
            "AccessDenied not authorized to perform GetAccountPasswordPolicy",
            ("password_policy",),
        ),
    }
    assert set(items_of(records, "aws.guardduty.region")) == {f"{MANAGEMENT}/{GOOD}"}
    account = items_of(records, "aws.account")[MANAGEMENT]
    assert "password_policy" not in account  # left out, never null ("no policy" is a fact)
    assert account["account_summary"]["AccountMFAEnabled"] == 0 and account["trails"]
    assert len(items_of(records, "aws.iam.user")) == 4  # other kinds unaffected


# Detail calls an independent imitation might not implement, answered with a bare 404, and the
# fields each one leaves unknown (left out of the items, named in the field-scoped error).
MISSING_DETAILS = {
    "GetAccountSummary": ("aws.account", ("account_summary",)),
    "ListMFADevices": ("aws.iam.user", ("mfa_devices",)),
    "GetAccessKeyLastUsed": ("aws.iam.user", ()),  # nested: each key's LastUsed* keys
    "GET /*?logging": ("aws.s3.bucket", ("logging",)),
    "GET /v20180820/configuration/publicAccessBlock": ("aws.s3.bucket", ("account_public_access_block",)),
    # (the same S3 Control call also feeds aws.account: see ALSO_UNKNOWN)
    "GetTrailStatus": ("aws.cloudtrail.trail", ("IsLogging", "status")),
    "DescribeConfigurationRecorderStatus": ("aws.config.region", ()),  # nested: each recorder's status
    "DescribeFlowLogs": ("aws.ec2.vpc", ("flow_logs",)),
    "GetKeyRotationStatus": ("aws.kms.key", ("rotation_enabled", "rotation_period_days")),
    "GET /*?tagging": ("aws.s3.bucket", ("tags",)),
    "GET /*?lifecycle": ("aws.s3.bucket", ("lifecycle",)),
    "GET /*?object-lock": ("aws.s3.bucket", ("object_lock",)),
    "POST /getAlternateContact": ("aws.account", ("security_contact",)),
    "DescribeListeners": ("aws.elbv2.load_balancer", ("listeners",)),
}
ALSO_UNKNOWN = {("aws.account", ("s3_public_access_block",))}
# The checks reading what those calls return; every other check must keep its verdict.
# (aws.config.recorder_enabled reads a recorder's status too, but BAD has no recorder at all: a real fail.)
READ_THE_MISSING_DETAILS = {
    "aws.account.root_mfa_enabled",
    "aws.account.root_access_keys_absent",
    "aws.account.root_hardware_mfa",
    "aws.account.s3_public_access_blocked",
    "aws.iam.user_mfa_enabled",
    "aws.iam.unused_credentials_disabled",
    "aws.s3.bucket_access_logging_enabled",
    "aws.s3.bucket_public_access_blocked",
    "aws.cloudtrail.multi_region_logging",
    "aws.ec2.vpc_flow_logs_enabled",
    "aws.kms.key_rotation_enabled",
    "aws.s3.bucket_classification_tagged",
    "aws.s3.bucket_lifecycle_expiration_where_required",
    "aws.account.security_contact_registered",
    "aws.elbv2.listener_tls_secure",
    "aws.s3.bucket_object_lock_where_required",
}


def test_missing_detail_endpoints_leave_only_the_checks_reading_them_in_error(estate: Estate, moto: FaultyMoto) -> None:
    settings = {"regions": REGIONS}
    now = datetime.now(UTC)
    baseline = {
        k: r.status
        for k, r in evaluate_connector_checks(AwsConnector, collect_items(AwsConnector, settings), now=now).items()
    }
    for operation in MISSING_DETAILS:
        moto.not_found(operation)
    records = collect_items(AwsConnector, settings)

    errors = errors_of(records)
    assert {(e.kind, e.fields) for e in errors} == set(MISSING_DETAILS.values()) | ALSO_UNKNOWN
    assert all(e.message.endswith(("404 Not Found", "implement this call?)")) for e in errors)
    assert all(" unknown)" in e.message for e in errors)
    assert not any(e.message.count(",") > 8 for e in errors)  # grouped: at most 5 resources named
    # every item is still there, with the unknown facts left out
    users = items_of(records, "aws.iam.user")
    assert len(users) == 4 and all("mfa_devices" not in u for u in users.values())
    carol_key = users[estate.ids["carol"]]["access_keys"][0]
    assert carol_key["Status"] == "Active" and "LastUsedDate" not in carol_key
    buckets = items_of(records, "aws.s3.bucket")
    assert buckets and all("logging" not in b and "account_public_access_block" not in b for b in buckets.values())
    assert buckets[estate.ids["closed-bucket"]]["encryption"] is not None
    trail = items_of(records, "aws.cloudtrail.trail")[estate.ids["org-trail"]]
    assert "IsLogging" not in trail and trail["LogFileValidationEnabled"] is True

    results = evaluate_connector_checks(AwsConnector, records, now=now)
    assert {k for k, r in results.items() if r.status == "error"} == READ_THE_MISSING_DETAILS
    kept = {k: r.status for k, r in results.items() if k not in READ_THE_MISSING_DETAILS}
    assert kept == {k: v for k, v in baseline.items() if k not in READ_THE_MISSING_DETAILS}
    # the fixed checks over the same kinds keep real verdicts, failing ones included
    assert results["aws.s3.bucket_encrypted"].failing == [estate.ids["open-bucket"]]
    assert results["aws.iam.access_keys_rotated"].status == "pass"
    assert results["aws.cloudtrail.log_file_validation_enabled"].failing == [estate.ids["local-trail"]]
    assert results["aws.account.password_policy_strong"].failing == [MANAGEMENT]
    assert results["aws.config.recorder_all_resources"].status == baseline["aws.config.recorder_all_resources"]
    recorders = {f.resource: f.status for f in results["aws.config.recorder_enabled"].findings}
    assert recorders == {f"{MANAGEMENT}/{GOOD}": "error", f"{MANAGEMENT}/{BAD}": "fail"}


def test_an_unreadable_credential_report_leaves_the_live_facts_usable(estate: Estate, moto: FaultyMoto) -> None:
    moto.not_found("GenerateCredentialReport")
    records = collect_items(AwsConnector, {"regions": [GOOD]})
    errors = {(e.kind, e.fields) for e in errors_of(records)}
    assert errors == {
        ("aws.account", ("root", "root_password_last_used", "credential_report_generated_at")),
        ("aws.iam.user", ("password_last_used", "credential_report", "credential_report_generated_at")),
    }
    users = items_of(records, "aws.iam.user")
    alice, carol = users[estate.ids["alice"]], users[estate.ids["carol"]]
    # console passwords asked live (GetLoginProfile) instead
    assert alice["password_enabled"] is True and carol["password_enabled"] is False
    assert "password_last_used" not in alice
    results = evaluate_connector_checks(AwsConnector, records)
    assert results["aws.iam.user_mfa_enabled"].failing == [estate.ids["bob"]]
    assert results["aws.account.root_mfa_enabled"].failing == [MANAGEMENT]
    assert results["aws.iam.unused_credentials_disabled"].status == "error"
    assert results["aws.account.root_not_used_recently"].status == "error"


def test_unsupported_service_is_that_kinds_error(estate: Estate, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_ACCESSANALYZER")  # moto has no Access Analyzer: HTTP 500
    records = collect_items(AwsConnector, {"regions": [GOOD], "max_attempts": 1})
    errors = errors_of(records)
    assert [(e.kind, e.message[:27]) for e in errors] == [("aws.accessanalyzer.region", f"{MANAGEMENT}/{GOOD}: 500")]
    assert items_of(records, "aws.s3.bucket") and items_of(records, "aws.config.region")


def test_member_accounts_are_listed_across_pages(estate: Estate, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    org = boto3.client("organizations", region_name=GOOD)
    extra = {
        org.create_account(AccountName=f"acct{i}", Email=f"a{i}@example.com")["CreateAccountStatus"]["AccountId"]
        for i in range(3)
    }
    monkeypatch.setitem(aws_session.PAGE_SIZES, "list_accounts", 2)  # 5 accounts -> 3 pages
    records = collect_items(AwsConnector, {"regions": [GOOD], "accounts_role": ROLE})
    assert set(items_of(records, "aws.account")) == {MANAGEMENT, estate.member, *extra}


def test_unreachable_member_account_is_an_error_for_every_kind(estate: Estate, moto: FaultyMoto) -> None:
    moto.deny("AssumeRole")
    records = collect_items(AwsConnector, {"regions": [GOOD], "accounts_role": ROLE})
    errors = errors_of(records)
    assert {e.kind for e in errors} == AwsConnector.kind_names()
    assert all(e.message.startswith(f"{estate.member}/global: AssumeRole") for e in errors)
    assert set(items_of(records, "aws.account")) == {MANAGEMENT}


def test_an_unlistable_organization_costs_the_member_accounts_not_the_callers_evidence(
    estate: Estate, moto: FaultyMoto
) -> None:
    moto.server_error("ListAccounts")
    records = collect_items(AwsConnector, {"regions": [GOOD], "accounts_role": ROLE, "max_attempts": 2})
    errors = errors_of(records)
    assert {e.kind for e in errors} == AwsConnector.kind_names()
    assert all(
        e.message.startswith("organization: member accounts not collected: organizations ListAccounts: InternalError")
        for e in errors
    ), errors[0].message
    assert set(items_of(records, "aws.account")) == {MANAGEMENT}  # the caller's own account is still collected


def test_an_unidentifiable_caller_stops_the_connector_with_one_line(estate: Estate, moto: FaultyMoto) -> None:
    moto.server_error("GetCallerIdentity")
    with pytest.raises(ConnectorError) as stopped:
        collect_items(AwsConnector, {"regions": [GOOD], "max_attempts": 2})
    assert str(stopped.value).startswith("aws: cannot identify the caller (sts GetCallerIdentity): InternalError")
    assert "\n" not in str(stopped.value)


def test_default_regions_come_from_describe_regions(moto: FaultyMoto) -> None:
    from datetime import UTC, datetime

    import boto3

    from connectors.aws.scope import enabled_regions
    from connectors.aws.session import Account, ClientFactory
    from connectors.aws.settings import AwsSettings
    from connectors.base import CollectContext

    context = CollectContext(run_id="r", started_at=datetime.now(UTC))
    factory = ClientFactory(boto3, AwsSettings(), context, pool_size=4)
    regions = enabled_regions(factory, Account(MANAGEMENT, "aws"), AwsSettings())
    assert {GOOD, BAD, "ap-southeast-2"} <= set(regions) and len(regions) > 10
    assert context.api_calls == 1
    assert [c.operation for c in moto.calls()] == ["DescribeRegions"]


def test_endpoint_url_setting_overrides_the_environment(
    estate: Estate, moto: FaultyMoto, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    records = collect_items(AwsConnector, {"regions": [GOOD], "endpoint_url": moto.url})
    assert MANAGEMENT in items_of(records, "aws.account")
    assert items_of(records, "aws.s3.bucket")


def test_settings_reject_unknown_keys_and_bad_values() -> None:
    from pydantic import ValidationError

    from connectors.aws.settings import AwsSettings

    with pytest.raises(ValidationError):
        AwsSettings.model_validate({"region": ["us-east-1"]})
    with pytest.raises(ValidationError):
        AwsSettings.model_validate({"regions": ["mars-1"]})
    with pytest.raises(ValidationError):
        AwsSettings.model_validate({"endpoint_url": "ftp://x"})
    assert AwsConnector.label(AwsSettings(profile="audit", accounts_role=ROLE)) == "aws:profile=audit:organization"


def test_package_import_does_not_import_boto3() -> None:
    import subprocess
    import sys

    code = "import sys, connectors.aws; assert not [m for m in sys.modules if m.startswith(('boto', 'botocore'))]"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- coverage kinds and fields (issue #15) ------------------------------------------------------------


def test_coverage_kinds_and_fields_are_collected(estate: Estate) -> None:
    records = collect_items(AwsConnector, {"regions": REGIONS, "accounts_role": ROLE})
    assert errors_of(records) == []
    accounts = items_of(records, "aws.account")
    assert accounts[MANAGEMENT]["security_contact"] == {
        "AlternateContactType": "SECURITY",
        "EmailAddress": "security@example.com",
        "Name": "Security team",
        "Title": "CSIRT",
    }  # the phone number is not kept
    assert accounts[estate.member]["security_contact"] is None  # ResourceNotFoundException -> null

    buckets = items_of(records, "aws.s3.bucket")
    closed, opened = buckets[estate.ids["closed-bucket"]], buckets[estate.ids["open-bucket"]]
    assert closed["tags"] == {"data-classification": "confidential", "retention": "7y", "records": "audit"}
    assert closed["lifecycle"][0]["Expiration"] == {"Days": 2557}
    assert closed["object_lock"]["ObjectLockEnabled"] == "Enabled"
    assert closed["object_lock"]["Rule"]["DefaultRetention"]["Days"] == 400
    assert opened["tags"] == {"retention": "30d"} and opened["object_lock"] is None  # not found -> null
    assert [r["Status"] for r in opened["lifecycle"]] == ["Enabled", "Disabled"]

    dbs = items_of(records, "aws.rds.instance")
    assert dbs[estate.ids["db-good"]]["MaxAllocatedStorage"] == 100
    assert dbs[estate.ids["db-good"]]["TagList"] == [{"Key": "data-classification", "Value": "internal"}]

    ssm = items_of(records, "aws.ssm.region")
    assert set(ssm) == {f"{a}/{r}" for a in (MANAGEMENT, estate.member) for r in REGIONS}
    assert ssm[f"{MANAGEMENT}/{GOOD}"]["session_preferences"]["s3BucketName"] == "open-bucket"
    assert ssm[f"{estate.member}/{GOOD}"]["session_preferences"] is None  # InvalidDocument -> null

    balancers = items_of(records, "aws.elbv2.load_balancer")
    assert set(balancers) == {estate.ids[n] for n in ("web-good", "internal-http", "web-plain", "web-old-tls")}
    good = balancers[estate.ids["web-good"]]
    assert good["region"] == GOOD and good["Scheme"] == "internet-facing"
    listeners = {lst["Protocol"]: lst for lst in good["listeners"]}
    assert listeners["HTTPS"]["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listeners["HTTP"]["DefaultActions"][0]["RedirectConfig"]["Protocol"] == "HTTPS"

    groups = items_of(records, "aws.logs.log_group")
    assert set(groups) == {estate.ids[n] for n in ("/aws/cloudtrail/org-trail", "/app/api", "CloudTrail/local-trail")}
    assert groups[estate.ids["/app/api"]]["retentionInDays"] is None  # absent in the answer: never expires
    assert groups[estate.ids["/aws/cloudtrail/org-trail"]]["retentionInDays"] == 400


# operation denied -> (kind, fields of the error or None for the whole kind, checks that must be `error`)
COVERAGE_DENIALS: dict[str, tuple[str, tuple[str, ...] | None, set[str]]] = {
    "POST /getAlternateContact": ("aws.account", ("security_contact",), {"aws.account.security_contact_registered"}),
    "GET /*?tagging": (
        "aws.s3.bucket",
        ("tags",),
        {"aws.s3.bucket_classification_tagged", "aws.s3.bucket_lifecycle_expiration_where_required"},
    ),
    "GET /*?lifecycle": ("aws.s3.bucket", ("lifecycle",), {"aws.s3.bucket_lifecycle_expiration_where_required"}),
    "GET /*?object-lock": ("aws.s3.bucket", ("object_lock",), {"aws.s3.bucket_object_lock_where_required"}),
    "GetDocument": ("aws.ssm.region", None, {"aws.ssm.session_logging_enabled"}),
    "DescribeLoadBalancers": ("aws.elbv2.load_balancer", None, {"aws.elbv2.listener_tls_secure"}),
    "DescribeListeners": ("aws.elbv2.load_balancer", ("listeners",), {"aws.elbv2.listener_tls_secure"}),
    "DescribeLogGroups": (
        "aws.logs.log_group",
        None,
        {"aws.logs.log_group_retention_set", "aws.logs.log_group_retention_meets_minimum"},
    ),
}
CALL_NAMES = {
    "POST /getAlternateContact": "GetAlternateContact",
    "GET /*?tagging": "GetBucketTagging",
    "GET /*?lifecycle": "GetBucketLifecycleConfiguration",
    "GET /*?object-lock": "GetObjectLockConfiguration",
}


@pytest.mark.parametrize("operation", sorted(COVERAGE_DENIALS))
def test_a_denied_coverage_call_makes_its_checks_error_never_pass(
    estate: Estate, moto: FaultyMoto, operation: str
) -> None:
    kind, fields, erroring = COVERAGE_DENIALS[operation]
    moto.deny(operation)
    records = collect_items(AwsConnector, {"regions": REGIONS})
    errors = errors_of(records)
    assert {(e.kind, e.fields) for e in errors} == {(kind, fields)}
    call = CALL_NAMES.get(operation, operation)
    for error in errors:
        assert error.message.startswith(f"{MANAGEMENT}/"), error.message
        assert call in error.message and "AccessDenied" in error.message, error.message
        if fields is not None:
            assert f"({', '.join(fields)} unknown)" in error.message
    if fields is not None:  # the items stay, with the field left out (never null)
        assert items_of(records, kind) and all(fields[0] not in d for d in items_of(records, kind).values())
    else:
        assert items_of(records, kind) == {}
    results = evaluate_connector_checks(AwsConnector, records)
    assert {c: results[c].status for c in erroring} == {c: "error" for c in erroring}
    assert all(f.status != "pass" for c in erroring for f in results[c].findings if f.resource)
    # a check over the same kind that does not read the field keeps its verdict
    if kind == "aws.s3.bucket":
        assert results["aws.s3.bucket_encrypted"].failing == [estate.ids["open-bucket"]]


def test_denied_tags_leave_object_lock_judged_for_trail_targets(estate: Estate, moto: FaultyMoto) -> None:
    moto.deny("GET /*?tagging")
    results = evaluate_connector_checks(AwsConnector, collect_items(AwsConnector, {"regions": REGIONS}))
    # both buckets receive a trail's logs: in scope without their tags, judged on their Object Lock
    verdicts = {f.resource: f.status for f in results["aws.s3.bucket_object_lock_where_required"].findings}
    assert verdicts == {estate.ids["open-bucket"]: "fail", estate.ids["closed-bucket"]: "pass"}


def test_load_balancers_and_log_groups_are_listed_across_pages(
    estate: Estate, moto: FaultyMoto, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(aws_session.PAGE_SIZES, "describe_load_balancers", 1)  # 2 per region -> 2 pages
    monkeypatch.setitem(aws_session.PAGE_SIZES, "describe_log_groups", 1)  # 2 in GOOD -> 2 pages
    # moto ignores PageSize on DescribeListeners (one page); the paginator is used all the same
    monkeypatch.setitem(aws_session.PAGE_SIZES, "describe_listeners", 1)
    records = collect_items(AwsConnector, {"regions": REGIONS})
    assert errors_of(records) == []
    assert len(items_of(records, "aws.elbv2.load_balancer")) == 4
    assert len(items_of(records, "aws.logs.log_group")) == 3
    assert len(items_of(records, "aws.elbv2.load_balancer")[estate.ids["web-good"]]["listeners"]) == 2
    ops = [(c.operation, c.region) for c in moto.calls()]
    assert ops.count(("DescribeLoadBalancers", GOOD)) == 2 and ops.count(("DescribeLoadBalancers", BAD)) == 2
    assert ops.count(("DescribeLogGroups", GOOD)) == 2 and ops.count(("DescribeLogGroups", BAD)) == 1
    # one DescribeListeners per load balancer: ELBv2 cannot list a region's listeners in one call
    assert [op for op, _ in ops].count("DescribeListeners") == 4


def _deny_on_stub(stub: Stub, method: str, path: str, action: str) -> None:
    body = {"Code": "AccessDeniedException", "Message": f"User is not authorized to perform: securityhub:{action}"}
    stub.fail(method, path, 403, times=100, headers={"x-amzn-ErrorType": "AccessDeniedException"}, body=body)


SECURITY_HUB_CHECKS = {
    "aws.securityhub.standard_enabled",
    "aws.securityhub.no_untriaged_high_findings",
    "aws.securityhub.failed_critical_controls_within_target",
    "aws.securityhub.high_findings_resolved_within_sla",
}


def test_security_hub_findings_and_standards_are_listed_across_pages(
    estate: Estate, stub: Stub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(aws_session.PAGE_SIZES, "get_findings", 2)  # 5 matching findings -> 3 pages
    monkeypatch.setitem(aws_session.PAGE_SIZES, "get_enabled_standards", 1)  # 3 standards -> 3 pages
    records = collect_items(AwsConnector, {"regions": REGIONS})
    assert errors_of(records) == []
    hub = items_of(records, "aws.securityhub.region")[f"{MANAGEMENT}/{GOOD}"]
    assert len(hub["high_findings"]) == 5 and len(hub["standards"]) == 3
    assert stub.count("POST", "/findings") == 3 and stub.count("POST", "/standards/get") == 3
    sent = next(r for r in stub.log if r.path == "/findings").json()
    assert sent["Filters"]["RecordState"] == [{"Value": "ACTIVE", "Comparison": "EQUALS"}]
    assert {c["Value"] for c in sent["Filters"]["SeverityLabel"]} == {"HIGH", "CRITICAL"}
    assert sent["Filters"]["AwsAccountId"] == [{"Value": MANAGEMENT, "Comparison": "EQUALS"}]
    assert sent["MaxResults"] == 2
    # Security Hub off (InvalidAccessException "not subscribed") is a fact, never an error
    off = items_of(records, "aws.securityhub.region")[f"{MANAGEMENT}/{BAD}"]
    assert off["hub"] is None and off["high_findings"] == []
    assert stub.count("POST", "/findings") == 3  # no findings asked where the hub is off


def test_a_denied_describe_hub_makes_every_security_hub_check_error(estate: Estate, stub: Stub) -> None:
    _deny_on_stub(stub, "GET", "/accounts", "DescribeHub")
    records = collect_items(AwsConnector, {"regions": REGIONS})
    errors = errors_of(records)
    assert [(e.kind, e.fields) for e in errors] == [("aws.securityhub.region", None)] * 2
    assert {e.message.split(":")[0] for e in errors} == {f"{MANAGEMENT}/{GOOD}", f"{MANAGEMENT}/{BAD}"}
    assert all("not authorized to perform: securityhub:DescribeHub" in e.message for e in errors)
    assert items_of(records, "aws.securityhub.region") == {}
    results = evaluate_connector_checks(AwsConnector, records)
    assert {c: results[c].status for c in SECURITY_HUB_CHECKS} == {c: "error" for c in SECURITY_HUB_CHECKS}


@pytest.mark.parametrize(
    ("path", "action", "field", "erroring"),
    [
        ("/findings", "GetFindings", "high_findings", SECURITY_HUB_CHECKS - {"aws.securityhub.standard_enabled"}),
        ("/standards/get", "GetEnabledStandards", "standards", {"aws.securityhub.standard_enabled"}),
    ],
)
def test_a_denied_security_hub_detail_leaves_only_its_checks_in_error(
    estate: Estate, stub: Stub, path: str, action: str, field: str, erroring: set[str]
) -> None:
    _deny_on_stub(stub, "POST", path, action)
    records = collect_items(AwsConnector, {"regions": REGIONS})
    errors = errors_of(records)
    assert [(e.kind, e.fields) for e in errors] == [("aws.securityhub.region", (field,))]
    assert errors[0].message.startswith(f"{MANAGEMENT}/{GOOD}: {action} ({field} unknown): AccessDeniedException")
    hub = items_of(records, "aws.securityhub.region")[f"{MANAGEMENT}/{GOOD}"]
    assert field not in hub and hub["hub"] is not None
    results = evaluate_connector_checks(AwsConnector, records)
    # the region whose detail is unknown errors (standard_enabled still fails overall: BAD has no hub)
    good = {c: {f.resource: f.status for f in results[c].findings}[f"{MANAGEMENT}/{GOOD}"] for c in erroring}
    assert good == {c: "error" for c in erroring}
    assert all(results[c].status in ("error", "fail") for c in erroring)
    kept = SECURITY_HUB_CHECKS - erroring
    assert {c: results[c].status for c in kept} == {c: "fail" for c in kept}  # still judged, still failing
