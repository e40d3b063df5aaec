"""Network, compute and data-store facts per region: EC2 (EBS default, security groups, VPCs), KMS, RDS."""

from __future__ import annotations

from functools import partial
from typing import Any

from connectors.base import CollectionError, EvidenceItem

from .session import Account, ClientFactory, aws_exceptions, error_code, error_text, paginate, plain
from .unknown import Unknowns, attempt

# What GetKeyRotationStatus alone tells about a key.
ROTATION_FIELDS = ("rotation_enabled", "rotation_period_days")


def _scoped(raw: dict[str, Any], account: Account, region: str) -> dict[str, Any]:
    data = plain(raw)
    data.update(account_id=account.account_id, region=region)
    return dict(data)


def collect_ebs_default(factory: ClientFactory, account: Account, region: str) -> list[EvidenceItem | CollectionError]:
    ec2 = factory.client(account, "ec2", region)
    data = {
        "id": f"{account.account_id}/{region}",
        "account_id": account.account_id,
        "region": region,
        "EbsEncryptionByDefault": bool(ec2.get_ebs_encryption_by_default().get("EbsEncryptionByDefault")),
    }
    return [EvidenceItem("aws.ec2.region", f"{account.account_id}/{region}", data)]


def collect_security_groups(
    factory: ClientFactory, account: Account, region: str
) -> list[EvidenceItem | CollectionError]:
    ec2 = factory.client(account, "ec2", region)
    items: list[EvidenceItem | CollectionError] = []
    for group in paginate(ec2, "describe_security_groups", "SecurityGroups"):
        data = _scoped(group, account, region)
        arn = data.get("SecurityGroupArn") or (
            f"arn:{account.partition}:ec2:{region}:{account.account_id}:security-group/{group['GroupId']}"
        )
        data["SecurityGroupArn"] = arn
        data.setdefault("IpPermissions", [])
        data.setdefault("IpPermissionsEgress", [])
        items.append(EvidenceItem("aws.ec2.security_group", arn, data))
    return items


def _flow_logs_by_vpc(ec2: Any) -> dict[str, list[dict[str, Any]]]:
    by_resource: dict[str, list[dict[str, Any]]] = {}
    for flow_log in paginate(ec2, "describe_flow_logs", "FlowLogs"):
        by_resource.setdefault(flow_log.get("ResourceId", ""), []).append(plain(flow_log))
    return by_resource


def collect_vpcs(factory: ClientFactory, account: Account, region: str) -> list[EvidenceItem | CollectionError]:
    ec2 = factory.client(account, "ec2", region)
    flow_logs, flow_logs_error = attempt(lambda: _flow_logs_by_vpc(ec2))
    items: list[EvidenceItem | CollectionError] = []
    if flow_logs_error is not None:
        reason = f"{account.account_id}/{region}: DescribeFlowLogs (flow_logs unknown): {error_text(flow_logs_error)}"
        items.append(CollectionError("aws.ec2.vpc", reason, ("flow_logs",)))
    for vpc in paginate(ec2, "describe_vpcs", "Vpcs"):
        data = _scoped(vpc, account, region)
        arn = f"arn:{account.partition}:ec2:{region}:{vpc.get('OwnerId') or account.account_id}:vpc/{vpc['VpcId']}"
        data["arn"] = arn
        if flow_logs is not None:  # else left out: unknown, never "no flow log"
            data["flow_logs"] = flow_logs.get(vpc["VpcId"], [])
        items.append(EvidenceItem("aws.ec2.vpc", arn, data))
    return items


def _rotation(kms: Any, meta: dict[str, Any]) -> tuple[bool | None, int | None]:
    """Rotation state where AWS defines one (symmetric keys with key material from KMS), else None."""
    if meta.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT" or meta.get("KeyState") not in (
        "Enabled",
        "Disabled",
    ):
        return None, None
    try:
        status = kms.get_key_rotation_status(KeyId=meta["KeyId"])
    except aws_exceptions() as exc:
        if error_code(exc) == "UnsupportedOperationException":  # e.g. imported key material
            return None, None
        raise
    return bool(status.get("KeyRotationEnabled")), status.get("RotationPeriodInDays")


def collect_kms_keys(factory: ClientFactory, account: Account, region: str) -> list[EvidenceItem | CollectionError]:
    kms = factory.client(account, "kms", region)
    scope = f"{account.account_id}/{region}"
    unknowns = Unknowns("aws.kms.key")
    items: list[EvidenceItem | CollectionError] = []
    for key in paginate(kms, "list_keys", "Keys"):
        try:
            meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        except aws_exceptions() as exc:
            # Without its metadata the key cannot be reported at all: a missing item, not a missing field.
            items.append(CollectionError("aws.kms.key", f"{scope}: DescribeKey {key['KeyId']}: {error_text(exc)}"))
            continue
        if meta.get("KeyManager") != "CUSTOMER":
            continue  # AWS-managed keys rotate yearly by AWS and cannot be changed
        data = _scoped(meta, account, region)
        data.setdefault("KeySpec", meta.get("CustomerMasterKeySpec"))
        try:
            enabled, period = _rotation(kms, meta)
        except aws_exceptions() as exc:
            unknowns.add(scope, "GetKeyRotationStatus", ROTATION_FIELDS, f"key {meta['KeyId']}", exc)
        else:
            data.update(rotation_enabled=enabled, rotation_period_days=period)
        items.append(EvidenceItem("aws.kms.key", meta["Arn"], data))
    return [*unknowns.errors(), *items]


def collect_rds_instances(
    factory: ClientFactory, account: Account, region: str
) -> list[EvidenceItem | CollectionError]:
    rds = factory.client(account, "rds", region)
    return [
        EvidenceItem("aws.rds.instance", db["DBInstanceArn"], _scoped(db, account, region))
        for db in paginate(rds, "describe_db_instances", "DBInstances")
    ]


def _listeners(elb: Any, balancer_arn: str) -> list[dict[str, Any]]:
    return [plain(lst) for lst in paginate(elb, "describe_listeners", "Listeners", LoadBalancerArn=balancer_arn)]


def collect_load_balancers(
    factory: ClientFactory, account: Account, region: str
) -> list[EvidenceItem | CollectionError]:
    """Application, Network and Gateway Load Balancers (ELBv2) of the region with their listeners."""
    elb = factory.client(account, "elbv2", region)
    scope = f"{account.account_id}/{region}"
    unknowns = Unknowns("aws.elbv2.load_balancer")
    items: list[EvidenceItem | CollectionError] = []
    for balancer in paginate(elb, "describe_load_balancers", "LoadBalancers"):
        data = _scoped(balancer, account, region)
        arn = balancer["LoadBalancerArn"]
        # Per load balancer: DescribeListeners takes one LoadBalancerArn (or listener ARNs); ELBv2 has no
        # call that lists every listener of a region.
        unknowns.read(
            data,
            "listeners",
            partial(_listeners, elb, arn),
            scope=scope,
            call="DescribeListeners",
            subject=f"load balancer {balancer.get('LoadBalancerName')}",
        )
        items.append(EvidenceItem("aws.elbv2.load_balancer", arn, data))
    return [*unknowns.errors(), *items]
