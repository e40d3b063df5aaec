"""A small simulated Okta organization for ``annexa demo``: same kinds and shapes as collect(), no network."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import CollectionError, EvidenceItem

from .admin import admin_aggregate
from .facts import enrollment_of
from .kinds import ADMIN_ROLES, APPLICATION, AUTHENTICATOR, DEVICE_ASSURANCE, GROUP, ORG, POLICY, USER
from .posture import SUMMARY_FIELDS

HOST = "example-gmbh.okta.com"
RUN = "demo"


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _factor(fid: str, factor_type: str, status: str = "ACTIVE") -> dict[str, Any]:
    return {
        "id": fid,
        "factorType": factor_type,
        "provider": "OKTA",
        "vendorName": "OKTA",
        "status": status,
        "created": "2025-09-01T08:00:00.000Z",
        "lastUpdated": "2025-09-01T08:00:00.000Z",
        "profile": {},
    }


def _people(now: datetime) -> list[tuple[str, str, str, int, int | None, list[dict[str, Any]], list[str]]]:
    # (id, login, status, created days ago, last login days ago, factors, admin roles)
    return [
        (
            "00u1anna",
            "anna.admin@example-gmbh.de",
            "ACTIVE",
            700,
            1,
            [_factor("f1", "webauthn"), _factor("f2", "push")],
            ["SUPER_ADMIN"],
        ),
        ("00u1ben", "ben.ops@example-gmbh.de", "ACTIVE", 400, 3, [_factor("f3", "push")], ["ORG_ADMIN"]),
        ("00u1clara", "clara@example-gmbh.de", "ACTIVE", 300, 2, [_factor("f4", "token:software:totp")], []),
        ("00u1dirk", "dirk@example-gmbh.de", "ACTIVE", 250, 4, [_factor("f5", "sms", "PENDING_ACTIVATION")], []),
        ("00u1eva", "eva@example-gmbh.de", "ACTIVE", 900, 140, [_factor("f6", "push")], []),
        ("00u1finn", "finn.contractor@example-gmbh.de", "STAGED", 75, None, [], []),
        ("00u1greta", "greta.leaver@example-gmbh.de", "DEPROVISIONED", 1000, 200, [], ["READ_ONLY_ADMIN"]),
    ]


def _user(now: datetime, entry: tuple[str, str, str, int, int | None, list[dict[str, Any]], list[str]]) -> EvidenceItem:
    uid, login, status, created_ago, login_ago, factors, roles = entry
    created = now - timedelta(days=created_ago)
    data: dict[str, Any] = {
        "id": uid,
        "status": status,
        "created": _ts(created),
        "activated": None if status == "STAGED" else _ts(created),
        "statusChanged": _ts(created + timedelta(days=1)),
        "lastLogin": _ts(now - timedelta(days=login_ago)) if login_ago is not None else None,
        "lastUpdated": _ts(created + timedelta(days=1)),
        "passwordChanged": _ts(now - timedelta(days=40)),
        "type": {"id": "oty1default"},
        "profile": {"login": login, "email": login, "firstName": login.split(".")[0].split("@")[0].title()},
        "login": login,
        "org": HOST,
        "admin_roles": roles,
    }
    if status == "DEPROVISIONED":
        data.update(factors=None, factors_source="not_fetched", factors_from_run=None)
    else:
        data.update(factors=factors, factors_source="fresh", factors_from_run=RUN)
    return EvidenceItem(USER, login, data)


def _policies() -> list[dict[str, Any]]:
    password = {
        "complexity": {"minLength": 10, "dictionary": {"common": {"exclude": True}}},
        "age": {"maxAgeDays": 0, "historyCount": 4},
        "lockout": {"maxAttempts": 10},
    }
    session = {"usePersistentCookie": False, "maxSessionIdleMinutes": 60, "maxSessionLifetimeMinutes": 720}
    return [
        {
            "id": "00pdemopwd",
            "type": "PASSWORD",
            "name": "Default Policy",
            "status": "ACTIVE",
            "priority": 1,
            "system": True,
            "settings": {"password": password},
            "rules": [],
        },
        {
            "id": "00pdemomfa",
            "type": "MFA_ENROLL",
            "name": "Authenticator enrollment",
            "status": "ACTIVE",
            "priority": 1,
            "system": True,
            "rules": [],
            "settings": {
                "type": "AUTHENTICATORS",
                "authenticators": [
                    {"key": "okta_verify", "enroll": {"self": "REQUIRED"}},
                    {"key": "okta_password", "enroll": {"self": "REQUIRED"}},
                ],
            },
        },
        {
            "id": "00pdemosignon",
            "type": "OKTA_SIGN_ON",
            "name": "Global session policy",
            "status": "ACTIVE",
            "priority": 1,
            "system": True,
            "rules": [
                {
                    "id": "0prdemo1",
                    "name": "Employees",
                    "status": "ACTIVE",
                    "actions": {"signon": {"access": "ALLOW", "requireFactor": True, "session": session}},
                }
            ],
        },
        {
            "id": "00pdemoaccess",
            "type": "ACCESS_POLICY",
            "name": "Any two factors",
            "status": "ACTIVE",
            "priority": 1,
            "system": False,
            "rules": [
                {
                    "id": "0prdemo2",
                    "name": "Catch-all Rule",
                    "status": "ACTIVE",
                    "actions": {
                        "appSignOn": {
                            "access": "ALLOW",
                            "verificationMethod": {"type": "ASSURANCE", "factorMode": "1FA"},
                        }
                    },
                }
            ],
        },
        {
            "id": "00pdemoadmin",
            "type": "ACCESS_POLICY",
            "name": "Okta Admin Console",
            "status": "ACTIVE",
            "priority": 2,
            "system": False,
            "rules": [
                {
                    "id": "0prdemo3",
                    "name": "Admins on managed laptops",
                    "status": "ACTIVE",
                    "conditions": {
                        "network": {"connection": "ANYWHERE"},
                        "device": {"registered": True, "managed": True, "assurance": {"include": ["daedemomac"]}},
                    },
                    "actions": {
                        "appSignOn": {
                            "access": "ALLOW",
                            "verificationMethod": {
                                "type": "ASSURANCE",
                                "factorMode": "2FA",
                                "reauthenticateIn": "PT2H",
                            },
                        }
                    },
                },
                {
                    "id": "0prdemo4",
                    "name": "Catch-all Rule",
                    "status": "ACTIVE",
                    "conditions": None,
                    "actions": {"appSignOn": {"access": "DENY"}},
                },
            ],
        },
    ]


def _device_assurances() -> list[dict[str, Any]]:
    def policy(did: str, name: str, platform: str, os_version: dict[str, Any] | None, lock: bool) -> dict[str, Any]:
        return {
            "id": did,
            "name": name,
            "platform": platform,
            "osVersion": os_version,
            "osVersionConstraints": None,
            "diskEncryptionType": {"include": ["ALL_INTERNAL_VOLUMES"]},
            "screenLockType": {"include": ["PASSCODE", "BIOMETRIC"]} if lock else None,
            "secureHardwarePresent": True,
            "jailbreak": False if platform in ("IOS", "ANDROID") else None,
            "createdDate": "2025-05-02T09:00:00.000Z",
            "lastUpdate": "2025-09-12T09:00:00.000Z",
        }

    return [
        policy("daedemomac", "macOS laptops", "MACOS", {"minimum": "14.6"}, True),
        policy("daedemowin", "Windows laptops", "WINDOWS", {"minimum": "10.0.22631"}, True),
        policy("daedemoios", "iPhones (BYOD)", "IOS", None, False),
    ]


def simulated_estate(now: datetime) -> Iterator[EvidenceItem | CollectionError]:
    people = _people(now)
    users = [_user(now, entry) for entry in people]
    yield from users
    assignments = {
        uid: [
            {
                "id": f"ra{uid}",
                "type": r,
                "label": r.title(),
                "status": "ACTIVE",
                "assignmentType": "USER",
                "created": None,
                "lastUpdated": None,
            }
            for r in roles
        ]
        for uid, _, _, _, _, _, roles in people
        if roles
    }
    by_id = {item.data["id"]: item.data for item in users}
    yield EvidenceItem(ADMIN_ROLES, HOST, admin_aggregate(HOST, assignments, by_id))
    mfa_enroll = []
    for policy in _policies():
        data = {"conditions": None, **policy, "org": HOST}
        if data["type"] == "MFA_ENROLL":
            data["authenticator_enrollment"] = enrollment_of(data["settings"])
            mfa_enroll.append(
                {k: data.get(k) for k in ("id", "name", "status", "priority", "system", "authenticator_enrollment")}
            )
        yield EvidenceItem(POLICY, data["id"], data)
    assurances = _device_assurances()
    for assurance in assurances:
        yield EvidenceItem(DEVICE_ASSURANCE, assurance["id"], {**assurance, "org": HOST})
    yield EvidenceItem(
        ORG,
        HOST,
        {
            "host": HOST,
            "org_url": f"https://{HOST}",
            "mfa_enroll_policies": mfa_enroll,
            "device_assurances": [{k: a.get(k) for k in SUMMARY_FIELDS} for a in assurances],
            # Left in log-only mode after the roll-out: suspicious IPs are recorded, not blocked.
            "threat_insight": {"action": "audit", "excludeZones": [], "created": None, "lastUpdated": None},
        },
    )
    yield EvidenceItem(
        GROUP,
        "00gdemoeveryone",
        {"id": "00gdemoeveryone", "type": "BUILT_IN", "profile": {"name": "Everyone"}, "org": HOST},
    )
    yield EvidenceItem(
        AUTHENTICATOR,
        "autdemowebauthn",
        {"id": "autdemowebauthn", "key": "webauthn", "type": "security_key", "status": "ACTIVE", "org": HOST},
    )
    yield EvidenceItem(
        APPLICATION,
        "0oademogithub",
        {
            "id": "0oademogithub",
            "name": "githubcloud",
            "label": "GitHub",
            "status": "ACTIVE",
            "signOnMode": "SAML_2_0",
            "org": HOST,
        },
    )
