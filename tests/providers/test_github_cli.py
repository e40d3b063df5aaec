"""End to end: `annexa run` as a subprocess with the GitHub connector against the local imitation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from annexa_cli import annexa_with_config

from .github_fixtures import TOKEN, compliant_estate, serve
from .github_imitation import Repo


def test_annexa_run_and_report(stub: Any, tmp_path: Path) -> None:
    estate = compliant_estate(two_factor_disabled=["cleo"])
    estate.repos.append(Repo("leaky", visibility="public"))
    serve(stub, estate)
    config = tmp_path / "annexa.yaml"
    config.write_text(
        "organization: Example GmbH\n"
        f"store: {tmp_path / 'annexa.db'}\n"
        "checks:\n"
        "  github.repo.public_only_if_allowed:\n"
        "    params: {allowed_public: [acme/site]}\n"
        "connectors:\n"
        "  github:\n"
        "    organization: acme\n"
        "    token: ${GITHUB_TOKEN}\n"
        f"    base_url: {stub.base_url}\n"
        "    secondary_rate_wait: 0\n"
    )
    run = annexa_with_config(["run"], config, {"GITHUB_TOKEN": TOKEN})
    assert run.returncode == 0, run.stderr
    report = annexa_with_config(["report", "--format", "json"], config, {"GITHUB_TOKEN": TOKEN})
    assert report.returncode == 0, report.stderr
    gap = json.loads(report.stdout)
    [connector] = gap["run"]["connectors"]
    assert connector["name"] == "github" and connector["status"] == "ok"
    checks = {c["id"]: c for control in gap["controls"] for c in control["checks"]}
    assert checks["github.org.two_factor_required"]["status"] == "pass"
    assert checks["github.org.members_have_2fa"]["status"] == "fail"
    assert [f["resource"] for f in checks["github.org.members_have_2fa"]["failing"]] == ["cleo"]
    assert checks["github.repo.public_only_if_allowed"]["status"] == "fail"
    assert [f["resource"] for f in checks["github.repo.public_only_if_allowed"]["failing"]] == ["acme/leaky"]
    assert checks["github.repo.default_branch_protected"]["status"] == "fail"  # leaky has no protection
    assert checks["github.repo.no_open_critical_vulnerabilities"]["status"] == "pass"
    for output in (run.stdout, run.stderr, report.stdout, report.stderr):
        assert TOKEN not in output
    assert TOKEN.encode() not in (tmp_path / "annexa.db").read_bytes()
