"""The Okta connector through the real okta SDK over HTTP against the local Management API imitation."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from collector.testing import collect_items
from connectors.base import CollectContext, CollectionError, ConnectorError, ConnectorState, EvidenceItem, PreviousRun
from connectors.okta import OktaConnector, OktaSettings

from .okta_estate import build_org, bulk_org
from .okta_imitation import TOKEN, OktaImitation, OktaOrg, factor, rate_limited_headers

NOW = datetime.now(UTC)
Record = EvidenceItem | CollectionError


def settings_for(stub: Any, **extra: Any) -> dict[str, Any]:
    return {"org_url": stub.base_url, "token": TOKEN, "retry_backoff": 0, "max_rate_limit_wait": 0.2, **extra}


def serve(stub: Any, org: OktaOrg | None = None) -> OktaImitation:
    return OktaImitation(stub, org or build_org(NOW))


def items_of(records: list[Record], kind: str) -> dict[str, dict[str, Any]]:
    return {r.id: r.data for r in records if isinstance(r, EvidenceItem) and r.kind == kind}


def unknown_of(records: list[Record], kind: str) -> dict[str, EvidenceItem]:
    return {r.id: r for r in records if isinstance(r, EvidenceItem) and r.kind == kind}


def errors_of(records: list[Record]) -> list[CollectionError]:
    return [r for r in records if isinstance(r, CollectionError)]


def context(
    run_id: str = "run-1",
    previous: PreviousRun | None = None,
    state: dict[str, Any] | None = None,
    started: datetime | None = None,
) -> CollectContext:
    return CollectContext(
        run_id=run_id, started_at=started or datetime.now(UTC), state=ConnectorState(state), previous=previous
    )


def previous_run(run_id: str, records: list[Record], started: datetime, status: str = "ok") -> PreviousRun:
    def items(kind: str) -> Iterator[EvidenceItem]:
        return iter([r for r in records if isinstance(r, EvidenceItem) and r.kind == kind])

    return PreviousRun(run_id, started, status, items)


# --- a full collection ---------------------------------------------------------------------------------------
def test_collects_every_kind_across_page_boundaries(stub: Any) -> None:
    imitation = serve(stub)
    ctx = context()
    records = collect_items(OktaConnector, settings_for(stub, page_limit=3), ctx)
    assert errors_of(records) == []
    users = items_of(records, "okta.user")
    assert sorted(users) == sorted(u["profile"]["login"] for u in imitation.org.users)  # incl. DEPROVISIONED
    # 8 non-deprovisioned users at 3 per page: three pages, the later ones asked for with the after cursor.
    afters = [r.query.get("after") for r in stub.log if r.path == "/api/v1/users" and "filter" not in r.query]
    assert afters == [None, "00u1carol000000003", "00u1gina0000000007"]
    bob = users["bob@example.com"]
    assert bob["id"] == "00u1bob00000000002" and bob["status"] == "ACTIVE"
    assert [(f["factorType"], f["status"]) for f in bob["factors"]] == [("sms", "PENDING_ACTIVATION")]
    assert bob["factors_source"] == "fresh" and bob["factors_from_run"] == "run-1"
    assert users["alice@example.com"]["admin_roles"] == ["SUPER_ADMIN"]
    assert users["bob@example.com"]["admin_roles"] == []
    assert users["erin@example.com"]["factors_source"] == "not_fetched"  # DEPROVISIONED: no factor call
    assert stub.count("GET", r"/api/v1/users/00u1erin0000000005/factors") == 0
    for key in ("created", "activated", "lastLogin", "passwordChanged", "profile", "statusChanged"):
        assert key in bob
    admins = items_of(records, "okta.admin.role_assignments")[imitation_host(stub)]
    assert admins["super_admins"] == ["alice@example.com"] and admins["super_admin_count"] == 1
    assert admins["holders_by_role"]["READ_ONLY_ADMIN"] == ["erin@example.com"]
    policies = items_of(records, "okta.policy")
    assert {p["status"] for p in policies.values()} == {"ACTIVE", "INACTIVE"}
    assert {p["type"] for p in policies.values()} == {"PASSWORD", "MFA_ENROLL", "OKTA_SIGN_ON", "ACCESS_POLICY"}
    assert policies["00p1mfaclassic0004"]["authenticator_enrollment"] == [
        {"key": "okta_otp", "enroll": "REQUIRED"},
        {"key": "okta_password", "enroll": "REQUIRED"},
        {"key": "okta_sms", "enroll": "NOT_ALLOWED"},
    ]
    assert policies["00p1mfaoie00000005"]["authenticator_enrollment"][0] == {"key": "okta_verify", "enroll": "OPTIONAL"}
    assert [r["id"] for r in policies["00p1accessbad00009"]["rules"]] == ["rul2two", "rul2catch", "rul2deny"]
    org_item = items_of(records, "okta.org")[imitation_host(stub)]
    assert [p["id"] for p in org_item["mfa_enroll_policies"]] == ["00p1mfaclassic0004", "00p1mfaoie00000005"]
    assert sorted(items_of(records, "okta.group")) == ["00g0everyone0000000", "00g1engineering0001"]
    assert len(items_of(records, "okta.authenticator")) == 2
    apps = items_of(records, "okta.application")
    assert apps["0oa1portal00000002"]["credentials"]["oauthClient"] == {
        "client_id": "0oa1portal",
        "token_endpoint_auth_method": "client_secret_basic",
    }
    # Every request was a GET and was counted.
    assert {r.method for r in stub.log} == {"GET"}
    assert ctx.api_calls == len(stub.log)


def imitation_host(stub: Any) -> str:
    return stub.base_url.split("://", 1)[1]


def test_secrets_never_reach_evidence(stub: Any) -> None:
    serve(stub)
    records = collect_items(OktaConnector, settings_for(stub))
    text = json.dumps([r.data for r in records if isinstance(r, EvidenceItem)])
    for secret in (TOKEN, "SUPER-SECRET-VALUE", "NEVER-STORE-THIS", "_links"):
        assert secret not in text


# --- rate limits, errors ---------------------------------------------------------------------------------
def test_429_with_rate_limit_reset_is_retried(stub: Any) -> None:
    serve(stub)
    stub.fail("GET", r"/api/v1/users", 429, times=2, headers=rate_limited_headers, body={"errorCode": "E0000047"})
    begin = time.monotonic()
    records = collect_items(OktaConnector, settings_for(stub))
    assert time.monotonic() - begin < 5
    assert errors_of(records) == []
    assert "bob@example.com" in items_of(records, "okta.user")
    # 2 refused + the unfiltered listing + the DEPROVISIONED listing
    assert stub.count("GET", r"/api/v1/users") == 4


def test_429_without_headers_does_not_crash_and_becomes_that_kinds_error(stub: Any) -> None:
    serve(stub)
    stub.fail("GET", r"/api/v1/groups", 429, times=10)  # no Date/X-Rate-Limit-Reset: the SDK alone would crash
    records = collect_items(OktaConnector, settings_for(stub, max_retries=2))
    [error] = errors_of(records)
    assert error.kind == "okta.group" and "HTTP 429" in error.message and "after 2 retries" in error.message
    assert stub.count("GET", r"/api/v1/groups") == 3
    assert items_of(records, "okta.user") and items_of(records, "okta.application")


def test_pacing_slows_down_before_the_limit(stub: Any, caplog: pytest.LogCaptureFixture) -> None:
    org = build_org(NOW)
    org.rate_remaining, org.rate_reset_in = 1, 30  # almost exhausted: wait for the reset instead of a 429
    serve(stub, org)
    caplog.set_level(logging.INFO, logger="annexa.connector")
    begin = time.monotonic()
    records = collect_items(OktaConnector, settings_for(stub, max_rate_limit_wait=0.01, factor_concurrency=2))
    assert time.monotonic() - begin < 5 and errors_of(records) == []
    [line] = [r.getMessage() for r in caplog.records if "paced" in r.getMessage()]
    paced = int(line.split(" retried, ")[1].split(" paced")[0])
    assert paced >= 10


def test_permission_denied_for_roles_is_that_kinds_error(stub: Any) -> None:
    org = build_org(NOW)
    org.denied = [r"/api/v1/iam/assignees/users"]
    serve(stub, org)
    records = collect_items(OktaConnector, settings_for(stub))
    roles_error, users_error = errors_of(records)
    assert roles_error.kind == "okta.admin.role_assignments" and "HTTP 403 E0000006" in roles_error.message
    assert roles_error.fields is None
    assert users_error.kind == "okta.user" and users_error.fields == ("admin_roles",)
    assert "admin roles of 10 users" in users_error.message and "GET /api/v1/iam/assignees/users" in users_error.message
    assert len(users_error.items) == 10
    assert items_of(records, "okta.admin.role_assignments") == {}
    users = unknown_of(records, "okta.user")
    assert "admin_roles" not in users["alice@example.com"].data  # unknown, never "no roles" (nor null)
    assert "HTTP 403 E0000006" in users["alice@example.com"].unknown["admin_roles"]
    assert users["alice@example.com"].data["factors"] and items_of(records, "okta.policy")


def test_error_mid_pagination_is_an_error_not_a_shorter_list(stub: Any) -> None:
    org = build_org(NOW)
    org.page_faults = {"00u1carol000000003": 500}
    serve(stub, org)
    records = collect_items(OktaConnector, settings_for(stub, page_limit=3))
    assert items_of(records, "okta.user") == {}
    [error] = errors_of(records)
    assert error.kind == "okta.user" and "HTTP 500" in error.message
    assert items_of(records, "okta.policy")


def test_404_on_factors_of_a_user_deleted_during_the_run_drops_the_user(stub: Any) -> None:
    org = build_org(NOW)
    org.deleted = {"00u1bob00000000002"}  # listed, then deleted: factors and the user itself answer E0000007
    serve(stub, org)
    records = collect_items(OktaConnector, settings_for(stub))
    assert errors_of(records) == []
    assert "bob@example.com" not in items_of(records, "okta.user")
    assert "alice@example.com" in items_of(records, "okta.user")
    assert stub.count("GET", r"/api/v1/users/00u1bob00000000002") == 1  # the deletion was confirmed


def test_bare_404_on_factors_of_an_existing_user_is_a_factor_error_not_a_deletion(stub: Any) -> None:
    org = build_org(NOW)
    org.missing_routes = [r"/api/v1/users/00u1bob00000000002/factors"]
    serve(stub, org)
    records = collect_items(OktaConnector, settings_for(stub))
    [error] = errors_of(records)
    assert error.kind == "okta.user" and error.fields == ("factors", "factors_from_run")
    assert "bob@example.com" in error.message and "HTTP 404" in error.message
    bob = unknown_of(records, "okta.user")["bob@example.com"]
    assert "factors" not in bob.data and bob.data["factors_source"] == "error" and bob.data["status"] == "ACTIVE"
    assert set(bob.unknown) == {"factors", "factors_from_run"} and "HTTP 404" in bob.unknown["factors"]


def test_404_with_okta_code_on_factors_but_the_user_still_exists_is_an_error(stub: Any) -> None:
    serve(stub)
    not_found = {"errorCode": "E0000007", "errorSummary": "Not found: Resource not found"}
    stub.fail("GET", r"/api/v1/users/00u1bob00000000002/factors", 404, body=not_found)
    records = collect_items(OktaConnector, settings_for(stub))
    [error] = errors_of(records)
    assert error.fields == ("factors", "factors_from_run") and "bob@example.com" in error.message
    assert error.items == ("bob@example.com",)
    assert "factors" in unknown_of(records, "okta.user")["bob@example.com"].unknown


def test_factor_failure_for_one_user_is_recorded_for_the_factor_fields_only(stub: Any) -> None:
    serve(stub)
    stub.fail("GET", r"/api/v1/users/00u1carol000000003/factors", 500, times=10)
    records = collect_items(OktaConnector, settings_for(stub, max_retries=2))
    [error] = errors_of(records)
    assert error.kind == "okta.user" and "carol@example.com" in error.message
    assert error.fields == ("factors", "factors_from_run")
    assert "after 2 retries" in error.message and stub.count("GET", r"/api/v1/users/00u1carol000000003/factors") == 3
    carol = unknown_of(records, "okta.user")["carol@example.com"]
    assert "factors" not in carol.data and carol.data["factors_source"] == "error"
    assert carol.unknown["factors"].startswith("GET /api/v1/users/00u1carol000000003/factors: HTTP 500")
    assert carol.data["admin_roles"] == [] and carol.data["lastLogin"]  # the other facts are known


def test_a_transient_500_is_retried(stub: Any) -> None:
    serve(stub)
    stub.fail("GET", r"/api/v1/users/00u1carol000000003/factors", 500, times=1)
    stub.fail("GET", r"/api/v1/groups", 502, times=2)
    records = collect_items(OktaConnector, settings_for(stub))
    assert errors_of(records) == []
    assert items_of(records, "okta.user")["carol@example.com"]["factors_source"] == "fresh"
    assert stub.count("GET", r"/api/v1/groups") == 3


def test_factor_failures_of_many_users_are_one_error(stub: Any) -> None:
    serve(stub)
    stub.fail("GET", r"/api/v1/users/[^/]+/factors", 503, times=100)
    records = collect_items(OktaConnector, settings_for(stub, max_retries=0))
    [error] = errors_of(records)
    assert error.fields == ("factors", "factors_from_run") and len(error.items) == 8
    assert "factors of 8 users (" in error.message and "and 5 more" in error.message
    assert "GET /api/v1/users/{id}/factors: HTTP 503" in error.message
    assert {u.id for u in unknown_of(records, "okta.user").values() if u.unknown} == set(error.items)


def test_a_429_asking_for_a_longer_wait_than_allowed_ends_the_call(stub: Any) -> None:
    serve(stub)
    far = {"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": str(int(time.time()) + 3600)}
    stub.fail("GET", r"/api/v1/apps", 429, times=10, headers=far, body={"errorCode": "E0000047"})
    begin = time.monotonic()
    records = collect_items(OktaConnector, settings_for(stub))
    assert time.monotonic() - begin < 5
    [error] = errors_of(records)
    assert error.kind == "okta.application" and "HTTP 429" in error.message
    assert stub.count("GET", r"/api/v1/apps") == 1


def test_a_hanging_request_is_bounded_by_the_timeout_and_the_attempts(stub: Any) -> None:
    serve(stub)
    stub.hang("GET", r"/api/v1/authenticators", seconds=5)
    begin = time.monotonic()
    records = collect_items(OktaConnector, settings_for(stub, request_timeout=0.3, retry={"max_attempts": 2}))
    assert time.monotonic() - begin < 3
    [error] = errors_of(records)
    assert error.kind == "okta.authenticator" and "TimeoutError" in error.message and "after 1 retry" in error.message
    assert stub.count("GET", r"/api/v1/authenticators") == 2
    assert items_of(records, "okta.group") and items_of(records, "okta.user")


def test_the_deadline_bounds_a_call_whatever_the_attempts(stub: Any) -> None:
    serve(stub)
    stub.hang("GET", r"/api/v1/groups", seconds=5)
    begin = time.monotonic()
    retry = {"max_attempts": 10, "deadline_seconds": 0.5}
    records = collect_items(OktaConnector, {**settings_for(stub, request_timeout=30, retry=retry)})
    assert time.monotonic() - begin < 3
    [error] = errors_of(records)
    assert error.kind == "okta.group" and "0.5 s deadline" in error.message
    assert stub.count("GET", r"/api/v1/groups") == 1


def test_denied_roles_leave_users_with_unknown_admin_roles_only(stub: Any) -> None:
    org = build_org(NOW)
    org.denied = [r"/api/v1/users/[^/]+/roles"]
    serve(stub, org)
    records = collect_items(OktaConnector, settings_for(stub))
    by_kind = {e.kind: e for e in errors_of(records)}
    assert set(by_kind) == {"okta.admin.role_assignments", "okta.user"}
    assert by_kind["okta.admin.role_assignments"].fields is None  # the aggregate item is missing
    assert by_kind["okta.user"].fields == ("admin_roles",)
    # Only the three role holders' roles are unknown; the assignee listing says the others hold none.
    users = unknown_of(records, "okta.user")
    unknown = sorted(login for login, u in users.items() if "admin_roles" in u.unknown)
    assert (
        unknown == sorted(by_kind["okta.user"].items) == ["alice@example.com", "dave@example.com", "erin@example.com"]
    )
    assert all("admin_roles" not in users[login].data for login in unknown)
    assert users["bob@example.com"].data["admin_roles"] == []


def test_missing_assignee_listing_falls_back_to_each_users_roles(stub: Any) -> None:
    org = build_org(NOW)
    org.missing_routes = [r"/api/v1/iam/assignees/users"]
    serve(stub, org)
    records = collect_items(OktaConnector, settings_for(stub))
    assert errors_of(records) == []
    [roles] = items_of(records, "okta.admin.role_assignments").values()
    assert roles["super_admins"] == ["alice@example.com"]
    assert sorted(a["login"] for a in roles["assignees"]) == [
        "alice@example.com",
        "dave@example.com",
        "erin@example.com",
    ]
    assert stub.count("GET", r"/api/v1/users/[^/]+/roles") == len(org.users)
    assert items_of(records, "okta.user")["bob@example.com"]["admin_roles"] == []


def test_bare_404_on_a_users_roles_never_means_no_roles(stub: Any) -> None:
    org = build_org(NOW)
    org.missing_routes = [r"/api/v1/users/[^/]+/roles"]
    serve(stub, org)
    records = collect_items(OktaConnector, settings_for(stub))
    by_kind = {e.kind: e for e in errors_of(records)}
    assert "HTTP 404" in by_kind["okta.admin.role_assignments"].message
    assert by_kind["okta.user"].fields == ("admin_roles",)
    assert items_of(records, "okta.admin.role_assignments") == {}


def test_role_holder_deleted_during_the_run_holds_nothing(stub: Any) -> None:
    org = build_org(NOW)
    org.deleted = {"00u1dave0000000004"}
    serve(stub, org)
    records = collect_items(OktaConnector, settings_for(stub))
    assert errors_of(records) == []
    [roles] = items_of(records, "okta.admin.role_assignments").values()
    assert "dave@example.com" not in [a["login"] for a in roles["assignees"]]


def test_unreadable_rules_leave_only_the_rules_unknown(stub: Any) -> None:
    org = build_org(NOW)
    org.missing_routes = [r"/api/v1/policies/00p1signonbad00007/rules"]
    serve(stub, org)
    records = collect_items(OktaConnector, settings_for(stub))
    [error] = errors_of(records)
    assert error.kind == "okta.policy" and error.fields == ("rules",) and "Legacy sign-on" in error.message
    assert error.items == ("00p1signonbad00007",)
    policies = unknown_of(records, "okta.policy")
    bad = policies["00p1signonbad00007"]
    assert "rules" not in bad.data and "HTTP 404" in bad.unknown["rules"] and bad.data["status"] == "ACTIVE"
    assert policies["00p1signonok000006"].data["rules"] and not policies["00p1signonok000006"].unknown


def test_unknown_enum_values_are_kept_not_fatal(stub: Any) -> None:
    org = build_org(NOW)
    org.users[1]["status"] = "SOME_FUTURE_STATUS"
    org.factors["00u1alice000000001"].append(factor("fnew", "brand_new_factor_type", status="SOMETHING_NEW"))
    serve(stub, org)
    records = collect_items(OktaConnector, settings_for(stub))
    assert errors_of(records) == []
    users = items_of(records, "okta.user")
    assert users["bob@example.com"]["status"] == "SOME_FUTURE_STATUS"
    assert users["alice@example.com"]["factors"][-1]["factorType"] == "brand_new_factor_type"


def test_401_stops_the_connector_without_leaking_the_token(stub: Any) -> None:
    serve(stub)
    with pytest.raises(ConnectorError) as raised:
        collect_items(OktaConnector, {**settings_for(stub), "token": "00wrong-token-value"})
    assert "HTTP 401 E0000011" in str(raised.value) and "00wrong" not in str(raised.value)


def test_oauth_service_app_with_private_key(stub: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    monkeypatch.setenv("OKTA_SERVICE_KEY", pem)
    serve(stub)
    settings = {
        "org_url": stub.base_url,
        "client_id": "0oaservice",
        "private_key_env": "OKTA_SERVICE_KEY",
        "key_id": "kid1",
        "retry_backoff": 0,
    }
    records = collect_items(OktaConnector, settings)
    assert errors_of(records) == [] and "alice@example.com" in items_of(records, "okta.user")
    [token_request] = [r for r in stub.log if r.path == "/oauth2/v1/token"]
    assert b"okta.users.read" in token_request.body and b"okta.logs.read" in token_request.body
    api = [r for r in stub.log if r.path.startswith("/api/")]
    assert {r.headers["authorization"].split()[0] for r in api} == {"Bearer"}
    assert {r.method for r in api} == {"GET"}


def test_oauth_missing_key_variable_is_a_clear_error(stub: Any) -> None:
    settings = {"org_url": stub.base_url, "client_id": "0oaservice", "private_key_env": "NOT_SET_ANYWHERE"}
    with pytest.raises(ConnectorError, match="NOT_SET_ANYWHERE"):
        collect_items(OktaConnector, settings)


def test_https_check_switch_is_not_left_behind(stub: Any) -> None:
    import os

    serve(stub)
    collect_items(OktaConnector, settings_for(stub))
    assert "OKTA_TESTING_TESTINGDISABLEHTTPSCHECK" not in os.environ


# --- settings --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://localhost:9", "http://[::1]:9", "https://example.okta.com"]
)
def test_org_url_accepted(url: str) -> None:
    assert OktaSettings.model_validate({"org_url": url, "token": "t"}).org_url == url


@pytest.mark.parametrize(
    "url", ["http://example.okta.com", "ftp://example.okta.com", "example.okta.com", "https://x.okta.com/api/v1"]
)
def test_org_url_rejected(url: str) -> None:
    with pytest.raises(ValidationError):
        OktaSettings.model_validate({"org_url": url, "token": "t"})


def test_retry_settings_from_the_flat_keys_and_retry() -> None:
    base = {"org_url": "https://x.okta.com", "token": "t"}
    default = OktaSettings.model_validate(base).retry_settings
    assert (default.max_attempts, default.initial_backoff_seconds, default.max_retry_after_seconds) == (5, 2.0, 120.0)
    flat = OktaSettings.model_validate({**base, "max_retries": 1, "retry_backoff": 0.1, "max_rate_limit_wait": 7})
    assert flat.retry_settings.max_attempts == 2 and flat.retry_settings.initial_backoff_seconds == 0.1
    assert flat.retry_settings.max_retry_after_seconds == 7 and flat.retry_settings.deadline_seconds == 180
    nested = OktaSettings.model_validate(
        {**base, "retry_backoff": 0, "retry": {"max_attempts": 3, "deadline_seconds": 9}}
    )
    assert (nested.retry_policy.attempts, nested.retry_policy.initial_delay, nested.retry_policy.deadline) == (3, 0, 9)
    with pytest.raises(ValidationError, match=r"max_retries or retry\.max_attempts"):
        OktaSettings.model_validate({**base, "max_retries": 1, "retry": {"max_attempts": 3}})
    with pytest.raises(ValidationError):
        OktaSettings.model_validate({**base, "retry": {"attempts": 3}})


def test_exactly_one_auth_method() -> None:
    with pytest.raises(ValidationError):
        OktaSettings.model_validate({"org_url": "https://x.okta.com"})
    with pytest.raises(ValidationError):
        OktaSettings.model_validate(
            {"org_url": "https://x.okta.com", "token": "t", "client_id": "c", "private_key_env": "K"}
        )
    with pytest.raises(ValidationError):
        OktaSettings.model_validate({"org_url": "https://x.okta.com", "token": "t", "unknown": 1})
    settings = OktaSettings.model_validate({"org_url": "https://x.okta.com", "token": "s3cret"})
    assert "s3cret" not in repr(settings) and OktaConnector.label(settings) == "okta:x.okta.com"


def test_import_does_not_load_the_sdk() -> None:
    code = "import sys, connectors.okta; assert not any(m == 'okta' or m.startswith('okta.') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


# --- incremental re-runs ---------------------------------------------------------------------------------
def two_runs(stub: Any, org: OktaOrg, between: Any = None, **extra: Any) -> tuple[list[Record], list[Record], int, int]:
    """Run, optionally change the org, run again with the first run as the previous one; API requests of each."""
    serve(stub, org)
    first_ctx = context("run-1", started=datetime.now(UTC) - timedelta(hours=6))
    first = collect_items(OktaConnector, settings_for(stub, **extra), first_ctx)
    first_calls = first_ctx.api_calls
    if between:
        between(org)
    state = dict(first_ctx.state.changed)
    second_ctx = context("run-2", previous_run("run-1", first, first_ctx.started_at), state)
    second = collect_items(OktaConnector, settings_for(stub, **extra), second_ctx)
    return first, second, first_calls, second_ctx.api_calls


def test_unchanged_rerun_costs_at_most_five_percent(stub: Any) -> None:
    # Each run re-reads the org-level lists (user pages, policies and their rules, roles, inventory: ~25
    # requests for this estate); only the per-user factor calls are saved. 600 users make the per-user
    # part dominate as in a real org; with 60 users those fixed ~25 requests alone would exceed 5%.
    first, second, first_calls, second_calls = two_runs(stub, bulk_org(NOW, 600))
    assert errors_of(first) == errors_of(second) == []
    assert first_calls >= 600 and second_calls <= 0.05 * first_calls, (first_calls, second_calls)
    users = items_of(second, "okta.user")
    assert users["user00042@example.com"]["factors_source"] == "carried_over"
    assert users["user00042@example.com"]["factors_from_run"] == "run-1"
    assert users["user00042@example.com"]["factors"] == items_of(first, "okta.user")["user00042@example.com"]["factors"]
    [logs] = [r for r in stub.log if r.path == "/api/v1/logs"]
    assert 'eventType sw "user.mfa"' in logs.query["filter"] and logs.query["since"]


def test_rerun_fetches_factors_for_users_named_in_the_system_log(stub: Any) -> None:
    def change(org: OktaOrg) -> None:
        org.factors["00u1bob00000000002"] = [factor("fb2", "push")]
        org.log_event("user.mfa.factor.activate", "00u1bob00000000002", datetime.now(UTC))
        org.log_event("user.session.start", "00u1carol000000003", datetime.now(UTC))  # not a factor event
        org.users.append(build_org(NOW).users[0] | {"id": "00u1new00000000099", "profile": {"login": "new@x.io"}})
        org.factors["00u1new00000000099"] = []

    _, second, _, _ = two_runs(stub, build_org(NOW), change)
    users = items_of(second, "okta.user")
    assert users["bob@example.com"]["factors_source"] == "fresh"
    assert users["bob@example.com"]["factors_from_run"] == "run-2"
    assert [f["status"] for f in users["bob@example.com"]["factors"]] == ["ACTIVE"]
    assert users["new@x.io"]["factors_source"] == "fresh"
    assert users["carol@example.com"]["factors_source"] == "carried_over"
    fetched = {r.path.split("/")[4] for r in stub.log[-40:] if r.path.endswith("/factors")}
    assert fetched == {"00u1bob00000000002", "00u1new00000000099"}


@pytest.mark.parametrize("why", ["no previous", "previous partial", "previous too old", "log denied"])
def test_full_sweep_when_the_previous_run_cannot_be_trusted(stub: Any, why: str) -> None:
    org = build_org(NOW)
    serve(stub, org)
    first_ctx = context("run-1", started=datetime.now(UTC) - timedelta(days=1))
    first = collect_items(OktaConnector, settings_for(stub), first_ctx)
    state = dict(first_ctx.state.changed)
    previous = previous_run("run-1", first, first_ctx.started_at)
    if why == "no previous":
        previous = None
    elif why == "previous partial":
        previous = previous_run("run-1", first, first_ctx.started_at, status="partial")
    elif why == "previous too old":
        previous = previous_run("run-1", first, datetime.now(UTC) - timedelta(days=8))
    else:
        org.denied = [r"/api/v1/logs"]
    before = stub.count("GET", r"/api/v1/users/[^/]+/factors")
    second = collect_items(OktaConnector, settings_for(stub), context("run-2", previous, state))
    active = [u for u in org.users if u["status"] != "DEPROVISIONED"]
    assert stub.count("GET", r"/api/v1/users/[^/]+/factors") - before == len(active)
    assert {u["factors_source"] for u in items_of(second, "okta.user").values()} == {"fresh", "not_fetched"}
    assert errors_of(second) == []
