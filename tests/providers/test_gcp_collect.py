"""The GCP connector through google-auth and google-cloud-resource-manager against the local imitation.

Nothing is patched: the connector loads a generated service-account key through ADC, gets tokens
from the imitation's token endpoint, and reads every API over real HTTP.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from stub import Stub

from collector.testing import collect_items, evaluate_connector_checks
from connectors.base import CollectionError, ConnectorError, EvidenceItem
from connectors.gcp import GcpConnector
from connectors.gcp.settings import GcpSettings
from connectors.gcp.transport import FULL_SCOPE, READ_ONLY_SCOPE

from .gcp_estate import NOW, ORG, audit_all, seed
from .gcp_imitation import GcpImitation, google_error

Records = list[EvidenceItem | CollectionError]


class Sleeps(list[float]):
    """Stands in for time.sleep in the retry policy: records the waits instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    recorded = Sleeps()
    monkeypatch.setattr(GcpConnector, "retry_sleep", recorded)
    return recorded


@pytest.fixture
def gcp(stub: Stub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sleeps: Sleeps) -> Iterator[GcpImitation]:
    imitation = seed(GcpImitation(stub).install())
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(imitation.write_key_file(tmp_path)))
    yield imitation


# 4 attempts without backoff (the recorded sleeps are then only the servers' Retry-After waits)
FAST_RETRY = {"max_attempts": 4, "initial_backoff_seconds": 0.0, "max_backoff_seconds": 0.0}


def run(gcp: GcpImitation, **settings: object) -> Records:
    config: dict[str, object] = {"api_endpoint": gcp.stub.base_url, "retry": FAST_RETRY, **settings}
    if "projects" not in settings:
        config.setdefault("organization_id", "1000")
    return collect_items(GcpConnector, config)


def items(records: Records, kind: str) -> dict[str, EvidenceItem]:
    return {r.id: r for r in records if isinstance(r, EvidenceItem) and r.kind == kind}


def errors(records: Records, kind: str | None = None) -> list[str]:
    return [r.message for r in records if isinstance(r, CollectionError) and kind in (None, r.kind)]


def test_walks_the_organization_through_folders_and_pages(gcp: GcpImitation) -> None:
    records = run(gcp)

    assert errors(records) == []
    assert set(items(records, "gcp.organization")) == {ORG}
    # folders/21 is nested under folders/11; folders/99 is being deleted
    assert set(items(records, "gcp.folder")) == {"folders/11", "folders/12", "folders/13", "folders/21"}
    assert set(items(records, "gcp.project")) == {
        "projects/prod-app",
        "projects/prod-data-lake",
        "projects/dev-sandbox",
        "projects/shared-net",
        "projects/org-admin",
    }  # retired-app is DELETE_REQUESTED
    assert len(items(records, "gcp.compute.firewall")) == 5  # 3 pages of at most 2
    assert set(items(records, "gcp.storage.bucket")) == {
        "projects/_/buckets/prod-app-assets",
        "projects/_/buckets/prod-app-public-web",
        "projects/_/buckets/prod-app-logs",
    }
    # every list was read to the end, page by page, through both the client library and plain REST
    paged = [r for r in gcp.stub.log if r.query.get("pageToken")]
    assert {r.path for r in paged} >= {
        "/v3/folders",
        "/compute/v1/projects/shared-net/global/firewalls",
        "/storage/v1/b",
    }
    # the REST services authenticated with a token from the key's token_uri, read-only scope; only
    # Essential Contacts refused it (its methods list cloud-platform alone) and got the broad one
    assert gcp.issued_tokens and set(gcp.issued_tokens.values()) == {READ_ONLY_SCOPE, FULL_SCOPE}
    broad = {t for t, scope in gcp.issued_tokens.items() if scope == FULL_SCOPE}
    assert {r.path.rsplit("/", 1)[-1] for r in gcp.stub.log if r.headers.get("authorization", "")[7:] in broad} == {
        "contacts:compute"
    }
    assert all(r.method in ("GET", "POST") for r in gcp.stub.log)
    assert {r.path.rsplit(":", 1)[-1] for r in gcp.stub.log if r.method == "POST" and r.path != "/token"} == {
        "getIamPolicy",
        "testIamPermissions",
    }


def test_item_shapes_keep_raw_fields_and_joins(gcp: GcpImitation) -> None:
    records = run(gcp)
    project = items(records, "gcp.project")["projects/prod-app"].data
    assert project["name"] == "projects/201" and project["projectId"] == "prod-app"
    assert project["project_number"] == "201" and project["parent"] == "folders/11"
    assert {"role": "roles/viewer", "members": ["allUsers"]} in project["iam_policy"]["bindings"]
    assert project["ancestors"] == ["folders/11", ORG]
    assert project["disabled_services"] == []

    bucket = items(records, "gcp.storage.bucket")["projects/_/buckets/prod-app-public-web"].data
    assert bucket["iam_policy"]["bindings"] == [{"role": "roles/storage.objectViewer", "members": ["allUsers"]}]
    assert bucket["encryption"] is None and bucket["project_id"] == "prod-app"

    account = items(records, "gcp.iam.service_account")[
        "projects/prod-app/serviceAccounts/ci@prod-app.iam.gserviceaccount.com"
    ].data
    assert [k["name"].rsplit("/", 1)[1] for k in account["keys"]] == ["k-old"]  # system-managed keys excluded

    rule = items(records, "gcp.compute.firewall")["projects/shared-net/global/firewalls/allow-rdp-range"].data
    assert rule["allowed_port_ranges"] == [{"protocol": "tcp", "from": 3000, "to": 4000}]
    internal = items(records, "gcp.compute.firewall")["projects/shared-net/global/firewalls/allow-internal"].data
    assert internal["allowed_port_ranges"] == [{"protocol": "all", "from": 0, "to": 65535}]


def test_organization_audit_config_is_inherited_by_every_project(gcp: GcpImitation) -> None:
    records = run(gcp)
    lake = items(records, "gcp.project")["projects/prod-data-lake"].data
    assert lake["iam_policy"]["auditConfigs"] == []
    assert lake["ancestors"] == ["folders/21", "folders/11", ORG]
    assert lake["inherited_audit_configs"] == [{"source": ORG, **audit_all("ADMIN_READ", "DATA_READ", "DATA_WRITE")}]

    result = evaluate_connector_checks(GcpConnector, records, now=NOW)["gcp.project.audit_logging_enabled"]
    assert result.status == "pass" and result.counts["pass"] == 5


def test_audit_logging_fails_without_an_inherited_or_own_config(gcp: GcpImitation) -> None:
    gcp.policies[ORG]["auditConfigs"] = [audit_all("DATA_READ")]  # DATA_WRITE missing org-wide
    gcp.policies["folders/11"]["auditConfigs"] = [audit_all("DATA_WRITE")]  # completes it for prod only
    records = run(gcp)

    result = evaluate_connector_checks(GcpConnector, records, now=NOW)["gcp.project.audit_logging_enabled"]
    assert result.status == "fail"
    assert sorted(result.failing) == ["projects/dev-sandbox", "projects/org-admin", "projects/shared-net"]


def test_service_disabled_is_a_fact_about_the_project_not_an_error(gcp: GcpImitation) -> None:
    records = run(gcp)

    assert errors(records, "gcp.sql.instance") == []
    lake = items(records, "gcp.project")["projects/prod-data-lake"].data
    assert lake["disabled_services"] == [
        {
            "service": "sqladmin.googleapis.com",
            "evidence_kinds": ["gcp.sql.instance"],
            "reason": "SERVICE_DISABLED",
            "message": "sqladmin API has not been used in project prod-data-lake before or it is disabled.",
        }
    ]
    assert not [i for i in items(records, "gcp.sql.instance").values() if i.data["project_id"] == "prod-data-lake"]


def test_throttling_is_retried_honouring_retry_after(gcp: GcpImitation, sleeps: Sleeps) -> None:
    gcp.stub.fail("GET", r"/compute/v1/projects/shared-net/global/firewalls", 429, headers={"Retry-After": "7"})
    gcp.stub.fail("POST", r"/v3/projects/201:getIamPolicy", 429, headers={"Retry-After": "3"})
    gcp.stub.fail("GET", r"/v3/folders", 503)
    records = run(gcp)

    assert errors(records) == []
    assert len(items(records, "gcp.compute.firewall")) == 5
    assert items(records, "gcp.project")["projects/prod-app"].data["iam_policy"]["bindings"]
    assert 7 in sleeps and 3 in sleeps  # the server's waits, for plain REST and for the client library
    assert gcp.stub.count("POST", r"/v3/projects/201:getIamPolicy") == 2


def test_throttling_past_the_retries_is_an_error_for_that_kind(gcp: GcpImitation) -> None:
    _, _, quota = google_error(
        429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Queries'.", "RATE_LIMIT_EXCEEDED"
    )
    gcp.stub.fail("GET", r"/v1/projects/prod-app/instances", 429, times=10, headers={"Retry-After": "1"}, body=quota)
    records = run(gcp)

    assert errors(records) == [
        "projects/prod-app: sqladmin.googleapis.com: 429 RATE_LIMIT_EXCEEDED: "
        "Quota exceeded for quota metric 'Queries'."
    ]
    assert items(records, "gcp.sql.instance") == {}
    assert gcp.stub.count("GET", r"/v1/projects/prod-app/instances") == 4  # the policy's 4 attempts


def test_permission_denial_is_an_error_for_that_kind_only(gcp: GcpImitation) -> None:
    gcp.denied.add(("compute", "shared-net"))
    records = run(gcp)

    denied = (
        "projects/shared-net: compute.googleapis.com: 403 IAM_PERMISSION_DENIED: "
        "The caller does not have permission on shared-net"
    )
    compute = ["gcp.compute.firewall", "gcp.compute.project", "gcp.compute.network", "gcp.compute.target_https_proxy"]
    assert [(r.kind, r.message) for r in records if isinstance(r, CollectionError)] == [(k, denied) for k in compute]
    assert items(records, "gcp.compute.firewall") == {}
    assert [i for i in items(records, "gcp.compute.network").values() if i.data["project_id"] == "shared-net"] == []
    assert len(items(records, "gcp.storage.bucket")) == 3 and len(items(records, "gcp.project")) == 5
    results = evaluate_connector_checks(GcpConnector, records, now=NOW)
    assert results["gcp.compute.firewall_admin_ports_closed"].status == "error"
    assert results["gcp.storage.bucket_not_public"].status == "fail"


def test_denied_later_page_is_an_error_never_a_shorter_list(gcp: GcpImitation) -> None:
    gcp.broken_later_pages.add("shared-net")
    records = run(gcp)

    assert items(records, "gcp.compute.firewall") == {}
    assert len(errors(records, "gcp.compute.firewall")) == 1


def without(records: Records, ids: list[str]) -> Records:
    return [r for r in records if not (isinstance(r, EvidenceItem) and r.id in ids)]


def unknown(records: Records, kind: str, item_id: str) -> dict[str, str]:
    """The item's unknown fields (field -> reason); an unknown field is absent from its data, never null."""
    item = items(records, kind)[item_id]
    assert not set(item.unknown) & set(item.data)
    return item.unknown


def scoped(records: Records, kind: str) -> list[tuple[str, tuple[str, ...] | None]]:
    """(message, fields) of every error of one kind."""
    return [(r.message, r.fields) for r in records if isinstance(r, CollectionError) and r.kind == kind]


def test_denied_bucket_policy_keeps_the_bucket_and_reports_the_gap(gcp: GcpImitation) -> None:
    gcp.denied.add(("storage", "prod-app-logs"))
    records = run(gcp)

    assert unknown(records, "gcp.storage.bucket", "projects/_/buckets/prod-app-logs") == {
        "iam_policy": "getIamPolicy: 403 PERMISSION_DENIED: "
        "caller does not have storage.buckets.getIamPolicy on prod-app-logs"
    }
    assert scoped(records, "gcp.storage.bucket") == [
        (
            "projects/_/buckets/prod-app-logs: getIamPolicy: 403 PERMISSION_DENIED: "
            "caller does not have storage.buckets.getIamPolicy on prod-app-logs",
            ("iam_policy",),
        )
    ]
    results = evaluate_connector_checks(GcpConnector, records, now=NOW)
    result = results["gcp.storage.bucket_not_public"]
    assert result.status == "fail" and result.failing == ["projects/_/buckets/prod-app-public-web"]
    assert [f.resource for f in result.findings if f.status == "error"] == ["projects/_/buckets/prod-app-logs"]
    assert result.errors
    # the bucket's own fields were read: checks over them are decided, the logs bucket included
    uniform = results["gcp.storage.bucket_uniform_access"]
    assert uniform.errors == [] and uniform.failing == ["projects/_/buckets/prod-app-public-web"]
    versioning = results["gcp.storage.bucket_versioning_enabled"]
    assert versioning.errors == [] and "projects/_/buckets/prod-app-logs" in versioning.failing


def test_bucket_policy_endpoint_answering_a_plain_404_is_an_error_not_a_deleted_bucket(gcp: GcpImitation) -> None:
    # an API imitation without the getIamPolicy route: 404 for every bucket, yet the list still has them
    gcp.stub.fail("GET", r"/storage/v1/b/[^/]+/iam", 404, times=100, body={"message": "Not Found"})
    gcp.bucket_policies.pop("prod-app-public-web")  # so no bucket is public on its policy
    records = run(gcp)

    buckets = items(records, "gcp.storage.bucket")
    assert len(buckets) == 3 and all(set(b.unknown) == {"iam_policy"} for b in buckets.values())
    # one endpoint, one reason: one error naming the buckets, not one per bucket
    [error] = [r for r in records if isinstance(r, CollectionError) and r.kind == "gcp.storage.bucket"]
    assert error.fields == ("iam_policy",) and sorted(error.items) == sorted(buckets)
    assert error.message.endswith(": getIamPolicy: 404 error: HTTP 404 (the bucket is still listed)")
    # prod-app's 2 pages were listed again to tell "deleted" from "not there"
    assert [r.query.get("project") for r in gcp.stub.log if r.path == "/storage/v1/b"].count("prod-app") == 2 * 2
    results = evaluate_connector_checks(GcpConnector, records, now=NOW)
    # the check that reads the policy cannot pass; the fixed one that does not keeps its real status
    assert results["gcp.storage.bucket_not_public"].status == "error"
    uniform = results["gcp.storage.bucket_uniform_access"]
    assert uniform.status == "fail" and uniform.failing == ["projects/_/buckets/prod-app-public-web"]
    assert uniform.errors == []
    passing = [r for r in records if not (isinstance(r, EvidenceItem) and r.id.endswith("prod-app-public-web"))]
    uniform = evaluate_connector_checks(GcpConnector, passing, now=NOW)["gcp.storage.bucket_uniform_access"]
    assert uniform.status == "pass" and uniform.counts["pass"] == 2


def test_bucket_deleted_before_its_policy_is_read_is_gone(gcp: GcpImitation) -> None:
    gcp.gone_buckets.add("prod-app-logs")
    records = run(gcp)

    assert set(items(records, "gcp.storage.bucket")) == {
        "projects/_/buckets/prod-app-assets",
        "projects/_/buckets/prod-app-public-web",
    }
    assert errors(records, "gcp.storage.bucket") == []


def test_service_account_deleted_before_its_keys_are_read_is_gone(gcp: GcpImitation) -> None:
    records = run(gcp)

    accounts = items(records, "gcp.iam.service_account")
    assert not [a for a in accounts if a.startswith("projects/prod-app/serviceAccounts/gone@")]
    assert errors(records, "gcp.iam.service_account") == []
    assert gcp.stub.count("GET", r"/v1/projects/prod-app/serviceAccounts/gone@.*/keys") == 1
    # 3 accounts on 2 pages, then listed again to confirm the deletion: 2 accounts on 1 page
    assert gcp.stub.count("GET", r"/v1/projects/prod-app/serviceAccounts") == 3


def test_keys_endpoint_answering_a_plain_404_leaves_keys_unknown(gcp: GcpImitation) -> None:
    gcp.stub.fail("GET", r"/v1/projects/prod-app/serviceAccounts/ci@[^/]+/keys", 404, body={"message": "Not Found"})
    records = run(gcp)

    ci = "projects/prod-app/serviceAccounts/ci@prod-app.iam.gserviceaccount.com"
    assert unknown(records, "gcp.iam.service_account", ci) == {"keys": "keys.list: 404 error: HTTP 404"}
    assert not [k for k in items(records, "gcp.iam.service_account_key") if k.startswith(ci)]
    assert scoped(records, "gcp.iam.service_account") == [(f"{ci}: keys.list: 404 error: HTTP 404", ("keys",))]
    assert scoped(records, "gcp.iam.service_account_key") == [(f"{ci}: keys.list: 404 error: HTTP 404", None)]
    results = evaluate_connector_checks(GcpConnector, records, now=NOW)
    # the old key of ci@ is unknown: rotation cannot pass (the remaining keys are recent)
    assert results["gcp.iam.service_account_keys_rotated"].status == "error"
    assert results["gcp.project.service_accounts_not_admin"].status == "fail"
    assert results["gcp.project.service_accounts_not_admin"].errors == []


def test_unreadable_ancestor_policy_leaves_audit_logging_undecided(gcp: GcpImitation) -> None:
    gcp.denied.add(("resourcemanager", "folders/21"))
    records = run(gcp)

    denied = "403 IAM_PERMISSION_DENIED: Permission 'getIamPolicy' denied on 'folders/21'"
    assert scoped(records, "gcp.folder") == [(f"folders/21: getIamPolicy: {denied}", ("iam_policy",))]
    reason = f"audit configs of ancestor folders/21: getIamPolicy: {denied}"
    assert scoped(records, "gcp.project") == [(f"projects/prod-data-lake: {reason}", ("inherited_audit_configs",))]
    assert unknown(records, "gcp.folder", "folders/21") == {"iam_policy": f"getIamPolicy: {denied}"}
    assert unknown(records, "gcp.project", "projects/prod-data-lake") == {"inherited_audit_configs": reason}
    lake = items(records, "gcp.project")["projects/prod-data-lake"].data
    assert lake["ancestors"] == ["folders/21", "folders/11", ORG]
    results = evaluate_connector_checks(GcpConnector, records, now=NOW)
    audit = results["gcp.project.audit_logging_enabled"]
    assert audit.status == "error"
    assert [f.resource for f in audit.findings if f.status == "error"] == ["projects/prod-data-lake"]
    # the project's own policy was read: the binding checks keep their real status
    for check_id in ("gcp.project.no_public_iam_bindings", "gcp.project.service_accounts_not_admin"):
        assert results[check_id].status == "fail" and results[check_id].failing == ["projects/prod-app"]
        assert results[check_id].errors == []
    passing = evaluate_connector_checks(GcpConnector, without(records, ["projects/prod-app"]), now=NOW)
    for check_id in ("gcp.project.no_public_iam_bindings", "gcp.project.service_accounts_not_admin"):
        assert passing[check_id].status == "pass" and passing[check_id].counts["pass"] == 4
    assert results["gcp.folder.no_public_iam_bindings"].status == "error"


def test_unreadable_organization_policy_only_affects_audit_logging(gcp: GcpImitation) -> None:
    gcp.denied.add(("resourcemanager", ORG))
    records = run(gcp)

    assert set(unknown(records, "gcp.organization", ORG)) == {"iam_policy"}
    # the same gap in all 5 projects: one error naming them all
    [error] = [r for r in records if isinstance(r, CollectionError) and r.kind == "gcp.project"]
    assert error.fields == ("inherited_audit_configs",) and sorted(error.items) == sorted(items(records, "gcp.project"))
    assert " and 2 more: audit configs of ancestor organizations/1000: getIamPolicy: 403" in error.message
    results = evaluate_connector_checks(GcpConnector, records, now=NOW)
    assert results["gcp.project.audit_logging_enabled"].status == "error"
    assert results["gcp.organization.no_public_iam_bindings"].status == "error"
    assert results["gcp.project.no_public_iam_bindings"].failing == ["projects/prod-app"]
    assert results["gcp.project.no_public_iam_bindings"].errors == []


def test_unreadable_project_policy_is_an_error_for_the_policy_checks_only(gcp: GcpImitation) -> None:
    gcp.denied.add(("resourcemanager", "projects/201"))
    records = run(gcp)

    assert set(unknown(records, "gcp.project", "projects/prod-app")) == {"iam_policy"}
    assert [f for _, f in scoped(records, "gcp.project")] == [("iam_policy",)]
    results = evaluate_connector_checks(GcpConnector, records, now=NOW)
    for check_id in ("gcp.project.no_public_iam_bindings", "gcp.project.audit_logging_enabled"):
        assert results[check_id].status == "error"
        assert [f.resource for f in results[check_id].findings if f.status == "error"] == ["projects/prod-app"]
    assert results["gcp.storage.bucket_not_public"].errors == []


def test_unreachable_ancestor_folder_leaves_the_chain_unknown(gcp: GcpImitation) -> None:
    gcp.stub.fail("GET", r"/v3/folders/21", 404, body={"message": "Not Found"})
    records = run(gcp, projects=["prod-data-lake", "dev-sandbox"])

    chain = {"ancestors", "ancestor_folders", "inherited_audit_configs"}
    assert set(unknown(records, "gcp.project", "projects/prod-data-lake")) == chain
    assert [f for _, f in scoped(records, "gcp.project")] == [
        ("inherited_audit_configs", "ancestors", "ancestor_folders")
    ]
    sandbox = items(records, "gcp.project")["projects/dev-sandbox"].data
    assert sandbox["ancestors"] == ["folders/12", ORG] and sandbox["inherited_audit_configs"]
    results = evaluate_connector_checks(GcpConnector, records, now=NOW)
    assert results["gcp.project.audit_logging_enabled"].status == "error"
    # the lake's folders are unknown: which environment it sits in cannot be decided
    environment = results["gcp.project.environment_in_matching_folder"]
    assert [f.resource for f in environment.findings if f.status == "error"] == ["projects/prod-data-lake"]
    assert environment.failing == ["projects/dev-sandbox"]
    assert results["gcp.project.primitive_roles_not_granted_to_users"].failing == ["projects/dev-sandbox"]
    assert results["gcp.project.primitive_roles_not_granted_to_users"].errors == []


def test_explicit_projects_read_their_ancestors_for_audit_configs(gcp: GcpImitation) -> None:
    records = run(gcp, projects=["prod-data-lake", "dev-sandbox"])

    assert errors(records) == []
    assert set(items(records, "gcp.project")) == {"projects/prod-data-lake", "projects/dev-sandbox"}
    assert items(records, "gcp.organization") == {} and items(records, "gcp.folder") == {}
    lake = items(records, "gcp.project")["projects/prod-data-lake"].data
    assert [c["source"] for c in lake["inherited_audit_configs"]] == [ORG]
    assert gcp.stub.count("GET", r"/v3/folders") == 0  # no hierarchy walk, only gets up the parent chain


def test_unknown_project_is_an_error_for_its_kinds(gcp: GcpImitation) -> None:
    records = run(gcp, projects=["prod-app", "no-such-project"])

    assert set(items(records, "gcp.project")) == {"projects/prod-app"}
    failed = {r.kind for r in records if isinstance(r, CollectionError)}
    assert failed == {k.name for k in GcpConnector.evidence_kinds} - {"gcp.organization", "gcp.folder"}


def test_private_key_and_tokens_never_reach_the_evidence(gcp: GcpImitation, tmp_path: Path) -> None:
    gcp.denied.add(("compute", "shared-net"))
    records = run(gcp)
    key = json.loads((tmp_path / "gcp-key.json").read_text())["private_key"]
    dumped = json.dumps([getattr(r, "data", None) or r.message for r in records])
    secret_line = key.splitlines()[5]
    assert secret_line not in dumped and "PRIVATE KEY" not in dumped
    assert not any(token in dumped for token in gcp.issued_tokens)


def test_missing_credentials_fail_with_one_clear_line(stub: Stub) -> None:
    with pytest.raises(ConnectorError, match="no Application Default Credentials"):
        collect_items(GcpConnector, {"organization_id": "1000", "api_endpoint": stub.base_url})


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"organization_id": "1000", "projects": ["prod-app"]},
        {"organization_id": "example.com"},
        {"projects": ["Not_A_Project"]},
        {"projects": ["prod-app"], "api_endpoint": "127.0.0.1:9"},
        {"projects": ["prod-app"], "token": "x"},
    ],
)
def test_invalid_settings_are_rejected(settings: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        GcpSettings.model_validate(settings)


def test_label_names_the_scope() -> None:
    assert GcpConnector.label(GcpSettings(organization_id="organizations/1000")) == "gcp:organizations/1000"
    assert GcpConnector.label(GcpSettings(projects=["prod-app"])) == "gcp:prod-app"


def test_importing_the_connector_loads_no_google_library() -> None:
    code = "import sys, connectors.gcp; print(sorted(m for m in sys.modules if m.startswith('google')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
