"""End to end: `annexa run` in a subprocess with the GCP connector against the local imitation."""

from __future__ import annotations

import json
import os
from pathlib import Path

from annexa_cli import annexa
from stub import Stub

from .gcp_estate import seed
from .gcp_imitation import GcpImitation


def test_annexa_run_reports_the_gcp_checks(stub: Stub, tmp_path: Path) -> None:
    imitation = seed(GcpImitation(stub).install())
    imitation.denied.add(("compute", "shared-net"))
    key_file = imitation.write_key_file(tmp_path)
    (tmp_path / "annexa.yaml").write_text(
        "organization: Example GmbH\n"
        "store: ./annexa.db\n"
        "connectors:\n"
        "  gcp:\n"
        '    organization_id: "1000"\n'
        f"    api_endpoint: {stub.base_url}\n"
    )
    env = {**os.environ, "GOOGLE_APPLICATION_CREDENTIALS": str(key_file), "NO_GCE_CHECK": "True"}

    run = annexa(["run", "-c", "annexa.yaml", "-q"], env, tmp_path)
    assert run.returncode == 1, run.stderr  # the compute denial makes the run partial

    report = annexa(["report", "-c", "annexa.yaml", "--format", "json"], env, tmp_path)
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    gcp = next(c for c in data["run"]["connectors"] if c["name"] == "gcp")
    assert gcp["status"] == "partial" and any("shared-net" in e for e in gcp["errors"])
    checks = {c["id"]: c for control in data["controls"] for c in control["checks"]}
    expected = {
        "gcp.project.no_public_iam_bindings": "fail",
        "gcp.project.service_accounts_not_admin": "fail",
        "gcp.project.audit_logging_enabled": "pass",
        "gcp.iam.service_account_keys_rotated": "fail",
        "gcp.storage.bucket_not_public": "fail",
        "gcp.storage.bucket_uniform_access": "fail",
        "gcp.compute.firewall_admin_ports_closed": "error",
        "gcp.sql.instance_backups_enabled": "fail",
        "gcp.sql.instance_not_open_to_internet": "fail",
        # coverage: the collector holds write permissions on prod-app; the default network is in the denied project
        "gcp.collector.read_only": "fail",
        "gcp.compute.default_network_absent": "error",
        "gcp.compute.https_proxy_modern_tls": "fail",
        "gcp.project.environment_in_matching_folder": "fail",
        "gcp.project.security_contact_registered": "fail",
        "gcp.storage.bucket_retention_locked_where_required": "pass",
        "gcp.sql.instance_regional_ha": "fail",
    }
    assert {k: checks[k]["status"] for k in expected} == expected
    assert [f["resource"] for f in checks["gcp.storage.bucket_not_public"]["failing"]] == [
        "projects/_/buckets/prod-app-public-web"
    ]
    assert [(f["resource"], f["message"]) for f in checks["gcp.collector.read_only"]["failing"]] == [
        (
            "projects/prod-app",
            "the collector's identity can ['compute.instances.delete', 'storage.buckets.update'] on projects/prod-app",
        )
    ]
    controls = {c["id"]: c["status"] for c in data["controls"]}
    assert controls["A.8.34"] == "fail" and controls["A.8.31"] == "fail"
    private_key = json.loads(key_file.read_text())["private_key"].splitlines()[3]
    assert private_key not in report.stdout
    assert all(private_key.encode() not in db.read_bytes() for db in tmp_path.glob("annexa.db*"))
