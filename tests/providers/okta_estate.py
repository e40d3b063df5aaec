"""A small Okta organization for the imitation: each fixed check has a passing and a failing resource."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .okta_imitation import OktaOrg, factor, ts, user

EVERYONE = "00g0everyone0000000"
OFFICE_ZONE = "nzo1office0000001"


def role(rid: str, role_type: str, label: str, assignment: str = "USER") -> dict[str, Any]:
    return {
        "id": rid,
        "type": role_type,
        "label": label,
        "status": "ACTIVE",
        "assignmentType": assignment,
        "created": "2025-06-01T00:00:00.000Z",
        "lastUpdated": "2025-06-01T00:00:00.000Z",
        "_links": {},
    }


def password_policy(
    pid: str, name: str, status: str, min_length: int, max_attempts: int, history: int, max_age: int, priority: int
) -> dict[str, Any]:
    return {
        "id": pid,
        "type": "PASSWORD",
        "name": name,
        "status": status,
        "priority": priority,
        "system": False,
        "created": "2025-01-01T00:00:00.000Z",
        "lastUpdated": "2025-01-01T00:00:00.000Z",
        "conditions": {"people": {"groups": {"include": [EVERYONE]}}, "authProvider": {"provider": "OKTA"}},
        "settings": {
            "password": {
                "complexity": {
                    "minLength": min_length,
                    "minLowerCase": 1,
                    "minUpperCase": 1,
                    "minNumber": 1,
                    "minSymbol": 0,
                    "excludeUsername": True,
                    "dictionary": {"common": {"exclude": True}},
                },
                "age": {"maxAgeDays": max_age, "expireWarnDays": 0, "minAgeMinutes": 0, "historyCount": history},
                "lockout": {"maxAttempts": max_attempts, "autoUnlockMinutes": 0, "showLockoutFailures": False},
            },
            "recovery": {"factors": {"okta_email": {"status": "ACTIVE"}}},
            "delegation": {"options": {"skipUnlock": False}},
        },
        "_links": {"self": {"href": f"https://example.okta.com/api/v1/policies/{pid}"}},
    }


def signon_rule(
    rid: str, require_factor: bool, idle: int, lifetime: int, persistent: bool = False, status: str = "ACTIVE"
) -> dict[str, Any]:
    return {
        "id": rid,
        "type": "SIGN_ON",
        "name": f"rule {rid}",
        "status": status,
        "priority": 1,
        "system": False,
        "conditions": {"people": {"users": {"exclude": []}}, "network": {"connection": "ANYWHERE"}},
        "actions": {
            "signon": {
                "access": "ALLOW",
                "requireFactor": require_factor,
                "factorPromptMode": "ALWAYS",
                "primaryFactor": "PASSWORD_IDP_ANY_FACTOR",
                "session": {
                    "usePersistentCookie": persistent,
                    "maxSessionIdleMinutes": idle,
                    "maxSessionLifetimeMinutes": lifetime,
                },
            }
        },
    }


def access_rule(
    rid: str,
    factor_mode: str,
    status: str = "ACTIVE",
    *,
    device: dict[str, Any] | None = None,
    network: dict[str, Any] | None = None,
    access: str = "ALLOW",
    catch_all: bool = False,
) -> dict[str, Any]:
    """An authentication policy rule as Okta returns it; the catch-all rule has ``conditions: null``."""
    conditions: dict[str, Any] | None = {"network": network or {"connection": "ANYWHERE"}}
    if device is not None:
        assert conditions is not None
        conditions["device"] = device
    return {
        "id": rid,
        "type": "ACCESS_POLICY",
        "name": "Catch-all Rule" if catch_all else f"rule {rid}",
        "status": status,
        "priority": 99 if catch_all else 0,
        "system": catch_all,
        "conditions": None if catch_all else conditions,
        "actions": {
            "appSignOn": {
                "access": access,
                "verificationMethod": {
                    "type": "ASSURANCE",
                    "factorMode": factor_mode,
                    "reauthenticateIn": "PT2H",
                    "constraints": [],
                },
            }
        },
    }


def device_assurance(
    did: str,
    name: str,
    platform: str,
    *,
    encryption: bool = True,
    screen_lock: bool = True,
    os_minimum: str | None = "14.2.1",
) -> dict[str, Any]:
    """A device assurance policy as GET /api/v1/device-assurances returns it."""
    body: dict[str, Any] = {
        "id": did,
        "name": name,
        "platform": platform,
        "createdBy": "00u1alice000000001",
        "createdDate": "2025-03-01T10:00:00.000Z",
        "lastUpdate": "2025-03-02T10:00:00.000Z",
        "lastUpdatedBy": "00u1alice000000001",
        "osVersion": {"minimum": os_minimum} if os_minimum else None,
        "diskEncryptionType": {"include": ["ALL_INTERNAL_VOLUMES"]} if encryption else None,
        "screenLockType": {"include": ["PASSCODE", "BIOMETRIC"]} if screen_lock else None,
        "secureHardwarePresent": True,
        "_links": {"self": {"href": f"https://example.okta.com/api/v1/device-assurances/{did}"}},
    }
    if platform in ("ANDROID", "IOS"):
        body["jailbreak"] = False
    return body


def policy(pid: str, policy_type: str, name: str, status: str = "ACTIVE", **settings: Any) -> dict[str, Any]:
    return {
        "id": pid,
        "type": policy_type,
        "name": name,
        "status": status,
        "priority": 1,
        "system": False,
        "conditions": None,
        "settings": settings or None,
        "_links": {},
    }


def build_org(now: datetime) -> OktaOrg:
    days = lambda n: now - timedelta(days=n)  # noqa: E731
    org = OktaOrg()
    people = [
        # (id, login, status, created, lastLogin, factors, roles)
        (
            "00u1alice000000001",
            "alice@example.com",
            "ACTIVE",
            days(400),
            days(2),
            [factor("fa1", "push", provider="OKTA"), factor("fa2", "webauthn", provider="FIDO")],
            ["SUPER_ADMIN"],
        ),
        (
            "00u1bob00000000002",
            "bob@example.com",
            "ACTIVE",
            days(300),
            days(5),
            [factor("fb1", "sms", status="PENDING_ACTIVATION")],
            [],
        ),
        (
            "00u1carol000000003",
            "carol@example.com",
            "ACTIVE",
            days(500),
            days(200),
            [factor("fc1", "token:software:totp", provider="GOOGLE")],
            [],
        ),
        ("00u1dave0000000004", "dave@example.com", "ACTIVE", days(10), None, [factor("fd1", "push")], ["ORG_ADMIN"]),
        ("00u1erin0000000005", "erin@example.com", "DEPROVISIONED", days(700), days(120), [], ["READ_ONLY_ADMIN"]),
        ("00u1frank000000006", "frank@example.com", "STAGED", days(60), None, [], []),
        ("00u1gina0000000007", "gina@example.com", "SUSPENDED", days(600), days(150), [factor("fg1", "push")], []),
        ("00u1hank0000000008", "hank@example.com", "PROVISIONED", days(3), None, [], []),
        ("00u1ivan0000000009", "ivan@example.com", "SUSPENDED", days(90), days(6), [factor("fi1", "push")], []),
        ("00u1judy0000000010", "judy@example.com", "DEPROVISIONED", days(800), days(300), [], []),
    ]
    for uid, login, status, created, last_login, factors, roles in people:
        record = user(uid, login, status, created=created, last_login=last_login, password_changed=days(30))
        if status == "SUSPENDED":
            record["statusChanged"] = ts(days(100 if login.startswith("gina") else 5))
        org.users.append(record)
        org.factors[uid] = factors
        if roles:
            org.role_assignments[uid] = [role(f"ra{uid[-1]}{i}", r, r.title()) for i, r in enumerate(roles)]
    org.groups = [
        {
            "id": EVERYONE,
            "type": "BUILT_IN",
            "created": "2024-01-01T00:00:00.000Z",
            "lastMembershipUpdated": ts(days(1)),
            "profile": {"name": "Everyone", "description": "All users"},
            "_links": {},
        },
        {
            "id": "00g1engineering0001",
            "type": "OKTA_GROUP",
            "created": "2024-02-01T00:00:00.000Z",
            "lastMembershipUpdated": ts(days(3)),
            "profile": {"name": "Engineering", "description": None},
            "_links": {},
        },
    ]
    org.policies = [
        password_policy("00p1strong00000001", "Strong passwords", "ACTIVE", 14, 5, 24, 90, 1),
        password_policy("00p1weak0000000002", "Legacy contractors", "ACTIVE", 8, 0, 0, 0, 2),
        password_policy("00p1off00000000003", "Old default", "INACTIVE", 6, 0, 0, 0, 3),
        policy(
            "00p1mfaclassic0004",
            "MFA_ENROLL",
            "Classic MFA",
            type="FACTORS",
            factors={
                "okta_otp": {"consent": {"type": "NONE"}, "enroll": {"self": "REQUIRED"}},
                "okta_password": {"consent": {"type": "NONE"}, "enroll": {"self": "REQUIRED"}},
                "okta_sms": {"consent": {"type": "NONE"}, "enroll": {"self": "NOT_ALLOWED"}},
            },
        ),
        policy(
            "00p1mfaoie00000005",
            "MFA_ENROLL",
            "OIE enrollment",
            status="INACTIVE",
            type="AUTHENTICATORS",
            authenticators=[
                {"key": "okta_verify", "enroll": {"self": "OPTIONAL"}},
                {"key": "okta_password", "enroll": {"self": "REQUIRED"}},
            ],
        ),
        policy("00p1signonok000006", "OKTA_SIGN_ON", "Employees sign-on"),
        policy("00p1signonbad00007", "OKTA_SIGN_ON", "Legacy sign-on"),
        policy("00p1accessok000008", "ACCESS_POLICY", "Admin Console"),
        policy("00p1accessbad00009", "ACCESS_POLICY", "Any two factors... except one"),
        policy("00p1accessoffice10", "ACCESS_POLICY", "Office intranet"),
    ]
    org.rules = {
        "00p1strong00000001": [],
        "00p1weak0000000002": [],
        "00p1off00000000003": [],
        "00p1mfaclassic0004": [],
        "00p1mfaoie00000005": [],
        "00p1signonok000006": [
            signon_rule("0pr1ok", True, 60, 720),
            signon_rule("0pr1off", False, 999, 0, status="INACTIVE"),
        ],
        "00p1signonbad00007": [signon_rule("0pr2bad", False, 120, 0, persistent=True)],
        "00p1accessok000008": [
            access_rule("rul1ok", "2FA", device={"registered": True, "managed": True}),
            access_rule("rul1deny", "2FA", access="DENY", catch_all=True),
        ],
        "00p1accessbad00009": [
            access_rule("rul2two", "2FA", device={"registered": True, "assurance": {"include": ["dae1macos0000001"]}}),
            access_rule("rul2catch", "1FA"),
            access_rule("rul2deny", "1FA", access="DENY"),
        ],
        "00p1accessoffice10": [
            access_rule("rul3office", "2FA", network={"connection": "ZONE", "include": [OFFICE_ZONE]}),
            access_rule("rul3old", "1FA", status="INACTIVE"),
        ],
    }
    org.device_assurances = [
        device_assurance("dae1macos0000001", "macOS baseline", "MACOS"),
        device_assurance("dae1windows00002", "Windows baseline", "WINDOWS", os_minimum="10.0.22631"),
        device_assurance("dae1ios000000003", "iPhone", "IOS", screen_lock=False, os_minimum=None),
    ]
    org.threat_insight = {**org.threat_insight, "action": "block"}
    org.authenticators = [
        {
            "id": "aut1password000001",
            "key": "okta_password",
            "type": "password",
            "status": "ACTIVE",
            "name": "Password",
            "created": "2024-01-01T00:00:00.000Z",
            "settings": {},
            "_links": {},
        },
        {
            "id": "aut1webauthn000002",
            "key": "webauthn",
            "type": "security_key",
            "status": "ACTIVE",
            "name": "Security Key or Biometric",
            "created": "2024-01-01T00:00:00.000Z",
            "settings": {},
            "_links": {},
        },
    ]
    org.apps = [
        {
            "id": "0oa1github00000001",
            "name": "githubcloud",
            "label": "GitHub",
            "status": "ACTIVE",
            "signOnMode": "SAML_2_0",
            "created": "2024-03-01T00:00:00.000Z",
            "_links": {},
            "credentials": {"scheme": "EDIT_USERNAME_AND_PASSWORD", "signing": {"kid": "k1"}},
        },
        {
            "id": "0oa1portal00000002",
            "name": "oidc_client",
            "label": "Portal",
            "status": "ACTIVE",
            "signOnMode": "OPENID_CONNECT",
            "created": "2024-03-01T00:00:00.000Z",
            "_links": {},
            "credentials": {
                "oauthClient": {
                    "client_id": "0oa1portal",
                    "client_secret": "SUPER-SECRET-VALUE",
                    "token_endpoint_auth_method": "client_secret_basic",
                }
            },
        },
    ]
    return org


def bulk_org(now: datetime, count: int) -> OktaOrg:
    """``build_org`` plus ``count`` ordinary active users with one push factor each."""
    org = build_org(now)
    for n in range(count):
        uid = f"00u2bulk{n:010d}"
        org.users.append(
            user(uid, f"user{n:05d}@example.com", created=now - timedelta(days=30), last_login=now - timedelta(days=1))
        )
        org.factors[uid] = [factor(f"fbulk{n}", "push")]
    return org
