"""End to end: `annexa run` as a subprocess with the Azure connector against the local imitation."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from annexa_cli import annexa

from .azure_estate import populate
from .azure_imitation import CLIENT_ID, CLIENT_SECRET, SUB_B, TENANT, AzureImitation

REPO = Path(__file__).parents[2]


@pytest.fixture
def az(tmp_path: Path) -> Iterator[AzureImitation]:
    imitation = AzureImitation(tmp_path)
    populate(imitation)
    yield imitation
    imitation.stop()


def test_annexa_run_and_report_with_the_azure_connector(az: AzureImitation, tmp_path: Path) -> None:
    settings = az.settings()
    config = tmp_path / "annexa.yaml"
    config.write_text(
        "organization: Example GmbH\n"
        f"store: {tmp_path / 'annexa.db'}\n"
        "connectors:\n"
        "  azure:\n"
        f"    tenant_id: {TENANT}\n"
        "    subscriptions: [all]\n"
        f"    authority_host: {settings['authority_host']}\n"
        f"    arm_endpoint: {settings['arm_endpoint']}\n"
        f"    graph_endpoint: {settings['graph_endpoint']}\n"
    )
    env = {
        **os.environ,
        "AZURE_TENANT_ID": TENANT,
        "AZURE_CLIENT_ID": CLIENT_ID,
        "AZURE_CLIENT_SECRET": CLIENT_SECRET,
        "REQUESTS_CA_BUNDLE": az.cert,
        "SSL_CERT_FILE": az.cert,
        "PYTHONPATH": str(REPO),
    }
    run = annexa(["run", "-c", str(config)], env, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    report = annexa(["report", "-c", str(config), "--format", "json"], env, tmp_path)
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)

    [connector] = data["run"]["connectors"]
    assert (connector["name"], connector["status"], connector["errors"]) == ("azure", "ok", [])
    checks = {c["id"]: c for control in data["controls"] for c in control["checks"] if c["connector"] == "azure"}
    assert checks["azure.subscription.owners_limited"]["status"] == "fail"
    assert [f["resource"] for f in checks["azure.subscription.owners_limited"]["failing"]] == [
        f"/subscriptions/{SUB_B}"
    ]
    assert checks["azure.entra.mfa_required"]["status"] == "fail"
    assert checks["azure.keyvault.soft_delete_enabled"]["counts"] == {"pass": 2, "fail": 1, "error": 0}
    # Every check finds a gap in the seeded estate, but the opt-in terms-of-use check is out of scope.
    assert checks.pop("azure.entra.terms_of_use_required")["status"] == "not_applicable"
    assert {c["status"] for c in checks.values()} == {"fail"}
    assert len(checks) == 28
    # The secret and the issued tokens are nowhere in the store or the outputs.
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("annexa.db*"))
    for secret in [CLIENT_SECRET, *az.issued]:
        assert secret.encode() not in stored
        assert secret not in run.stdout + run.stderr + report.stdout
