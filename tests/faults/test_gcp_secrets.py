"""Secrets the GCP credential chain reads never leave `annexa run`, even when Google's answers quote them.

The connector declares GOOGLE_APPLICATION_CREDENTIALS as a secret file (a service-account key: its
private_key) and the AWS secrets google-auth reads for workload identity federation. Each is set to
distinctive material, the imitation quotes them (and the bearer each request carried) in its error
bodies, and `annexa run` runs as a subprocess; none of them may appear in its output, its store or
its reports.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from annexa_cli import annexa
from providers.gcp_estate import seed
from providers.gcp_imitation import GcpImitation, google_error
from stub import Request, Stub

from connectors.gcp import GcpConnector

AWS_SECRET = "gcp-secrets-test-aws-secret-7Qz1WmX4"
AWS_SESSION = "gcp-secrets-test-session-token-Kd82Pv0Lr"


def key_lines(key_file: Path) -> list[str]:
    """The base64 body lines of the key file's private key: the material that must never be shown."""
    pem = json.loads(key_file.read_text())["private_key"]
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def bearer(req: Request) -> str:
    return req.headers.get("authorization", "").removeprefix("Bearer ")


def setup(stub: Stub, tmp_path: Path, token_refused: bool) -> tuple[GcpImitation, Path, dict[str, str]]:
    """Echoing routes first (the stub answers with the first matching route), then the imitation."""
    key_holder: dict[str, list[str]] = {}

    def quote(req: Request) -> str:
        lines = key_holder["lines"]
        return f"key {lines[3]} / {lines[-2]} bearer {bearer(req)} aws {AWS_SECRET} session {AWS_SESSION}"

    def refuse_token(req: Request) -> Any:
        return 400, {}, {"error": "invalid_grant", "error_description": f"Invalid JWT Signature: {quote(req)}"}

    def server_error(req: Request, **_: str) -> Any:
        return google_error(500, "INTERNAL", f"backend error: {quote(req)}")

    def denied(req: Request, **_: str) -> Any:
        return google_error(403, "PERMISSION_DENIED", f"denied: {quote(req)}", "IAM_PERMISSION_DENIED")

    if token_refused:
        stub.route("POST", r"/token", refuse_token)
    else:
        stub.route("GET", r"/compute/v1/projects/shared-net/global/firewalls", server_error)
        stub.route("POST", r"/v3/folders/21:getIamPolicy", denied)
        stub.route("GET", r"/storage/v1/b/prod-app-logs/iam", denied)
    imitation = seed(GcpImitation(stub).install())
    key_file = imitation.write_key_file(tmp_path)
    key_holder["lines"] = key_lines(key_file)
    (tmp_path / "annexa.yaml").write_text(
        "store: ./annexa.db\n"
        "connectors:\n"
        "  gcp:\n"
        '    organization_id: "1000"\n'
        f"    api_endpoint: {stub.base_url}\n"
        "    retry: {max_attempts: 2, initial_backoff_seconds: 0.01, max_backoff_seconds: 0.01}\n"
    )
    env = {
        **os.environ,
        "GOOGLE_APPLICATION_CREDENTIALS": str(key_file),
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        "AWS_SESSION_TOKEN": AWS_SESSION,
        "NO_GCE_CHECK": "True",
    }
    return imitation, key_file, env


def test_the_connector_declares_its_credential_chain_secrets() -> None:
    assert GcpConnector.secret_file_env == ("GOOGLE_APPLICATION_CREDENTIALS",)
    assert set(GcpConnector.secret_env) == {"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}


@pytest.mark.parametrize("debug", [False, True], ids=["run", "debug-run"])
@pytest.mark.parametrize("token_refused", [True, False], ids=["token-endpoint-quotes", "apis-quote"])
def test_no_secret_reaches_output_store_or_reports(
    stub: Stub, tmp_path: Path, token_refused: bool, debug: bool
) -> None:
    imitation, key_file, env = setup(stub, tmp_path, token_refused)
    args = ["--debug", "run"] if debug else ["run"]
    result = annexa([*args, "-c", "annexa.yaml", "--report-dir", "reports"], env, tmp_path)

    assert result.returncode == 1, result.stderr  # a stopped connector / partial run, reported
    # the echoes really happened: each quoted route was answered with the secrets in its body
    echoed = [r for r in stub.log if r.path == "/token"] if token_refused else stub.log
    assert echoed
    if token_refused:
        assert "could not obtain an access token" in result.stdout + result.stderr
    else:
        assert stub.count("GET", r"/compute/v1/projects/shared-net/global/firewalls")
        assert stub.count("POST", r"/v3/folders/21:getIamPolicy")
        assert stub.count("GET", r"/storage/v1/b/prod-app-logs/iam")
    bearers = {bearer(r) for r in stub.log if bearer(r)}
    assert token_refused or bearers  # the API calls carried bearers, which the errors quoted back
    secrets = [*key_lines(key_file), AWS_SECRET, AWS_SESSION, *bearers, *imitation.issued_tokens]

    places: dict[str, bytes] = {"stdout": result.stdout.encode(), "stderr": result.stderr.encode()}
    stored = sorted(tmp_path.glob("annexa.db*"))
    assert stored, "no store written"
    for path in stored:
        places[path.name] = path.read_bytes()
    runs = annexa(["runs", "-c", "annexa.yaml", "--format", "json"], env, tmp_path)
    places["annexa runs"] = runs.stdout.encode()
    if token_refused:  # nothing collected: the run is failed, with the connector's error, and has no reports
        assert "could not obtain an access token" in runs.stdout and "***" in runs.stdout
    else:
        reports = sorted((tmp_path / "reports").iterdir())
        assert {p.suffix for p in reports} >= {".json", ".md", ".html", ".csv"}
        for path in reports:
            places[path.name] = path.read_bytes()
        report = json.loads((tmp_path / "reports" / "gap-report.json").read_text())
        gcp = next(c for c in report["run"]["connectors"] if c["name"] == "gcp")
        # compute's list, a bucket's policy, folders/21's policy and so the data lake's inherited audit configs
        assert len(gcp["errors"]) == 4 and all("***" in e for e in gcp["errors"])  # quoted, then masked
    leaks = [(name, s[:12]) for s in secrets for name, data in places.items() if s.encode() in data]
    assert leaks == []
