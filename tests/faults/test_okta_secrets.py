"""Okta's secrets never leave the process, even when Okta's error bodies quote them back.

`annexa run` runs as a subprocess with every variable OktaConnector.secret_env / secret_file_env declares
set to a distinctive value (the private-key variables to PEM keys and to a PEM key file), with two
instances (an API token one and a service-app one signing with the key from OKTA_PRIVATE_KEY) whose
factor and group calls answer 500 with the secrets in the error summary (unknown facts and list
errors). The `--debug` run also has the service app's token request refused with them in the error
description: that instance stops (the path where an exception, and with --debug a traceback, could
carry a secret). The SDK's proxy variables
point at the imitation itself, which serves proxied requests like direct ones, so the proxy password
is really sent.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from annexa_cli import annexa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from providers.okta_estate import build_org
from providers.okta_imitation import TOKEN, OktaImitation
from stub import Stub

from connectors.okta import OktaConnector

CLIENT_TOKEN = "00sdk-env-client-token-5b8e1d9f"
PROXY_PASSWORD = "proxy-pass-c4f1a7e2-93"


def _pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raw = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return raw.decode()


def _body_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def _outputs(done: Any, store: Path, reports: Path) -> dict[str, bytes]:
    out = {"stdout": done.stdout.encode(), "stderr": done.stderr.encode()}
    for path in [*store.parent.glob(store.name + "*"), *reports.rglob("*")]:
        if path.is_file():
            out[str(path)] = path.read_bytes()
    return out


@pytest.fixture(params=[False, True], ids=["plain", "debug"])
def secret_run(request: pytest.FixtureRequest, stub: Stub, tmp_path: Path) -> Any:
    debug: bool = request.param
    OktaImitation(stub, build_org(datetime.now(UTC)))
    service_pem, sdk_pem = _pem(), _pem()
    key_file = tmp_path / "okta-sdk-key.pem"
    key_file.write_text(sdk_pem)
    port = stub.base_url.rsplit(":", 1)[1]
    env = {
        "OKTA_API_TOKEN": TOKEN,
        "OKTA_PRIVATE_KEY": service_pem,
        "OKTA_CLIENT_TOKEN": CLIENT_TOKEN,
        "OKTA_CLIENT_PRIVATEKEY": str(key_file),
        "OKTA_CLIENT_PROXY_HOST": "127.0.0.1",
        "OKTA_CLIENT_PROXY_PORT": port,
        "OKTA_CLIENT_PROXY_USERNAME": "annexa",
        "OKTA_CLIENT_PROXY_PASSWORD": PROXY_PASSWORD,
    }
    declared = set(OktaConnector.secret_env) | set(OktaConnector.secret_file_env)
    assert declared <= set(env), declared - set(env)  # every declared variable gets a distinctive value
    service_line, sdk_line = _body_lines(service_pem)[3], _body_lines(sdk_pem)[5]
    echo = (
        f"bad token SSWS {TOKEN}; token={TOKEN}; client token {CLIENT_TOKEN}; proxy {PROXY_PASSWORD}; "
        f"keys {service_line} {sdk_line}; path {key_file}"
    )
    quoted = {"errorCode": "E0000009", "errorSummary": echo}
    stub.fail("GET", r"/api/v1/users/[^/]+/factors", 500, times=1000, body=quoted)
    stub.fail("GET", r"/api/v1/groups", 500, times=1000, body=quoted)
    if debug:
        refusal = {"error": "invalid_client", "error_description": f"assertion signed with {service_line}: {echo}"}
        stub.fail("POST", r"/oauth2/v1/token", 401, times=1000, body=refusal)
    store = tmp_path / "annexa.db"
    config = tmp_path / "annexa.yaml"
    config.write_text(
        f"organization: Example GmbH\nstore: {store}\nconnectors:\n"
        "  okta:\n"
        f"    - org_url: {stub.base_url}\n"
        "      token: ${OKTA_API_TOKEN}\n"
        "      max_retries: 1\n"
        "      retry_backoff: 0\n"
        f"    - org_url: http://localhost:{port}\n"
        "      client_id: 0oaservice\n"
        "      private_key_env: OKTA_PRIVATE_KEY\n"
        "      retry_backoff: 0\n"
    )
    secrets = {"OKTA_API_TOKEN": TOKEN, "OKTA_CLIENT_TOKEN": CLIENT_TOKEN, "OKTA_CLIENT_PROXY_PASSWORD": PROXY_PASSWORD}
    secrets |= {f"OKTA_PRIVATE_KEY line {n}": line for n, line in enumerate(_body_lines(service_pem))}
    secrets |= {f"OKTA_CLIENT_PRIVATEKEY file line {n}": line for n, line in enumerate(_body_lines(sdk_pem))}
    return config, store, {**os.environ, **env}, secrets, tmp_path, debug


def test_no_secret_in_any_output(stub: Stub, secret_run: Any) -> None:
    config, store, env, secrets, tmp_path, debug = secret_run
    reports = tmp_path / "reports"
    args = [*(["--debug"] if debug else []), "run", "-c", str(config), "--report-dir", str(reports)]
    done = annexa(args, env=env)
    assert done.returncode == 1, done.stderr  # partial, or failed: the faults were recorded
    outputs = _outputs(done, store, reports)
    assert str(store) in outputs
    # The echoed bodies really reached the outputs (so a missing mask would show): only the secrets are gone.
    assert "bad token SSWS ***" in done.stdout and b"client token ***" in outputs[str(store)]
    if debug:
        # One instance stopped: the engine fails the run (no reports) and prints the stopped instance's message.
        assert "could not obtain an OAuth access token (POST /oauth2/v1/token: HTTP 401" in done.stdout
    else:
        assert done.stdout.count("factors of 8 users") == 2  # both instances collected, both echoed
        reported = [data for name, data in outputs.items() if name.endswith((".json", ".md", ".html", ".csv"))]
        assert len(reported) == 4 and all(b"bad token SSWS ***" in data for data in reported[:1])
    # The proxy was used: requests went through it as absolute URIs with the proxy's credentials.
    assert any("proxy-authorization" in r.headers for r in stub.log)
    # Named, never printed: a failure message must not itself show the secret.
    leaks = [
        (where, name) for where, data in outputs.items() for name, value in secrets.items() if value.encode() in data
    ]
    assert leaks == []
