"""The coverage kinds and fields (issue 15) through the real connector over HTTP against the imitation:
Compute project metadata, networks, HTTPS proxies with SSL policies, the collector's own permissions,
folder names above projects and essential contacts. Each list crosses a page boundary; each new call
is denied once, and the checks reading it become error, never pass.
"""

from __future__ import annotations

from typing import Any

from collector.testing import evaluate_connector_checks
from connectors.base import CollectionError, EvidenceItem
from connectors.gcp import GcpConnector
from connectors.gcp.kinds import COLLECTOR_WRITE_PERMISSIONS

from . import test_gcp_collect as base
from .gcp_estate import NOW, ORG
from .gcp_imitation import SA_EMAIL, GcpImitation, google_error
from .test_gcp_collect import errors, items, run, scoped, unknown, without

gcp, sleeps = base.gcp, base.sleeps  # the same fixtures: the seeded imitation, retries without sleeping

Records = list[EvidenceItem | CollectionError]
PROXIES = "projects/prod-app/global/targetHttpsProxies/"
REGIONAL = "projects/prod-app/regions/europe-west3/targetHttpsProxies/"


def paged(imitation: GcpImitation, path: str) -> int:
    """How many requests for ``path`` asked for a later page."""
    return sum(1 for r in imitation.stub.log if r.path == path and r.query.get("pageToken"))


def status(records: Records, check_id: str, params: dict[str, Any] | None = None) -> Any:
    return evaluate_connector_checks(GcpConnector, records, params={check_id: params} if params else None, now=NOW)[
        check_id
    ]


# -- what is collected ---------------------------------------------------------------------------


def test_compute_project_metadata_and_networks(gcp: GcpImitation) -> None:
    records = run(gcp)

    assert errors(records) == []
    metadata = {i: p.data["commonInstanceMetadata"]["items"] for i, p in items(records, "gcp.compute.project").items()}
    assert set(metadata) == {
        f"projects/{p}" for p in ("prod-app", "prod-data-lake", "dev-sandbox", "shared-net", "org-admin")
    }
    assert metadata["projects/dev-sandbox"] == []  # no project metadata at all: the API omits items
    assert {"key": "serial-port-enable", "value": "1"} in metadata["projects/prod-app"]
    networks = items(records, "gcp.compute.network")
    assert set(networks) == {
        "projects/shared-net/global/networks/default",
        "projects/shared-net/global/networks/main",
        "projects/shared-net/global/networks/dmz",
        "projects/prod-app/global/networks/prod-vpc",
    }
    assert networks["projects/shared-net/global/networks/default"].data["autoCreateSubnetworks"] is True
    assert paged(gcp, "/compute/v1/projects/shared-net/global/networks") == 1  # 3 networks, 2 per page
    assert gcp.stub.count("GET", r"/compute/v1/projects/prod-app") == 1  # one projects.get per project


def test_https_proxies_carry_their_ssl_policy(gcp: GcpImitation) -> None:
    records = run(gcp)

    proxies = items(records, "gcp.compute.target_https_proxy")
    assert set(proxies) == {PROXIES + "web-modern", PROXIES + "web-legacy", REGIONAL + "internal-api"}
    modern = proxies[PROXIES + "web-modern"].data["ssl_policy"]
    assert (modern["name"], modern["profile"], modern["minTlsVersion"]) == ("modern-tls12", "MODERN", "TLS_1_2")
    assert proxies[PROXIES + "web-legacy"].data["ssl_policy"] is None  # none attached: Google's default
    assert proxies[REGIONAL + "internal-api"].data["ssl_policy"]["name"] == "compat-tls12"  # a regional policy
    # both aggregated lists span pages (3 proxies, 3 policies, 2 per page); NO_RESULTS_ON_PAGE scopes are skipped
    assert paged(gcp, "/compute/v1/projects/prod-app/aggregated/targetHttpsProxies") == 1
    assert paged(gcp, "/compute/v1/projects/prod-app/aggregated/sslPolicies") == 1
    # projects without proxies never ask for SSL policies
    assert gcp.stub.count("GET", r"/compute/v1/projects/shared-net/aggregated/sslPolicies") == 0


def test_collector_permissions_are_tested_per_project(gcp: GcpImitation) -> None:
    records = run(gcp)

    collectors = items(records, "gcp.collector")
    assert len(collectors) == 5
    prod = collectors["projects/prod-app"].data
    assert prod["identity"] == SA_EMAIL
    assert prod["tested_permissions"] == list(COLLECTOR_WRITE_PERMISSIONS)
    # storage.buckets.list is held too, but was not asked: only write permissions are reported
    assert prod["granted_permissions"] == ["compute.instances.delete", "storage.buckets.update"]
    assert collectors["projects/shared-net"].data["granted_permissions"] == []
    [request] = [r for r in gcp.stub.log if r.path == "/v3/projects/201:testIamPermissions"]
    assert request.json() == {"permissions": list(COLLECTOR_WRITE_PERMISSIONS)}


def test_projects_know_their_folder_names_in_both_scope_modes(gcp: GcpImitation) -> None:
    walked = items(run(gcp), "gcp.project")
    listed = items(run(gcp, projects=["prod-data-lake", "org-admin"]), "gcp.project")

    folders = [{"name": "folders/21", "displayName": "prod-data"}, {"name": "folders/11", "displayName": "prod"}]
    assert walked["projects/prod-data-lake"].data["ancestor_folders"] == folders
    assert listed["projects/prod-data-lake"].data["ancestor_folders"] == folders  # read with folders.get
    assert walked["projects/org-admin"].data["ancestor_folders"] == []
    assert listed["projects/org-admin"].data["ancestors"] == [ORG]


def test_essential_contacts_include_inherited_ones(gcp: GcpImitation) -> None:
    records = run(gcp)

    projects = items(records, "gcp.project")
    emails = {i: [c["email"] for c in p.data["essential_contacts"]] for i, p in projects.items()}
    assert emails["projects/prod-app"] == ["prod-security@example.com", "prod-ops@example.com", "billing@example.com"]
    assert emails["projects/dev-sandbox"] == ["sandbox-owner@example.com", "billing@example.com"]
    assert emails["projects/org-admin"] == ["billing@example.com"]
    # 3 contacts for prod-app: two pages; every call asked for every category
    assert paged(gcp, "/v1/projects/prod-app/contacts:compute") == 1
    calls = [r for r in gcp.stub.log if r.path.endswith("contacts:compute")]
    assert {r.query["notificationCategories"] for r in calls} == {"ALL"}


def test_disabled_compute_is_one_fact_and_no_further_compute_calls(gcp: GcpImitation) -> None:
    gcp.disabled.add(("compute", "org-admin"))
    records = run(gcp)

    assert errors(records) == []
    facts = items(records, "gcp.project")["projects/org-admin"].data["disabled_services"]
    assert [(f["service"], f["evidence_kinds"]) for f in facts] == [
        (
            "compute.googleapis.com",
            ["gcp.compute.firewall", "gcp.compute.project", "gcp.compute.network", "gcp.compute.target_https_proxy"],
        )
    ]
    assert [r.path for r in gcp.stub.log if r.path.startswith("/compute/v1/projects/org-admin")] == [
        "/compute/v1/projects/org-admin/global/firewalls"
    ]
    assert "projects/org-admin" not in items(records, "gcp.compute.project")


# -- permission denials: the checks that read a denied fact are error, never pass -------------


def test_denied_project_metadata_is_an_error_for_os_login(gcp: GcpImitation) -> None:
    gcp.denied.add(("compute.projects.get", "shared-net"))
    records = run(gcp)

    assert errors(records, "gcp.compute.project") == [
        "projects/shared-net: compute.googleapis.com: 403 forbidden: "
        "Required 'compute.projects.get' permission for 'projects/shared-net'"
    ]
    assert "projects/shared-net" not in items(records, "gcp.compute.project")
    assert errors(records) == errors(records, "gcp.compute.project")  # networks etc. were still read
    result = status(records, "gcp.compute.project_login_restricted")
    assert result.status == "fail" and result.errors  # the others fail on their own metadata
    passing = without(records, ["projects/dev-sandbox", "projects/prod-app", "projects/prod-data-lake"])
    assert status(passing, "gcp.compute.project_login_restricted").status == "error"


def test_denied_networks_list_is_an_error_for_the_default_network(gcp: GcpImitation) -> None:
    gcp.denied.add(("compute.networks.list", "shared-net"))
    records = run(gcp)

    assert errors(records) == [
        "projects/shared-net: compute.googleapis.com: 403 forbidden: "
        "Required 'compute.networks.list' permission for 'projects/shared-net'"
    ]
    assert set(items(records, "gcp.compute.network")) == {"projects/prod-app/global/networks/prod-vpc"}
    result = status(records, "gcp.compute.default_network_absent")
    assert result.status == "error" and result.counts == {"pass": 1, "fail": 0, "error": 0}
    assert "compute.networks.list" in result.errors[0]


def test_denied_proxy_list_is_an_error_for_tls(gcp: GcpImitation) -> None:
    gcp.denied.add(("compute.targetHttpsProxies.list", "prod-app"))
    records = run(gcp)

    assert errors(records) == [
        "projects/prod-app: compute.googleapis.com: 403 forbidden: "
        "Required 'compute.targetHttpsProxies.list' permission for 'projects/prod-app'"
    ]
    assert items(records, "gcp.compute.target_https_proxy") == {}
    assert status(records, "gcp.compute.https_proxy_modern_tls").status == "error"


def test_denied_ssl_policies_leave_only_attached_policies_unknown(gcp: GcpImitation) -> None:
    gcp.denied.add(("compute.sslPolicies.list", "prod-app"))
    records = run(gcp)

    reason = (
        "sslPolicies.aggregatedList: 403 forbidden: "
        "Required 'compute.sslPolicies.list' permission for 'projects/prod-app'"
    )
    assert unknown(records, "gcp.compute.target_https_proxy", PROXIES + "web-modern") == {"ssl_policy": reason}
    assert unknown(records, "gcp.compute.target_https_proxy", REGIONAL + "internal-api") == {"ssl_policy": reason}
    assert unknown(records, "gcp.compute.target_https_proxy", PROXIES + "web-legacy") == {}  # none attached: known
    [(message, fields)] = scoped(records, "gcp.compute.target_https_proxy")
    assert fields == ("ssl_policy",) and message.endswith(reason)
    result = status(records, "gcp.compute.https_proxy_modern_tls")
    assert result.status == "fail" and result.failing == [PROXIES + "web-legacy"]
    assert sorted(f.resource for f in result.findings if f.status == "error") == [
        PROXIES + "web-modern",
        REGIONAL + "internal-api",
    ]
    assert status(without(records, [PROXIES + "web-legacy"]), "gcp.compute.https_proxy_modern_tls").status == "error"


def test_a_policy_missing_from_the_list_is_unknown_not_absent(gcp: GcpImitation) -> None:
    gcp.ssl_policies["prod-app"] = [(w, p) for w, p in gcp.ssl_policies["prod-app"] if p["name"] != "compat-tls12"]
    records = run(gcp)

    missing = "projects/prod-app/regions/europe-west3/sslPolicies/compat-tls12 is not in sslPolicies.aggregatedList"
    assert unknown(records, "gcp.compute.target_https_proxy", REGIONAL + "internal-api") == {"ssl_policy": missing}
    result = status(records, "gcp.compute.https_proxy_modern_tls")
    assert [f.resource for f in result.findings if f.status == "error"] == [REGIONAL + "internal-api"]


def test_denied_test_iam_permissions_is_an_error_for_read_only(gcp: GcpImitation) -> None:
    gcp.denied.add(("testIamPermissions", "201"))
    records = run(gcp)

    assert errors(records) == [
        "projects/prod-app: testIamPermissions: 403 IAM_PERMISSION_DENIED: "
        "Permission 'resourcemanager.projects.testIamPermissions' denied on resource 'projects/201'"
    ]
    assert "projects/prod-app" not in items(records, "gcp.collector")
    result = status(records, "gcp.collector.read_only")
    assert result.status == "error" and result.counts == {"pass": 4, "fail": 0, "error": 0}


def test_denied_folder_get_leaves_the_environment_undecided(gcp: GcpImitation) -> None:
    _, _, body = google_error(
        403, "PERMISSION_DENIED", "Permission 'resourcemanager.folders.get' denied on 'folders/12'"
    )
    gcp.stub.fail("GET", r"/v3/folders/12", 403, times=10, body=body)
    records = run(gcp, projects=["dev-sandbox", "prod-app"])

    assert set(unknown(records, "gcp.project", "projects/dev-sandbox")) >= {"ancestors", "ancestor_folders"}
    result = status(records, "gcp.project.environment_in_matching_folder")
    assert result.status == "error" and result.counts == {"pass": 1, "fail": 0, "error": 1}
    assert "resourcemanager.folders.get" in result.errors[0]


def test_denied_contacts_leave_the_field_unknown(gcp: GcpImitation) -> None:
    gcp.denied.add(("essentialcontacts", "shared-net"))
    records = run(gcp)

    reason = (
        "contacts.compute: 403 IAM_PERMISSION_DENIED: "
        "Permission 'essentialcontacts.contacts.list' denied on resource 'projects/shared-net'"
    )
    assert unknown(records, "gcp.project", "projects/shared-net") == {"essential_contacts": reason}
    assert scoped(records, "gcp.project") == [(f"projects/shared-net: {reason}", ("essential_contacts",))]
    results = evaluate_connector_checks(GcpConnector, records, now=NOW)
    contacts = results["gcp.project.security_contact_registered"]
    assert contacts.failing == ["projects/org-admin"]
    assert [f.resource for f in contacts.findings if f.status == "error"] == ["projects/shared-net"]
    assert status(without(records, ["projects/org-admin"]), "gcp.project.security_contact_registered").status == (
        "error"
    )
    # the project's other facts were read: its other checks keep their status
    assert results["gcp.project.no_public_iam_bindings"].errors == []
    assert results["gcp.project.environment_in_matching_folder"].errors == []


# -- the rules over edge cases ---------------------------------------------------------------------


def one(kind: str, data: dict[str, Any], check_id: str, params: dict[str, Any] | None = None) -> str:
    return str(status([EvidenceItem(kind, "projects/p/x", data)], check_id, params).status)


def test_retention_must_be_locked_and_long_enough() -> None:
    def bucket(policy: dict[str, Any] | None) -> str:
        data = {"name": "x", "labels": {"retention": "1y"}, "retentionPolicy": policy}
        return one("gcp.storage.bucket", data, "gcp.storage.bucket_retention_locked_where_required")

    year = str(365 * 24 * 3600)
    assert bucket({"retentionPeriod": year, "isLocked": True}) == "pass"
    assert bucket({"retentionPeriod": year}) == "fail"  # the API omits isLocked while unlocked
    assert bucket({"retentionPeriod": "86400", "isLocked": True}) == "fail"
    assert bucket(None) == "fail"
    unlabelled = {"name": "x", "labels": None, "retentionPolicy": None}
    check = "gcp.storage.bucket_retention_locked_where_required"
    assert one("gcp.storage.bucket", unlabelled, check) == "not_applicable"
    assert one("gcp.storage.bucket", unlabelled, check, {"buckets": ["x"]}) == "fail"


def test_lifecycle_needs_a_delete_action() -> None:
    def bucket(lifecycle: dict[str, Any] | None) -> str:
        data = {"name": "x", "labels": {"retention": "30d"}, "lifecycle": lifecycle}
        return one("gcp.storage.bucket", data, "gcp.storage.bucket_lifecycle_delete_where_required")

    assert bucket({"rule": [{"action": {"type": "SetStorageClass", "storageClass": "ARCHIVE"}}]}) == "fail"
    assert bucket({"rule": [{"action": {"type": "Delete"}, "condition": {"age": 30}}]}) == "pass"
    assert bucket(None) == "fail"


def test_environment_folders_can_be_mapped(gcp: GcpImitation) -> None:
    records = run(gcp)
    check = "gcp.project.environment_in_matching_folder"

    for mapping in (["dev"], ["folders/12"]):
        result = status(records, check, {"folders": {"development": mapping}})
        assert result.failing == ["projects/org-admin"], mapping
    project = {"labels": {"environment": "prod"}, "ancestor_folders": [{"name": "folders/1", "displayName": "PROD"}]}
    assert one("gcp.project", project, check) == "pass"  # display names match case-insensitively
    assert one("gcp.project", {"labels": {}, "ancestor_folders": []}, check) == "not_applicable"


def test_login_restriction_reads_values_as_google_does() -> None:
    def project(**metadata: str) -> str:
        items = [{"key": k.replace("_", "-"), "value": v} for k, v in metadata.items()]
        data = {"commonInstanceMetadata": {"items": items}}
        return one("gcp.compute.project", data, "gcp.compute.project_login_restricted")

    assert project(enable_oslogin="True") == "pass"
    assert project(enable_oslogin="TRUE", serial_port_enable="0") == "pass"
    assert project(enable_oslogin="TRUE", serial_port_enable="true") == "fail"
    assert project(enable_oslogin="FALSE") == "fail"
    assert project(serial_port_enable="false") == "fail"


def test_tls_policy_needs_tls12_and_a_profile_beyond_compatible() -> None:
    def proxy(policy: dict[str, Any] | None) -> str:
        return one("gcp.compute.target_https_proxy", {"ssl_policy": policy}, "gcp.compute.https_proxy_modern_tls")

    assert proxy({"profile": "RESTRICTED", "minTlsVersion": "TLS_1_3"}) == "pass"
    assert proxy({"profile": "CUSTOM", "minTlsVersion": "TLS_1_2"}) == "pass"
    assert proxy({"profile": "MODERN", "minTlsVersion": "TLS_1_0"}) == "fail"
    assert proxy({"profile": "MODERN"}) == "fail"  # no minTlsVersion: the API default, TLS 1.0
    assert proxy(None) == "fail"


def test_security_contact_must_be_subscribed_and_valid() -> None:
    def project(*contacts: dict[str, Any]) -> str:
        return one("gcp.project", {"essential_contacts": list(contacts)}, "gcp.project.security_contact_registered")

    assert project({"notificationCategorySubscriptions": ["ALL"], "validationState": "VALID"}) == "pass"
    assert project({"notificationCategorySubscriptions": ["SECURITY"]}) == "pass"
    assert project({"notificationCategorySubscriptions": ["SECURITY"], "validationState": "INVALID"}) == "fail"
    assert project({"notificationCategorySubscriptions": ["TECHNICAL", "BILLING"]}) == "fail"
    assert project() == "fail"
