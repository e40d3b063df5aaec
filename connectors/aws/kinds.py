"""The evidence kinds the AWS connector yields, with the fields checks may rely on, and its permissions."""

from __future__ import annotations

from collections.abc import Callable

from connectors.base import EvidenceKind

_ACCOUNT = {"account_id": "12-digit account id"}
_REGIONAL = {"account_id": "12-digit account id", "region": "region name"}
_REGION_ITEM = {"id": "<account>/<region> (the item id)"}
_STATEMENTS = "policy statements with Action, NotAction, Resource, NotResource always lists and Effect, Condition set"


def botocore_members(service: str, shape: str) -> Callable[[], frozenset[str]]:
    """The fields of an API object as botocore's service model defines them (read only when asked)."""

    def members() -> frozenset[str]:
        from .session import require_botocore_session

        model = require_botocore_session().get_service_model(service)
        return frozenset(model.shape_for(shape).members)

    return members


EVIDENCE_KINDS = (
    EvidenceKind(
        "aws.account",
        id_field="account_id",
        description="One account: IAM password policy, account summary, root user facts, account-level "
        "S3 public access block, the security alternate contact and the account's CloudTrail trails",
        fields={
            **_ACCOUNT,
            "partition": "aws | aws-cn | aws-us-gov",
            "password_policy": "iam:GetAccountPasswordPolicy PasswordPolicy (MinimumPasswordLength, "
            "PasswordReusePrevention, ...); null when the account has none (NoSuchEntity)",
            "account_summary": "iam:GetAccountSummary SummaryMap (AccountMFAEnabled, AccountAccessKeysPresent, ...)",
            "root": "the <root_account> row of the credential report (raw strings); null when absent",
            "root_password_last_used": "root password last use, ISO-8601, null when never used or no_information",
            "root_virtual_mfa_devices": "serial numbers of virtual MFA devices assigned to root (empty: "
            "hardware MFA or none)",
            "credential_report_generated_at": "when AWS generated the credential report (up to 4 h old)",
            "s3_public_access_block": "s3control:GetPublicAccessBlock configuration; null when none",
            "security_contact": "account:GetAlternateContact(SECURITY) {AlternateContactType, EmailAddress, Name, "
            "Title}; null when no security contact is registered (ResourceNotFoundException)",
            "trails": "[{TrailARN, Name, HomeRegion, IsMultiRegionTrail, IsOrganizationTrail, "
            "IncludeGlobalServiceEvents, LogFileValidationEnabled, IsLogging}] seen from the regions in "
            "scope; left out when CloudTrail could not be read in any region",
        },
    ),
    EvidenceKind(
        "aws.iam.user",
        id_field="arn",
        description="An IAM user: credential report row plus live MFA devices, access keys and policies",
        fields={
            **_ACCOUNT,
            "user": "user name",
            "user_id": "the stable IAM user id (AIDA...)",
            "path": "the user's IAM path",
            "arn": "user ARN (the item id)",
            "create_date": "ISO-8601",
            "password_enabled": "has a console password (credential report; live GetLoginProfile for newer users)",
            "password_last_used": "ISO-8601 or null (never used, or no_information in the report)",
            "password_last_changed": "ISO-8601 or null",
            "mfa_devices": "live iam:ListMFADevices [{SerialNumber, EnableDate, UserName}]",
            "access_keys": "live [{AccessKeyId, Status, CreateDate, LastUsedDate (null: never), "
            "LastUsedServiceName, LastUsedRegion}]",
            "attached_policies": "[{PolicyName, PolicyArn}] attached directly to the user",
            "inline_policies": "[{PolicyName, statements}] (" + _STATEMENTS + ")",
            "groups": "group names",
            "credential_report": "the user's raw credential report row; null when the report predates the user",
            "credential_report_generated_at": "when AWS generated the credential report",
        },
    ),
    EvidenceKind(
        "aws.iam.policy",
        id_field="Arn",
        raw="GetAccountAuthorizationDetails Policies[]",
        raw_members=botocore_members("iam", "ManagedPolicyDetail"),
        description="A customer-managed IAM policy with its default version's document",
        fields={
            **_ACCOUNT,
            "PolicyName": "name",
            "Arn": "policy ARN (the item id)",
            "AttachmentCount": "number of principals it is attached to",
            "document": "the default version's policy document",
            "statements": _STATEMENTS,
        },
    ),
    EvidenceKind(
        "aws.s3.bucket",
        id_field="arn",
        description="An S3 bucket with its configuration, read in the bucket's own region",
        fields={
            **_REGIONAL,
            "name": "bucket name",
            "arn": "arn:aws:s3:::<name> (the item id)",
            "creation_date": "ISO-8601",
            "public_access_block": "bucket PublicAccessBlockConfiguration; null when none",
            "account_public_access_block": "the account-level configuration (S3 Control); null when none",
            "encryption": "ServerSideEncryptionConfiguration {Rules: [...]}; null when none is returned",
            "versioning": "{Status: Enabled | Suspended | null, MFADelete}",
            "logging": "LoggingEnabled {TargetBucket, TargetPrefix}; null when off",
            "policy_status": "PolicyStatus {IsPublic}; null when the bucket has no policy",
            "policy": "the bucket policy document; null when none",
            "policy_statements": _STATEMENTS,
            "tags": "GetBucketTagging TagSet as {key: value}; {} when the bucket has no tags (NoSuchTagSet)",
            "lifecycle": "GetBucketLifecycleConfiguration Rules [{ID, Status, Filter, Expiration, "
            "NoncurrentVersionExpiration, Transitions, ...}]; null when none (NoSuchLifecycleConfiguration)",
            "object_lock": "GetObjectLockConfiguration ObjectLockConfiguration {ObjectLockEnabled, Rule: "
            "{DefaultRetention: {Mode, Days | Years}}}; null when Object Lock is off "
            "(ObjectLockConfigurationNotFoundError)",
        },
    ),
    EvidenceKind(
        "aws.cloudtrail.trail",
        id_field="TrailARN",
        raw="DescribeTrails trailList[]",
        raw_members=botocore_members("cloudtrail", "Trail"),
        description="A CloudTrail trail (deduplicated by ARN across regions) with its status",
        fields={
            **_REGIONAL,
            "TrailARN": "the item id",
            "Name": "trail name",
            "HomeRegion": "the region the trail was created in",
            "IsMultiRegionTrail": "bool",
            "LogFileValidationEnabled": "bool",
            "KmsKeyId": "KMS key ARN; null when SSE-S3",
            "IsLogging": "from GetTrailStatus",
            "status": "the raw GetTrailStatus answer",
        },
    ),
    EvidenceKind(
        "aws.config.region",
        id_field="id",
        description="AWS Config in one region (id <account>/<region>): recorders with status, delivery channels",
        fields={
            **_REGIONAL,
            **_REGION_ITEM,
            "recorders": "[{name, roleARN, recordingGroup, status: {recording, lastStatus, ...} | null}]",
            "delivery_channels": "DescribeDeliveryChannels list",
        },
    ),
    EvidenceKind(
        "aws.guardduty.region",
        id_field="id",
        description="GuardDuty in one region (id <account>/<region>)",
        fields={
            **_REGIONAL,
            **_REGION_ITEM,
            "detectors": "[{DetectorId, Status (ENABLED | DISABLED), ...GetDetector}]",
        },
    ),
    EvidenceKind(
        "aws.accessanalyzer.region",
        id_field="id",
        description="IAM Access Analyzer in one region (id <account>/<region>)",
        fields={
            **_REGIONAL,
            **_REGION_ITEM,
            "analyzers": "[{arn, name, type, status, active_findings: [{id, resource, resourceType, isPublic}] "
            "| null for unused-access analyzers}]",
        },
    ),
    EvidenceKind(
        "aws.ec2.region",
        id_field="id",
        description="Regional EC2 account settings (id <account>/<region>)",
        fields={**_REGIONAL, **_REGION_ITEM, "EbsEncryptionByDefault": "bool"},
    ),
    EvidenceKind(
        "aws.ec2.security_group",
        id_field="SecurityGroupArn",
        raw="DescribeSecurityGroups SecurityGroups[]",
        raw_members=botocore_members("ec2", "SecurityGroup"),
        description="A security group as DescribeSecurityGroups returns it",
        fields={
            **_REGIONAL,
            "SecurityGroupArn": "the item id",
            "GroupId": "sg-...",
            "GroupName": "name",
            "VpcId": "vpc-...",
            "IpPermissions": "ingress rules [{IpProtocol, FromPort, ToPort, IpRanges, Ipv6Ranges, ...}]",
            "IpPermissionsEgress": "egress rules",
        },
    ),
    EvidenceKind(
        "aws.ec2.vpc",
        id_field="arn",
        raw="DescribeVpcs Vpcs[]",
        raw_members=botocore_members("ec2", "Vpc"),
        description="A VPC with the flow logs attached to it",
        fields={
            **_REGIONAL,
            "arn": "VPC ARN (the item id)",
            "VpcId": "vpc-...",
            "IsDefault": "bool",
            "flow_logs": "DescribeFlowLogs entries for this VPC [{FlowLogId, FlowLogStatus, ...}]",
        },
    ),
    EvidenceKind(
        "aws.kms.key",
        id_field="Arn",
        raw="DescribeKey KeyMetadata",
        raw_members=botocore_members("kms", "KeyMetadata"),
        description="A customer-managed KMS key (KeyMetadata) with its rotation status",
        fields={
            **_REGIONAL,
            "Arn": "the item id",
            "KeyId": "key id (a UUID, or mrk-... for a multi-Region key)",
            "KeyState": "Enabled | Disabled | PendingDeletion | ...",
            "KeySpec": "SYMMETRIC_DEFAULT | RSA_2048 | ...",
            "KeyManager": "CUSTOMER",
            "Origin": "AWS_KMS | EXTERNAL | AWS_CLOUDHSM | ...",
            "rotation_enabled": "bool; null where rotation is not defined (asymmetric, imported, pending deletion)",
            "rotation_period_days": "int or null",
        },
    ),
    EvidenceKind(
        "aws.rds.instance",
        id_field="DBInstanceArn",
        raw="DescribeDBInstances DBInstances[]",
        raw_members=botocore_members("rds", "DBInstance"),
        description="An RDS DB instance as DescribeDBInstances returns it",
        fields={
            **_REGIONAL,
            "DBInstanceArn": "the item id",
            "DBInstanceIdentifier": "the instance name",
            "Engine": "mysql | postgres | aurora-postgresql | ...",
            "StorageEncrypted": "bool",
            "PubliclyAccessible": "bool",
            "BackupRetentionPeriod": "days (0: automated backups off)",
            "MultiAZ": "bool",
            "AllocatedStorage": "allocated storage in GiB",
            "MaxAllocatedStorage": "storage autoscaling upper limit in GiB; absent when autoscaling is off",
            "TagList": "[{Key, Value}]",
        },
    ),
    EvidenceKind(
        "aws.ssm.region",
        id_field="id",
        description="Session Manager preferences in one region (id <account>/<region>)",
        fields={
            **_REGIONAL,
            **_REGION_ITEM,
            "session_preferences": "ssm:GetDocument(SSM-SessionManagerRunShell) inputs {s3BucketName, "
            "s3EncryptionEnabled, cloudWatchLogGroupName, cloudWatchEncryptionEnabled, kmsKeyId, runAsEnabled, "
            "idleSessionTimeout, ...}; null when the preferences were never saved (InvalidDocument)",
        },
    ),
    EvidenceKind(
        "aws.elbv2.load_balancer",
        id_field="LoadBalancerArn",
        raw="DescribeLoadBalancers LoadBalancers[]",
        raw_members=botocore_members("elbv2", "LoadBalancer"),
        description="An Application, Network or Gateway Load Balancer with its listeners",
        fields={
            **_REGIONAL,
            "LoadBalancerArn": "the item id",
            "LoadBalancerName": "name",
            "Scheme": "internet-facing | internal",
            "Type": "application | network | gateway",
            "listeners": "DescribeListeners [{ListenerArn, Port, Protocol, SslPolicy, Certificates, DefaultActions}]",
        },
    ),
    EvidenceKind(
        "aws.logs.log_group",
        id_field="logGroupArn",
        raw="DescribeLogGroups logGroups[]",
        raw_members=botocore_members("logs", "LogGroup"),
        description="A CloudWatch Logs log group",
        fields={
            **_REGIONAL,
            "logGroupArn": "log group ARN without the trailing :* (the item id)",
            "logGroupName": "name",
            "retentionInDays": "int; null when events never expire",
            "kmsKeyId": "KMS key ARN; absent when not KMS-encrypted",
            "storedBytes": "int",
        },
    ),
    EvidenceKind(
        "aws.securityhub.region",
        id_field="id",
        description="AWS Security Hub in one region (id <account>/<region>): hub, enabled standards, "
        "active HIGH and CRITICAL findings",
        fields={
            **_REGIONAL,
            **_REGION_ITEM,
            "hub": "securityhub:DescribeHub {HubArn, SubscribedAt, AutoEnableControls, ControlFindingGenerator}; "
            "null when Security Hub is not enabled in the region (InvalidAccessException)",
            "standards": "GetEnabledStandards [{StandardsArn, StandardsSubscriptionArn, StandardsStatus}]; "
            "[] when the hub is off",
            "high_findings": "GetFindings (RecordState ACTIVE, SeverityLabel HIGH | CRITICAL, this account and "
            "region) [{Id, SeverityLabel, WorkflowStatus, CreatedAt, ProductName, ComplianceStatus}]; [] when "
            "the hub is off",
        },
    ),
)

PERMISSIONS = (
    "sts:GetCallerIdentity; sts:AssumeRole on accounts_role (only with accounts_role)",
    "organizations:ListAccounts (only with accounts_role)",
    "ec2:DescribeRegions, ec2:GetEbsEncryptionByDefault, ec2:DescribeSecurityGroups, ec2:DescribeVpcs, "
    "ec2:DescribeFlowLogs",
    "account:GetAlternateContact",
    "iam:GenerateCredentialReport, iam:GetCredentialReport, iam:GetAccountPasswordPolicy, iam:GetAccountSummary, "
    "iam:ListVirtualMFADevices, iam:GetAccountAuthorizationDetails, iam:ListMFADevices, iam:ListAccessKeys, "
    "iam:GetAccessKeyLastUsed, iam:GetLoginProfile",
    "s3:ListAllMyBuckets, s3:GetBucketLocation, s3:GetBucketPublicAccessBlock, s3:GetEncryptionConfiguration, "
    "s3:GetBucketVersioning, s3:GetBucketLogging, s3:GetBucketPolicyStatus, s3:GetBucketPolicy, "
    "s3:GetAccountPublicAccessBlock, s3:GetBucketTagging, s3:GetLifecycleConfiguration, "
    "s3:GetBucketObjectLockConfiguration",
    "cloudtrail:DescribeTrails, cloudtrail:GetTrailStatus",
    "config:DescribeConfigurationRecorders, config:DescribeConfigurationRecorderStatus, "
    "config:DescribeDeliveryChannels",
    "guardduty:ListDetectors, guardduty:GetDetector",
    "access-analyzer:ListAnalyzers, access-analyzer:ListFindings",
    "kms:ListKeys, kms:DescribeKey, kms:GetKeyRotationStatus",
    "rds:DescribeDBInstances",
    "ssm:GetDocument",
    "elasticloadbalancing:DescribeLoadBalancers, elasticloadbalancing:DescribeListeners",
    "logs:DescribeLogGroups",
    "securityhub:DescribeHub, securityhub:GetEnabledStandards, securityhub:GetFindings",
    "or the AWS-managed SecurityAudit policy, after checking that your account's version of it also grants "
    "account:GetAlternateContact and ssm:GetDocument",
)
