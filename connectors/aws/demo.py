"""A small simulated AWS estate for `annexa demo`: same kinds and shapes as collect(), no network."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from connectors.base import CollectionError, EvidenceItem

ACCOUNT = "111122223333"
GOOD, BAD = "eu-central-1", "us-east-1"
_ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
_FSBP = "aws-foundational-security-best-practices/v/1.0.0"
_ADMIN = [{"Effect": "Allow", "Action": ["*"], "NotAction": [], "Resource": ["*"], "NotResource": [], "Condition": {}}]


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _user(
    now: datetime,
    name: str,
    *,
    password: bool,
    mfa: bool,
    key_age: int | None,
    used_days_ago: int | None,
    admin: bool = False,
) -> EvidenceItem:
    arn = f"arn:aws:iam::{ACCOUNT}:user/{name}"
    created = now - timedelta(days=400)
    keys = []
    if key_age is not None:
        keys.append(
            {
                "AccessKeyId": f"AKIADEMO{name.upper():<12}"[:20].replace(" ", "X"),
                "Status": "Active",
                "CreateDate": _iso(now - timedelta(days=key_age)),
                "LastUsedDate": _iso(now - timedelta(days=used_days_ago)) if used_days_ago is not None else None,
                "LastUsedServiceName": "s3" if used_days_ago is not None else None,
                "LastUsedRegion": GOOD if used_days_ago is not None else None,
            }
        )
    data = {
        "user": name,
        "arn": arn,
        "user_id": f"AIDADEMO{name.upper()}",
        "path": "/",
        "create_date": _iso(created),
        "account_id": ACCOUNT,
        "password_enabled": password,
        "password_last_used": _iso(now - timedelta(days=used_days_ago))
        if password and used_days_ago is not None
        else None,
        "password_last_changed": _iso(created) if password else None,
        "mfa_devices": [
            {"UserName": name, "SerialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/{name}", "EnableDate": _iso(created)}
        ]
        if mfa
        else [],
        "access_keys": keys,
        "attached_policies": [
            {"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}
        ]
        if admin
        else [],
        "inline_policies": [],
        "groups": [] if admin else ["engineers"],
        "credential_report": None,
        "credential_report_generated_at": _iso(now - timedelta(hours=1)),
    }
    return EvidenceItem("aws.iam.user", arn, data)


def _bucket(
    name: str,
    region: str,
    *,
    block: bool,
    encrypted: bool,
    versioned: bool,
    tags: dict[str, str],
    lifecycle: list[dict[str, Any]] | None = None,
    lock_days: int | None = None,
) -> EvidenceItem:
    arn = f"arn:aws:s3:::{name}"
    data: dict[str, Any] = {
        "name": name,
        "arn": arn,
        "account_id": ACCOUNT,
        "region": region,
        "creation_date": "2024-03-01T09:00:00Z",
        "public_access_block": dict(_ALL_ON) if block else None,
        "account_public_access_block": None,
        "encryption": {
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}]
        }
        if encrypted
        else None,
        "versioning": {"Status": "Enabled" if versioned else None, "MFADelete": None},
        "logging": {"TargetBucket": "demo-logs", "TargetPrefix": f"{name}/"} if block else None,
        "policy_status": None,
        "policy": None,
        "policy_statements": [],
        "tags": tags,
        "lifecycle": lifecycle,
        "object_lock": {
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": lock_days}},
        }
        if lock_days is not None
        else None,
    }
    return EvidenceItem("aws.s3.bucket", arn, data)


def _regional(kind: str, region: str, **facts: Any) -> EvidenceItem:
    rid = f"{ACCOUNT}/{region}"
    return EvidenceItem(kind, rid, {"id": rid, "account_id": ACCOUNT, "region": region, **facts})


def _group(region: str, gid: str, name: str, rules: list[dict[str, Any]]) -> EvidenceItem:
    arn = f"arn:aws:ec2:{region}:{ACCOUNT}:security-group/{gid}"
    data = {
        "GroupId": gid,
        "GroupName": name,
        "Description": name,
        "VpcId": f"vpc-{region[:2]}01",
        "OwnerId": ACCOUNT,
        "SecurityGroupArn": arn,
        "IpPermissions": rules,
        "IpPermissionsEgress": [],
        "Tags": [],
        "account_id": ACCOUNT,
        "region": region,
    }
    return EvidenceItem("aws.ec2.security_group", arn, data)


def _db(region: str, name: str, *, good: bool) -> EvidenceItem:
    arn = f"arn:aws:rds:{region}:{ACCOUNT}:db:{name}"
    data = {
        "DBInstanceIdentifier": name,
        "DBInstanceArn": arn,
        "Engine": "postgres",
        "DBInstanceClass": "db.t3.medium",
        "StorageEncrypted": good,
        "PubliclyAccessible": not good,
        "BackupRetentionPeriod": 14 if good else 1,
        "MultiAZ": True,
        "AllocatedStorage": 100,
        **({"MaxAllocatedStorage": 500} if good else {}),
        "TagList": [{"Key": "data-classification", "Value": "confidential"}] if good else [],
        "account_id": ACCOUNT,
        "region": region,
    }
    return EvidenceItem("aws.rds.instance", arn, data)


def _load_balancer(region: str, name: str, listeners: list[dict[str, Any]]) -> EvidenceItem:
    arn = f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:loadbalancer/app/{name}/0123456789abcdef"
    data = {
        "LoadBalancerArn": arn,
        "LoadBalancerName": name,
        "DNSName": f"{name}-123456789.{region}.elb.amazonaws.com",
        "Scheme": "internet-facing",
        "Type": "application",
        "VpcId": f"vpc-{region[:2]}01",
        "State": {"Code": "active"},
        "listeners": [
            {"ListenerArn": f"{arn.replace(':loadbalancer/', ':listener/')}/{i:016x}", "LoadBalancerArn": arn, **lst}
            for i, lst in enumerate(listeners)
        ],
        "account_id": ACCOUNT,
        "region": region,
    }
    return EvidenceItem("aws.elbv2.load_balancer", arn, data)


def _log_group(region: str, name: str, retention: int | None) -> EvidenceItem:
    arn = f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}"
    data = {
        "logGroupName": name,
        "logGroupArn": arn,
        "arn": f"{arn}:*",
        "creationTime": 1709283600000,
        "retentionInDays": retention,
        "storedBytes": 1048576,
        "account_id": ACCOUNT,
        "region": region,
    }
    return EvidenceItem("aws.logs.log_group", arn, data)


def _finding(now: datetime, title: str, label: str, workflow: str, days: int, compliance: str) -> dict[str, Any]:
    return {
        "Id": f"arn:aws:securityhub:{GOOD}:{ACCOUNT}:finding/{title.split()[0].lower()}",
        "SeverityLabel": label,
        "WorkflowStatus": workflow,
        "CreatedAt": _iso(now - timedelta(days=days)),
        "ProductName": "Security Hub",
        "ComplianceStatus": compliance,
    }


def simulated_estate(now: datetime) -> Iterator[EvidenceItem | CollectionError]:
    trail_arn = f"arn:aws:cloudtrail:{GOOD}:{ACCOUNT}:trail/organization-trail"
    trail = {
        "Name": "organization-trail",
        "TrailARN": trail_arn,
        "HomeRegion": GOOD,
        "IsMultiRegionTrail": True,
        "IsOrganizationTrail": True,
        "IncludeGlobalServiceEvents": True,
        "LogFileValidationEnabled": True,
        "IsLogging": True,
    }
    yield EvidenceItem(
        "aws.account",
        ACCOUNT,
        {
            "account_id": ACCOUNT,
            "partition": "aws",
            "password_policy": {"MinimumPasswordLength": 12, "PasswordReusePrevention": 5, "RequireSymbols": True},
            "account_summary": {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0, "Users": 4},
            "root": None,
            "root_password_last_used": _iso(now - timedelta(days=120)),
            "root_virtual_mfa_devices": [],
            "credential_report_generated_at": _iso(now - timedelta(hours=1)),
            "s3_public_access_block": None,
            "security_contact": {
                "AlternateContactType": "SECURITY",
                "EmailAddress": "security@example.com",
                "Name": "Security team",
                "Title": "CSIRT",
            },
            "trails": [trail],
        },
    )
    yield EvidenceItem(
        "aws.cloudtrail.trail",
        trail_arn,
        {
            **trail,
            "S3BucketName": "demo-logs",
            "KmsKeyId": None,
            "status": {"IsLogging": True},
            "account_id": ACCOUNT,
            "region": GOOD,
        },
    )
    yield _user(now, "alice", password=True, mfa=True, key_age=20, used_days_ago=1)
    yield _user(now, "bob", password=True, mfa=False, key_age=None, used_days_ago=3)
    yield _user(now, "ci-deploy", password=False, mfa=False, key_age=200, used_days_ago=2)
    yield _user(now, "former-contractor", password=True, mfa=True, key_age=120, used_days_ago=None, admin=True)
    expire_400 = [{"ID": "expire", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 400}}]
    archive_only = [
        {"ID": "archive", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 90, "StorageClass": "GLACIER"}]}
    ]
    yield _bucket(
        "demo-logs",
        GOOD,
        block=True,
        encrypted=True,
        versioned=True,
        tags={"data-classification": "internal", "retention": "400d"},
        lifecycle=expire_400,
        lock_days=365,
    )
    yield _bucket(
        "demo-public-assets",
        BAD,
        block=False,
        encrypted=False,
        versioned=False,
        tags={"data-classification": "public"},
    )
    # Invoices are records: a retention tag without a deleting rule, and a lock shorter than required.
    yield _bucket(
        "demo-invoices",
        GOOD,
        block=True,
        encrypted=True,
        versioned=True,
        tags={"data-classification": "confidential", "retention": "10y", "records": "invoices"},
        lifecycle=archive_only,
        lock_days=30,
    )
    for region, good in ((GOOD, True), (BAD, False)):
        recorder = {
            "name": "default",
            "recordingGroup": {"allSupported": True},
            "status": {"name": "default", "recording": True, "lastStatus": "SUCCESS"},
        }
        yield _regional("aws.config.region", region, recorders=[recorder], delivery_channels=[])
        yield _regional(
            "aws.guardduty.region",
            region,
            detectors=[{"DetectorId": f"demo{region}", "Status": "ENABLED" if good else "DISABLED"}],
        )
        yield _regional("aws.ec2.region", region, EbsEncryptionByDefault=good)
        vpc_id = f"vpc-{region[:2]}01"
        vpc_arn = f"arn:aws:ec2:{region}:{ACCOUNT}:vpc/{vpc_id}"
        flow = [{"FlowLogId": f"fl-{region[:2]}", "FlowLogStatus": "ACTIVE", "ResourceId": vpc_id}] if good else []
        yield EvidenceItem(
            "aws.ec2.vpc",
            vpc_arn,
            {
                "VpcId": vpc_id,
                "arn": vpc_arn,
                "IsDefault": False,
                "CidrBlock": "10.0.0.0/16",
                "flow_logs": flow,
                "account_id": ACCOUNT,
                "region": region,
            },
        )
        key_arn = f"arn:aws:kms:{region}:{ACCOUNT}:key/demo-{region}"
        yield EvidenceItem(
            "aws.kms.key",
            key_arn,
            {
                "KeyId": f"demo-{region}",
                "Arn": key_arn,
                "KeyState": "Enabled",
                "KeySpec": "SYMMETRIC_DEFAULT",
                "KeyManager": "CUSTOMER",
                "Origin": "AWS_KMS",
                "rotation_enabled": good,
                "rotation_period_days": 365 if good else None,
                "account_id": ACCOUNT,
                "region": region,
            },
        )
        yield _db(region, f"orders-{region}", good=good)
        logging = {"s3BucketName": "demo-logs", "s3EncryptionEnabled": True, "cloudWatchLogGroupName": ""}
        yield _regional(
            "aws.ssm.region",
            region,
            session_preferences=logging if good else {**logging, "s3BucketName": ""},
        )
    world = [{"CidrIp": "0.0.0.0/0"}]
    yield _group(
        GOOD,
        "sg-0a1",
        "web",
        [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": world, "Ipv6Ranges": []}],
    )
    yield _group(
        BAD,
        "sg-0b2",
        "legacy-admin",
        [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": world, "Ipv6Ranges": []}],
    )
    redirect = {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}
    yield _load_balancer(
        GOOD,
        "shop",
        [
            {"Protocol": "HTTPS", "Port": 443, "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"},
            {"Protocol": "HTTP", "Port": 80, "DefaultActions": [redirect]},
        ],
    )
    yield _load_balancer(
        BAD, "legacy-partner-api", [{"Protocol": "HTTPS", "Port": 443, "SslPolicy": "ELBSecurityPolicy-2016-08"}]
    )
    yield _regional(
        "aws.securityhub.region",
        GOOD,
        hub={
            "HubArn": f"arn:aws:securityhub:{GOOD}:{ACCOUNT}:hub/default",
            "SubscribedAt": "2025-02-01T08:00:00.000Z",
            "AutoEnableControls": True,
            "ControlFindingGenerator": "SECURITY_CONTROL",
        },
        standards=[
            {
                "StandardsArn": f"arn:aws:securityhub:{GOOD}::standards/{_FSBP}",
                "StandardsSubscriptionArn": f"arn:aws:securityhub:{GOOD}:{ACCOUNT}:subscription/{_FSBP}",
                "StandardsStatus": "READY",
            }
        ],
        high_findings=[
            _finding(now, "S3.8 public access", "HIGH", "NEW", 12, "FAILED"),  # nobody has looked at it
            _finding(now, "IAM.6 root hardware MFA", "CRITICAL", "NOTIFIED", 10, "FAILED"),
            _finding(now, "EC2.19 unrestricted ports", "HIGH", "RESOLVED", 60, "FAILED"),
        ],
    )
    # Security Hub was never switched on in the second region.
    yield _regional("aws.securityhub.region", BAD, hub=None, standards=[], high_findings=[])
    yield _log_group(GOOD, "/aws/cloudtrail/organization-trail", 400)
    yield _log_group(GOOD, "/aws/lambda/orders-api", 30)
    yield _log_group(BAD, "/aws/lambda/legacy-report", None)
    policy_arn = f"arn:aws:iam::{ACCOUNT}:policy/break-glass"
    yield EvidenceItem(
        "aws.iam.policy",
        policy_arn,
        {
            "PolicyName": "break-glass",
            "Arn": policy_arn,
            "AttachmentCount": 1,
            "account_id": ACCOUNT,
            "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
            "statements": _ADMIN,
        },
    )
    yield CollectionError(
        "aws.accessanalyzer.region",
        f"{ACCOUNT}/{BAD}: AccessDeniedException User is not authorized to perform: access-analyzer:ListAnalyzers",
    )
    yield _regional(
        "aws.accessanalyzer.region",
        GOOD,
        analyzers=[
            {
                "arn": f"arn:aws:access-analyzer:{GOOD}:{ACCOUNT}:analyzer/org",
                "name": "org",
                "type": "ORGANIZATION",
                "status": "ACTIVE",
                "active_findings": [],
            }
        ],
    )
