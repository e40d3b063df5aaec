"""End to end: one `annexa run` with the GitHub and Okta connectors (PyGithub and the okta SDK over HTTP to
the local imitations), the cross-source leaver checks judging GitHub members against Okta users, both
ways, and a denied Okta user listing turning them into errors, never passes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from annexa_cli import annexa_with_config

from .github_fixtures import TOKEN as GITHUB_TOKEN
from .github_fixtures import compliant_estate, serve
from .okta_estate import build_org
from .okta_imitation import FORBIDDEN, OktaImitation
from .okta_imitation import TOKEN as OKTA_TOKEN

ENV = {"GITHUB_TOKEN": GITHUB_TOKEN, "OKTA_API_TOKEN": OKTA_TOKEN}


def _config(tmp_path: Path, base_url: str) -> Path:
    config = tmp_path / "annexa.yaml"
    config.write_text(
        "organization: Example GmbH\n"
        f"store: {tmp_path / 'annexa.db'}\n"
        "identities:\n  alice: alice@example.com\n  cleo: Erin@Example.com\n"  # bob maps to nobody
        "connectors:\n"
        "  github:\n"
        "    organization: acme\n"
        "    token: ${GITHUB_TOKEN}\n"
        f"    base_url: {base_url}\n"
        "    secondary_rate_wait: 0\n"
        "  okta:\n"
        f"    org_url: {base_url}\n"
        "    token: ${OKTA_API_TOKEN}\n"
        "    retry_backoff: 0\n"
    )
    return config


def _checks(config: Path) -> dict[str, Any]:
    report = annexa_with_config(["report", "--format", "json"], config, ENV)
    assert report.returncode == 0, report.stderr
    gap = json.loads(report.stdout)
    return {c["id"]: c for control in gap["controls"] for c in control["checks"]}


def test_a_github_member_whose_okta_user_was_deactivated_fails(stub: Any, tmp_path: Path) -> None:
    serve(stub, compliant_estate())  # members alice, bob, cleo
    OktaImitation(stub, build_org(datetime.now(UTC)))  # alice ACTIVE, erin DEPROVISIONED
    config = _config(tmp_path, stub.base_url)

    run = annexa_with_config(["run"], config, ENV)

    assert run.returncode == 0, run.stderr
    checks = _checks(config)
    leaver = checks["github.member.okta_user_not_deactivated"]
    assert leaver["status"] == "fail"
    assert [(f["resource"], f["message"]) for f in leaver["failing"]] == [
        ("cleo", "GitHub member cleo belongs to an Okta user who is deactivated or suspended")
    ]
    assert leaver["counts"] == {"pass": 2, "fail": 1, "error": 0}
    identity = checks["github.member.okta_identity_present"]
    assert [f["resource"] for f in identity["failing"]] == ["bob"]
    assert "github.member.entra_user_enabled" not in checks  # Entra ID is not configured: not run


def test_a_denied_okta_user_listing_makes_the_leaver_check_an_error(stub: Any, tmp_path: Path) -> None:
    serve(stub, compliant_estate())
    OktaImitation(stub, build_org(datetime.now(UTC)))
    stub.fail("GET", r"/api/v1/users", 403, times=100, body=FORBIDDEN)
    config = _config(tmp_path, stub.base_url)

    run = annexa_with_config(["run"], config, ENV)

    assert run.returncode == 1  # Okta's users were not collected
    leaver = _checks(config)["github.member.okta_user_not_deactivated"]
    assert leaver["status"] == "error" and leaver["counts"]["pass"] == 0 and leaver["counts"]["error"] == 3
    assert "lookup okta_users: okta.user could not be fully collected" in leaver["reason"]
