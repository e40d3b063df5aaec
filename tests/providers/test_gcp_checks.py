"""Every GCP check over evidence the real connector collected from the imitation: failing and passing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stub import Stub

from collector.testing import collect_items, evaluate_connector_checks
from connectors.base import CollectionError, EvidenceItem
from connectors.gcp import GcpConnector

from .gcp_estate import NOW, ORG, seed
from .gcp_imitation import GcpImitation

Records = list[EvidenceItem | CollectionError]
FW = "projects/shared-net/global/firewalls/"
SQL = "projects/prod-app/instances/"
BUCKET = "projects/_/buckets/"
CI_KEY = "projects/prod-app/serviceAccounts/ci@prod-app.iam.gserviceaccount.com/keys/k-old"
PROXY = "projects/prod-app/"

# check id -> (params, the resources the seeded estate fails on)
EXPECTED: dict[str, tuple[dict[str, Any], list[str]]] = {
    "gcp.project.no_public_iam_bindings": ({}, ["projects/prod-app"]),
    "gcp.project.service_accounts_not_admin": ({}, ["projects/prod-app"]),
    "gcp.iam.service_account_keys_rotated": ({}, [CI_KEY]),
    "gcp.storage.bucket_not_public": ({}, [BUCKET + "prod-app-public-web"]),
    "gcp.storage.bucket_uniform_access": ({}, [BUCKET + "prod-app-public-web"]),
    "gcp.compute.firewall_admin_ports_closed": ({}, [FW + "allow-rdp-range", FW + "allow-ssh-anywhere"]),
    "gcp.sql.instance_backups_enabled": ({}, [SQL + "legacy-db"]),
    "gcp.sql.instance_not_open_to_internet": ({}, [SQL + "legacy-db"]),
    "gcp.project.primitive_roles_not_granted_to_users": ({}, ["projects/dev-sandbox", "projects/prod-app"]),
    "gcp.project.members_in_allowed_domains": ({"allowed_domains": ["example.com"]}, ["projects/dev-sandbox"]),
    "gcp.storage.bucket_public_access_prevention_enforced": (
        {},
        [BUCKET + "prod-app-logs", BUCKET + "prod-app-public-web"],
    ),
    "gcp.storage.bucket_versioning_enabled": ({}, [BUCKET + "prod-app-logs", BUCKET + "prod-app-public-web"]),
    "gcp.storage.bucket_cmek_where_required": ({}, [BUCKET + "prod-app-public-web"]),
    "gcp.sql.instance_cmek_where_required": ({}, [SQL + "legacy-db"]),
    "gcp.sql.instance_ssl_required": ({}, [SQL + "legacy-db"]),
    "gcp.compute.firewall_logging_enabled": ({}, [FW + "allow-rdp-range", FW + "allow-ssh-anywhere"]),
    # coverage (issue 15)
    "gcp.storage.bucket_classification_labelled": ({}, [BUCKET + "prod-app-logs"]),
    "gcp.sql.instance_classification_labelled": ({}, [SQL + "analytics-db"]),
    # the labelled logs bucket passes; naming the assets bucket brings an unprotected one into scope
    "gcp.storage.bucket_retention_locked_where_required": (
        {"buckets": ["prod-app-assets"]},
        [BUCKET + "prod-app-assets"],
    ),
    "gcp.storage.bucket_lifecycle_delete_where_required": (
        {"buckets": ["prod-app-assets"]},
        [BUCKET + "prod-app-assets"],
    ),
    "gcp.storage.bucket_multi_region_where_critical": ({}, [BUCKET + "prod-app-public-web"]),
    "gcp.sql.instance_storage_auto_resize": ({}, [SQL + "legacy-db"]),
    "gcp.sql.instance_regional_ha": ({}, [SQL + "legacy-db"]),
    "gcp.sql.instance_private_ip_only": ({}, [SQL + "legacy-db"]),
    "gcp.project.environment_in_matching_folder": ({}, ["projects/dev-sandbox", "projects/org-admin"]),
    "gcp.compute.project_login_restricted": (
        {},
        ["projects/dev-sandbox", "projects/prod-app", "projects/prod-data-lake"],
    ),
    "gcp.compute.default_network_absent": ({}, ["projects/shared-net/global/networks/default"]),
    "gcp.collector.read_only": ({}, ["projects/prod-app"]),
    "gcp.compute.https_proxy_modern_tls": (
        {},
        [
            PROXY + "global/targetHttpsProxies/web-legacy",
            PROXY + "regions/europe-west3/targetHttpsProxies/internal-api",
        ],
    ),
    "gcp.project.security_contact_registered": ({}, ["projects/org-admin", "projects/shared-net"]),
}

# what a failing resource of each new check is told (check id -> resource -> message)
MESSAGES = {
    "gcp.storage.bucket_classification_labelled": {
        BUCKET + "prod-app-logs": "bucket prod-app-logs has no data-classification label with one of "
        "['public', 'internal', 'confidential', 'restricted']"
    },
    "gcp.storage.bucket_multi_region_where_critical": {
        BUCKET + "prod-app-public-web": "bucket prod-app-public-web is labelled critical but stored in one region "
        "(EUROPE-WEST3)"
    },
    "gcp.sql.instance_regional_ha": {
        SQL + "legacy-db": "Cloud SQL instance projects/prod-app/instances/legacy-db runs in a single zone "
        "(availabilityType ZONAL)"
    },
    "gcp.sql.instance_private_ip_only": {
        SQL + "legacy-db": "Cloud SQL instance projects/prod-app/instances/legacy-db has a public IP address"
    },
    "gcp.sql.instance_storage_auto_resize": {
        SQL + "legacy-db": "Cloud SQL instance projects/prod-app/instances/legacy-db does not increase its storage "
        "automatically"
    },
    "gcp.project.environment_in_matching_folder": {
        "projects/org-admin": "projects/org-admin: no folder above it matches its environment label "
        "(labels {'environment': 'prod'})"
    },
    "gcp.compute.project_login_restricted": {
        "projects/prod-app": "projects/prod-app does not require OS Login or allows the serial console "
        "(project metadata)"
    },
    "gcp.compute.default_network_absent": {
        "projects/shared-net/global/networks/default": "project shared-net still has the default network "
        "(projects/shared-net/global/networks/default)"
    },
    "gcp.collector.read_only": {
        "projects/prod-app": "the collector's identity can ['compute.instances.delete', 'storage.buckets.update'] "
        "on projects/prod-app"
    },
    "gcp.compute.https_proxy_modern_tls": {
        PROXY + "global/targetHttpsProxies/web-legacy": "HTTPS proxy projects/prod-app/global/targetHttpsProxies/"
        "web-legacy accepts TLS below 1.2 or weak ciphers (no modern SSL policy attached)"
    },
    "gcp.project.security_contact_registered": {
        "projects/shared-net": "projects/shared-net has no essential contact for SECURITY notifications "
        "(own or inherited)"
    },
}


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Records]:
    """One collection for the whole module (the autouse env fixture is function-scoped, so set up here)."""
    mp = pytest.MonkeyPatch()
    stub = Stub()
    stub.start()
    try:
        imitation = seed(GcpImitation(stub).install())
        imitation.policies[ORG]["bindings"].append({"role": "roles/browser", "members": ["allAuthenticatedUsers"]})
        imitation.policies["folders/12"] = {"bindings": [{"role": "roles/viewer", "members": ["allUsers"]}]}
        key_file = imitation.write_key_file(Path(tmp_path_factory.mktemp("gcp")))
        mp.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
        mp.setenv("NO_GCE_CHECK", "True")
        mp.setattr(GcpConnector, "retry_sleep", lambda seconds: None)
        yield collect_items(GcpConnector, {"organization_id": "1000", "api_endpoint": stub.base_url})
    finally:
        mp.undo()
        stub.stop()


def without(records: Records, ids: list[str]) -> Records:
    return [r for r in records if not (isinstance(r, EvidenceItem) and r.id in ids)]


@pytest.mark.parametrize("check_id", sorted(EXPECTED))
def test_check_fails_on_the_non_compliant_resources_and_passes_without_them(collected: Records, check_id: str) -> None:
    params, failing = EXPECTED[check_id]
    overrides = {check_id: params} if params else None
    result = evaluate_connector_checks(GcpConnector, collected, params=overrides, now=NOW)[check_id]
    assert result.status == "fail", result.errors
    assert sorted(result.failing) == failing
    assert all(f.message for f in result.findings if f.status == "fail")

    fixed = evaluate_connector_checks(GcpConnector, without(collected, failing), params=overrides, now=NOW)[check_id]
    assert fixed.status == "pass", (fixed.failing, fixed.errors)


@pytest.mark.parametrize("check_id", sorted(MESSAGES))
def test_failing_resources_are_told_what_is_wrong(collected: Records, check_id: str) -> None:
    params, _ = EXPECTED[check_id]
    result = evaluate_connector_checks(GcpConnector, collected, params={check_id: params} if params else None, now=NOW)
    messages = {f.resource: f.message for f in result[check_id].findings if f.status == "fail"}
    for resource, message in MESSAGES[check_id].items():
        assert messages[resource] == message


def test_public_bindings_on_organization_and_folders(collected: Records) -> None:
    results = evaluate_connector_checks(GcpConnector, collected, now=NOW)
    assert results["gcp.organization.no_public_iam_bindings"].failing == [ORG]
    assert results["gcp.folder.no_public_iam_bindings"].failing == ["folders/12"]
    folders = [r for r in collected if isinstance(r, EvidenceItem) and r.kind == "gcp.folder" and r.id != "folders/12"]
    assert evaluate_connector_checks(GcpConnector, folders, now=NOW)["gcp.folder.no_public_iam_bindings"].status == (
        "pass"
    )
    org = EvidenceItem("gcp.organization", ORG, {"name": ORG, "iam_policy": {"bindings": [], "auditConfigs": []}})
    assert evaluate_connector_checks(GcpConnector, [org], now=NOW)[
        "gcp.organization.no_public_iam_bindings"
    ].status == ("pass")


def test_audit_logging_passes_through_the_inherited_organization_config(collected: Records) -> None:
    result = evaluate_connector_checks(GcpConnector, collected, now=NOW)["gcp.project.audit_logging_enabled"]
    assert result.status == "pass" and result.counts["pass"] == 5


def test_audit_logging_needs_both_data_read_and_data_write() -> None:
    def project(own: list[dict[str, Any]], inherited: list[dict[str, Any]]) -> EvidenceItem:
        policy = {"bindings": [], "auditConfigs": own}
        return EvidenceItem("gcp.project", "projects/p", {"iam_policy": policy, "inherited_audit_configs": inherited})

    def status(item: EvidenceItem) -> str:
        return evaluate_connector_checks(GcpConnector, [item], now=NOW)["gcp.project.audit_logging_enabled"].status

    read = {"service": "allServices", "auditLogConfigs": [{"logType": "DATA_READ"}]}
    write = {"service": "allServices", "auditLogConfigs": [{"logType": "DATA_WRITE"}]}
    storage_only = {"service": "storage.googleapis.com", "auditLogConfigs": [{"logType": "DATA_WRITE"}]}
    assert status(project([read], [])) == "fail"
    assert status(project([read], [storage_only])) == "fail"
    assert status(project([read], [{"source": ORG, **write}])) == "pass"  # merged across the hierarchy
    assert status(project([], [{"source": ORG, **read}, {"source": ORG, **write}])) == "pass"


def test_key_age_threshold_is_a_parameter(collected: Records) -> None:
    strict = {"gcp.iam.service_account_keys_rotated": {"max_age_days": 5}}
    result = evaluate_connector_checks(GcpConnector, collected, params=strict, now=NOW)
    assert len(result["gcp.iam.service_account_keys_rotated"].failing) == 2  # the 10-day-old key too


def test_firewall_admin_ports_edge_cases() -> None:
    def rule(ranges: list[dict[str, Any]], sources: list[str], **extra: Any) -> EvidenceItem:
        data = {"direction": "INGRESS", "disabled": False, "sourceRanges": sources, "allowed_port_ranges": ranges}
        return EvidenceItem("gcp.compute.firewall", "projects/p/global/firewalls/r", {**data, **extra})

    def status(item: EvidenceItem) -> str:
        results = evaluate_connector_checks(GcpConnector, [item], now=NOW)
        return results["gcp.compute.firewall_admin_ports_closed"].status

    everything = [{"protocol": "all", "from": 0, "to": 65535}]
    assert status(rule(everything, ["0.0.0.0/0"])) == "fail"
    assert status(rule([{"protocol": "tcp", "from": 3389, "to": 3389}], ["10.0.0.0/8", "0.0.0.0/0"])) == "fail"
    assert status(rule([{"protocol": "udp", "from": 0, "to": 65535}], ["0.0.0.0/0"])) == "pass"
    assert status(rule(everything, ["35.235.240.0/20"])) == "pass"
    assert status(rule(everything, ["0.0.0.0/0"], direction="EGRESS")) == "not_applicable"
    assert status(rule(everything, ["0.0.0.0/0"], disabled=True)) == "not_applicable"


def test_members_in_allowed_domains_is_off_without_domains(collected: Records) -> None:
    result = evaluate_connector_checks(GcpConnector, collected, now=NOW)["gcp.project.members_in_allowed_domains"]
    assert result.status == "not_applicable"


def test_read_replicas_are_out_of_backup_scope() -> None:
    replica = EvidenceItem(
        "gcp.sql.instance",
        "projects/p/instances/replica",
        {"instanceType": "READ_REPLICA_INSTANCE", "settings": {"backupConfiguration": None}},
    )
    result = evaluate_connector_checks(GcpConnector, [replica], now=NOW)["gcp.sql.instance_backups_enabled"]
    assert result.status == "not_applicable"


def test_every_check_has_a_remediation_and_known_kind() -> None:
    import yaml

    from control_mappings import MAPPINGS_DIR

    checks = yaml.safe_load((MAPPINGS_DIR / "gcp.yaml").read_text())["checks"]
    kinds = GcpConnector.kind_names()
    assert {c["id"] for c in checks} >= set(EXPECTED) | {"gcp.project.audit_logging_enabled"}
    assert all(c["remediation"].strip() and c["evidence"] in kinds for c in checks)


CONTRACT_CONTROLS = {
    "gcp.project.no_public_iam_bindings": {"A.5.15", "A.8.3"},
    "gcp.project.service_accounts_not_admin": {"A.8.2"},
    "gcp.project.audit_logging_enabled": {"A.8.15"},
    "gcp.iam.service_account_keys_rotated": {"A.5.17"},
    "gcp.storage.bucket_not_public": {"A.8.3", "A.5.15"},
    "gcp.storage.bucket_uniform_access": {"A.8.3"},
    "gcp.compute.firewall_admin_ports_closed": {"A.8.20"},
    "gcp.sql.instance_backups_enabled": {"A.8.13"},
    "gcp.sql.instance_not_open_to_internet": {"A.8.20"},
}


def test_fixed_checks_carry_at_least_the_contract_controls() -> None:
    import yaml

    from control_mappings import MAPPINGS_DIR

    checks = {c["id"]: c for c in yaml.safe_load((MAPPINGS_DIR / "gcp.yaml").read_text())["checks"]}
    for check_id, controls in CONTRACT_CONTROLS.items():
        assert controls <= set(checks[check_id]["controls"]), check_id
    assert checks["gcp.iam.service_account_keys_rotated"]["params"] == {"max_age_days": 90}


def test_demo_estate_is_deterministic_and_shows_every_fixed_check() -> None:
    first = list(GcpConnector.simulated_estate(NOW))
    assert [getattr(r, "data", r) for r in first] == [getattr(r, "data", r) for r in GcpConnector.simulated_estate(NOW)]
    kinds = GcpConnector.kind_names()
    assert all(r.kind in kinds for r in first)
    for item in first:
        if isinstance(item, EvidenceItem):
            field = next(k.id_field for k in GcpConnector.evidence_kinds if k.name == item.kind)
            assert item.data[field] == item.id
    results = evaluate_connector_checks(GcpConnector, first, now=NOW)
    assert {results[c].status for c in CONTRACT_CONTROLS} <= {"pass", "fail"}
    assert results["gcp.storage.bucket_not_public"].failing == ["projects/_/buckets/example-analytics-exports"]
