"""Seeds a mixed AWS estate into moto (through boto3 over HTTP) and an Access Analyzer imitation.

Two regions: GOOD (us-east-1) is configured well, BAD (eu-central-1) is not. Two accounts: the
management account (weak password policy, trails) and a member account reached by AssumeRole
(strong password policy, account-level S3 block, no trail).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from stub import Request as Req
from stub import Stub

from connectors.aws.session import strip_account_host

MANAGEMENT = "123456789012"
GOOD, BAD = "us-east-1", "eu-central-1"
ROLE = "OrganizationAccountAccessRole"
ANALYZER_ARN = f"arn:aws:access-analyzer:{GOOD}:{MANAGEMENT}:analyzer/org"


@dataclass
class Estate:
    member: str = ""
    ids: dict[str, str] = field(default_factory=dict)  # short name -> item id


def _clients(creds: dict[str, str] | None, service: str, region: str = GOOD) -> Any:
    keys = (
        {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }
        if creds
        else {}
    )
    client = boto3.client(service, region_name=region, **keys)
    if service == "s3control":  # moto is not at <account-id>.127.0.0.1
        client.meta.events.register("before-sign.s3-control.*", strip_account_host)
    return client


def seed_iam(estate: Estate) -> None:
    iam = boto3.client("iam", region_name=GOOD)
    for name in ("alice", "bob", "carol", "dave"):
        estate.ids[name] = iam.create_user(UserName=name)["User"]["Arn"]
    for name in ("alice", "bob"):
        iam.create_login_profile(UserName=name, Password="Correct-Horse-9")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice-mfa")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(
        UserName="alice", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    for name in ("alice", "carol"):
        iam.create_access_key(UserName=name)
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    scoped = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}}
    estate.ids["full-admin"] = iam.create_policy(PolicyName="full-admin", PolicyDocument=json.dumps(admin))["Policy"][
        "Arn"
    ]
    estate.ids["s3-read"] = iam.create_policy(PolicyName="s3-read", PolicyDocument=json.dumps(scoped))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="dave", PolicyArn=estate.ids["full-admin"])
    iam.put_user_policy(UserName="dave", PolicyName="inline-admin", PolicyDocument=json.dumps(admin))
    group = iam.create_group(GroupName="readers")["Group"]["GroupName"]
    iam.attach_group_policy(GroupName=group, PolicyArn=estate.ids["s3-read"])
    iam.add_user_to_group(GroupName=group, UserName="alice")
    # The management account has a security contact; the member account has none.
    boto3.client("account", region_name=GOOD).put_alternate_contact(
        AlternateContactType="SECURITY",
        EmailAddress="security@example.com",
        Name="Security team",
        PhoneNumber="+49 30 1234567",
        Title="CSIRT",
    )


def seed_s3(estate: Estate) -> None:
    s3 = boto3.client("s3", region_name=GOOD)
    s3.create_bucket(Bucket="open-bucket")
    s3.create_bucket(Bucket="closed-bucket", CreateBucketConfiguration={"LocationConstraint": BAD})
    s3eu = boto3.client("s3", region_name=BAD)
    s3eu.put_public_access_block(
        Bucket="closed-bucket",
        PublicAccessBlockConfiguration={
            k: True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        },
    )
    s3eu.put_bucket_encryption(
        Bucket="closed-bucket",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3eu.put_bucket_versioning(Bucket="closed-bucket", VersioningConfiguration={"Status": "Enabled"})
    tls_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::closed-bucket", "arn:aws:s3:::closed-bucket/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    s3eu.put_bucket_policy(Bucket="closed-bucket", Policy=json.dumps(tls_only))
    # closed-bucket: classified, records with a lifecycle that deletes and Object Lock (it is versioned);
    # open-bucket: a retention tag but no deleting rule, no classification, no Object Lock.
    s3eu.put_bucket_tagging(
        Bucket="closed-bucket",
        Tagging={
            "TagSet": [
                {"Key": "data-classification", "Value": "confidential"},
                {"Key": "retention", "Value": "7y"},
                {"Key": "records", "Value": "audit"},
            ]
        },
    )
    s3eu.put_bucket_lifecycle_configuration(
        Bucket="closed-bucket",
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "expire-after-7y",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "Expiration": {"Days": 2557},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                }
            ]
        },
    )
    s3eu.put_object_lock_configuration(
        Bucket="closed-bucket",
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 400}},
        },
    )
    s3.put_bucket_tagging(Bucket="open-bucket", Tagging={"TagSet": [{"Key": "retention", "Value": "30d"}]})
    s3.put_bucket_lifecycle_configuration(
        Bucket="open-bucket",
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "uploads-only",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "tmp/"},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                },
                {"ID": "disabled-expiry", "Status": "Disabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 30}},
            ]
        },
    )
    for name in ("open-bucket", "closed-bucket"):
        estate.ids[name] = f"arn:aws:s3:::{name}"


def seed_logging(estate: Estate) -> None:
    trail = boto3.client("cloudtrail", region_name=GOOD)
    created = trail.create_trail(
        Name="org-trail", S3BucketName="open-bucket", IsMultiRegionTrail=True, EnableLogFileValidation=True
    )
    trail.start_logging(Name="org-trail")
    estate.ids["org-trail"] = created["TrailARN"]
    local = boto3.client("cloudtrail", region_name=BAD).create_trail(Name="local-trail", S3BucketName="closed-bucket")
    estate.ids["local-trail"] = local["TrailARN"]
    config = boto3.client("config", region_name=GOOD)
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{MANAGEMENT}:role/config",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "open-bucket"})
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    boto3.client("guardduty", region_name=GOOD).create_detector(Enable=True)
    boto3.client("guardduty", region_name=BAD).create_detector(Enable=False)

    def log_group(region: str, name: str, retention: int | None) -> None:
        logs = boto3.client("logs", region_name=region)
        logs.create_log_group(logGroupName=name)
        if retention is not None:
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
        estate.ids[name] = f"arn:aws:logs:{region}:{MANAGEMENT}:log-group:{name}"

    log_group(GOOD, "/aws/cloudtrail/org-trail", 400)
    log_group(GOOD, "/app/api", None)
    log_group(BAD, "CloudTrail/local-trail", 30)

    def session_preferences(region: str, s3_bucket: str) -> None:
        inputs = {"s3BucketName": s3_bucket, "s3EncryptionEnabled": True, "cloudWatchLogGroupName": ""}
        boto3.client("ssm", region_name=region).create_document(
            Name="SSM-SessionManagerRunShell",
            DocumentType="Session",
            DocumentFormat="JSON",
            Content=json.dumps({"schemaVersion": "1.0", "sessionType": "Standard_Stream", "inputs": inputs}),
        )

    session_preferences(GOOD, "open-bucket")  # logs sessions
    session_preferences(BAD, "")  # preferences saved without any log destination


def seed_compute(estate: Estate) -> None:
    ec2 = boto3.client("ec2", region_name=GOOD)
    ec2.enable_ebs_encryption_by_default()
    vpc_good = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    ec2.create_flow_logs(
        ResourceIds=[vpc_good],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::open-bucket",
    )
    estate.ids["vpc-good"] = f"arn:aws:ec2:{GOOD}:{MANAGEMENT}:vpc/{vpc_good}"
    vpc_bad = boto3.client("ec2", region_name=BAD).describe_vpcs()["Vpcs"][0]["VpcId"]
    estate.ids["vpc-bad"] = f"arn:aws:ec2:{BAD}:{MANAGEMENT}:vpc/{vpc_bad}"

    def group(region: str, name: str, rule: dict[str, Any]) -> None:
        client = boto3.client("ec2", region_name=region)
        group_id = client.create_security_group(GroupName=name, Description=name)["GroupId"]
        client.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[rule])
        estate.ids[name] = f"arn:aws:ec2:{region}:{MANAGEMENT}:security-group/{group_id}"

    world = [{"CidrIp": "0.0.0.0/0"}]
    group(GOOD, "ssh-open", {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": world})
    group(GOOD, "web", {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": world})
    group(
        GOOD,
        "ssh-internal",
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
    )
    group(BAD, "all-open-v6", {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]})
    group(BAD, "rdp-range", {"IpProtocol": "tcp", "FromPort": 3000, "ToPort": 4000, "IpRanges": world})

    kms = boto3.client("kms", region_name=GOOD)
    rotated = kms.create_key()["KeyMetadata"]
    kms.enable_key_rotation(KeyId=rotated["KeyId"])
    estate.ids["key-rotated"] = rotated["Arn"]
    kms_bad = boto3.client("kms", region_name=BAD)
    estate.ids["key-unrotated"] = kms_bad.create_key()["KeyMetadata"]["Arn"]
    estate.ids["key-signing"] = kms_bad.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    disabled = kms_bad.create_key()["KeyMetadata"]
    kms_bad.disable_key(KeyId=disabled["KeyId"])
    estate.ids["key-disabled"] = disabled["Arn"]

    common = {
        "DBInstanceClass": "db.t3.micro",
        "Engine": "postgres",
        "MasterUsername": "admin",
        "MasterUserPassword": "password123",
        "AllocatedStorage": 20,
    }
    good = boto3.client("rds", region_name=GOOD).create_db_instance(
        DBInstanceIdentifier="db-good",
        StorageEncrypted=True,
        BackupRetentionPeriod=7,
        PubliclyAccessible=False,
        MultiAZ=True,
        MaxAllocatedStorage=100,
        Tags=[{"Key": "data-classification", "Value": "internal"}],
        **common,
    )
    bad = boto3.client("rds", region_name=BAD).create_db_instance(
        DBInstanceIdentifier="db-bad",
        StorageEncrypted=False,
        BackupRetentionPeriod=1,
        PubliclyAccessible=True,
        **common,
    )
    estate.ids["db-good"] = good["DBInstance"]["DBInstanceArn"]
    estate.ids["db-bad"] = bad["DBInstance"]["DBInstanceArn"]
    seed_load_balancers(estate)


def seed_load_balancers(estate: Estate) -> None:
    """GOOD: an internet-facing ALB (HTTPS with a modern policy, HTTP redirecting) and an internal one
    with plain HTTP; BAD: an internet-facing ALB forwarding plain HTTP and one with an outdated policy."""

    def balancer(region: str, name: str, scheme: str, listeners: list[dict[str, Any]]) -> None:
        ec2, elb = boto3.client("ec2", region_name=region), boto3.client("elbv2", region_name=region)
        vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        subnets = [
            s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
        ]
        arn = elb.create_load_balancer(Name=name, Subnets=subnets[:2], Scheme=scheme, Type="application")[
            "LoadBalancers"
        ][0]["LoadBalancerArn"]
        target = elb.create_target_group(Name=f"{name}-tg", Protocol="HTTP", Port=8080, VpcId=vpc)["TargetGroups"][0]
        forward = [{"Type": "forward", "TargetGroupArn": target["TargetGroupArn"]}]
        for listener in listeners:
            elb.create_listener(LoadBalancerArn=arn, DefaultActions=listener.pop("actions", forward), **listener)
        estate.ids[name] = arn

    def cert(region: str) -> dict[str, Any]:
        arn = boto3.client("acm", region_name=region).request_certificate(DomainName="www.example.com")
        return {"Certificates": [{"CertificateArn": arn["CertificateArn"]}]}

    redirect = [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}]
    balancer(
        GOOD,
        "web-good",
        "internet-facing",
        [
            {"Protocol": "HTTPS", "Port": 443, "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06", **cert(GOOD)},
            {"Protocol": "HTTP", "Port": 80, "actions": redirect},
        ],
    )
    balancer(GOOD, "internal-http", "internal", [{"Protocol": "HTTP", "Port": 80}])
    balancer(BAD, "web-plain", "internet-facing", [{"Protocol": "HTTP", "Port": 80}])
    balancer(
        BAD,
        "web-old-tls",
        "internet-facing",
        [{"Protocol": "HTTPS", "Port": 443, "SslPolicy": "ELBSecurityPolicy-2016-08", **cert(BAD)}],
    )


def seed_member(estate: Estate) -> None:
    org = boto3.client("organizations", region_name=GOOD)
    org.create_organization(FeatureSet="ALL")
    account = org.create_account(AccountName="workloads", Email="workloads@example.com")["CreateAccountStatus"]
    estate.member = account["AccountId"]
    creds = boto3.client("sts", region_name=GOOD).assume_role(
        RoleArn=f"arn:aws:iam::{estate.member}:role/{ROLE}", RoleSessionName="seed"
    )["Credentials"]
    _clients(creds, "iam").update_account_password_policy(MinimumPasswordLength=16, PasswordReusePrevention=24)
    _clients(creds, "s3control").put_public_access_block(
        AccountId=estate.member,
        PublicAccessBlockConfiguration={
            k: True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        },
    )
    _clients(creds, "iam").create_user(UserName="member-user")


def seed_all() -> Estate:
    estate = Estate()
    seed_iam(estate)
    seed_s3(estate)
    seed_logging(estate)
    seed_compute(estate)
    seed_member(estate)
    return estate


def access_analyzer(stub: Stub) -> str:
    """An Access Analyzer imitation: an ACTIVE analyzer with one public finding in GOOD, none in BAD."""

    def region(req: Req) -> str:
        return req.headers.get("authorization", "").split("/")[2]

    def analyzers(req: Req) -> dict[str, Any]:
        if region(req) != GOOD:
            return {"analyzers": []}
        return {
            "analyzers": [
                {
                    "arn": ANALYZER_ARN,
                    "name": "org",
                    "type": "ACCOUNT",
                    "status": "ACTIVE",
                    "createdAt": "2025-01-01T00:00:00Z",
                }
            ]
        }

    def findings(req: Req) -> dict[str, Any]:
        assert req.json()["analyzerArn"] == ANALYZER_ARN
        return {
            "findings": [
                {
                    "id": "f-1",
                    "resource": "arn:aws:s3:::open-bucket",
                    "resourceType": "AWS::S3::Bucket",
                    "isPublic": True,
                    "status": "ACTIVE",
                    "condition": {},
                    "createdAt": "2025-01-01T00:00:00Z",
                    "updatedAt": "2025-01-01T00:00:00Z",
                    "analyzedAt": "2025-01-01T00:00:00Z",
                    "resourceOwnerAccount": MANAGEMENT,
                }
            ]
        }

    stub.route("GET", r"/analyzer", analyzers)
    stub.route("POST", r"/finding", findings)
    return stub.base_url


def security_hub(stub: Stub, now: datetime | None = None) -> str:
    """A Security Hub imitation (moto lacks GetEnabledStandards and GetFindings filters): on in GOOD for the
    management account (FSBP READY, CIS INCOMPLETE) with seeded findings, off everywhere else.

    The management account is told apart by its access key (the seeded estate's ``testing``); findings are
    filtered as GetFindings documents it (EQUALS string filters, OR within a field) and paginated by
    MaxResults/NextToken."""
    now = now or datetime.now(UTC)

    def caller(req: Req) -> tuple[str, str]:
        credential = req.headers.get("authorization", "").split("Credential=")[1].split("/")
        return credential[0], credential[2]  # access key, region

    def enabled(req: Req) -> bool:
        key, region = caller(req)
        return key == "testing" and region == GOOD

    def not_subscribed() -> tuple[int, dict[str, str], dict[str, str]]:
        body = {
            "Code": "InvalidAccessException",
            "Message": f"Account {MANAGEMENT} is not subscribed to AWS Security Hub",
        }
        return 400, {"x-amzn-ErrorType": "InvalidAccessException"}, body

    def page(items: list[dict[str, Any]], body: dict[str, Any], key: str) -> dict[str, Any]:
        start = int(body.get("NextToken") or 0)
        size = int(body.get("MaxResults") or 100)
        out: dict[str, Any] = {key: items[start : start + size]}
        if start + size < len(items):
            out["NextToken"] = str(start + size)
        return out

    def hub(req: Req) -> Any:
        if not enabled(req):
            return not_subscribed()
        return {
            "HubArn": f"arn:aws:securityhub:{GOOD}:{MANAGEMENT}:hub/default",
            "SubscribedAt": "2025-01-01T00:00:00.000Z",
            "AutoEnableControls": True,
            "ControlFindingGenerator": "SECURITY_CONTROL",
        }

    standards = [
        ("aws-foundational-security-best-practices/v/1.0.0", "READY"),
        ("cis-aws-foundations-benchmark/v/1.4.0", "INCOMPLETE"),
        ("pci-dss/v/3.2.1", "READY"),
    ]

    def enabled_standards(req: Req) -> Any:
        if not enabled(req):
            return not_subscribed()
        subscriptions = [
            {
                "StandardsArn": f"arn:aws:securityhub:{GOOD}::standards/{name}",
                "StandardsSubscriptionArn": f"arn:aws:securityhub:{GOOD}:{MANAGEMENT}:subscription/{name}",
                "StandardsInput": {},
                "StandardsStatus": status,
            }
            for name, status in standards
        ]
        return page(subscriptions, req.json() or {}, "StandardsSubscriptions")

    def finding(fid: str, label: str, workflow: str, days: int, **extra: Any) -> dict[str, Any]:
        created = (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return {
            "SchemaVersion": "2018-10-08",
            "Id": fid,
            "ProductArn": f"arn:aws:securityhub:{GOOD}::product/aws/securityhub",
            "ProductName": "Security Hub",
            "GeneratorId": "security-control/S3.1",
            "AwsAccountId": extra.pop("account", MANAGEMENT),
            "Region": extra.pop("region", GOOD),
            "Types": ["Software and Configuration Checks"],
            "CreatedAt": created,
            "UpdatedAt": created,
            "Severity": {"Label": label, "Normalized": {"CRITICAL": 90, "HIGH": 70}.get(label, 1)},
            "Title": f"finding {fid}",
            "Description": "seeded",
            "Resources": [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::open-bucket"}],
            "Compliance": {"Status": extra.pop("compliance", "FAILED")},
            "Workflow": {"Status": workflow},
            "RecordState": extra.pop("record_state", "ACTIVE"),
        }

    findings = [
        finding("high-new-10d", "HIGH", "NEW", 10),  # untriaged for longer than 7 days
        finding("critical-notified-40d", "CRITICAL", "NOTIFIED", 40),  # triaged, open past 30 days, failed control
        finding("high-new-2d", "HIGH", "NEW", 2),
        finding("critical-resolved-90d", "CRITICAL", "RESOLVED", 90),
        finding("high-suppressed-60d", "HIGH", "SUPPRESSED", 60, compliance="PASSED"),
        # never returned: the filters leave them out
        finding("low-new-100d", "LOW", "NEW", 100),
        finding("critical-archived-100d", "CRITICAL", "NEW", 100, record_state="ARCHIVED"),
        finding("critical-other-region", "CRITICAL", "NEW", 100, region=BAD),
        finding("critical-other-account", "CRITICAL", "NEW", 100, account="210987654321"),
    ]

    def value(f: dict[str, Any], field_name: str) -> Any:
        return {
            "RecordState": f["RecordState"],
            "SeverityLabel": f["Severity"]["Label"],
            "AwsAccountId": f["AwsAccountId"],
            "Region": f["Region"],
            "WorkflowStatus": f["Workflow"]["Status"],
            "ComplianceStatus": f["Compliance"]["Status"],
        }[field_name]

    def get_findings(req: Req) -> Any:
        if not enabled(req):
            return not_subscribed()
        body = req.json() or {}
        selected = [
            f
            for f in findings
            if all(
                any(c["Comparison"] == "EQUALS" and value(f, name) == c["Value"] for c in conditions)
                for name, conditions in (body.get("Filters") or {}).items()
            )
        ]
        return page(selected, body, "Findings")

    stub.route("GET", r"/accounts", hub)
    stub.route("POST", r"/standards/get", enabled_standards)
    stub.route("POST", r"/findings", get_findings)
    return stub.base_url
