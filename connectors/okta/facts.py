"""Shaping raw Okta JSON into evidence data: drop hypermedia, strip secrets, keep provider fields."""

from __future__ import annotations

from typing import Any

_SECRET_KEY_PARTS = ("secret", "password", "privatekey", "private_key")
FACTOR_FIELDS = ("id", "factorType", "provider", "vendorName", "status", "created", "lastUpdated", "profile")
USER_FIELDS = (
    "id",
    "status",
    "created",
    "activated",
    "statusChanged",
    "lastLogin",
    "lastUpdated",
    "passwordChanged",
    "type",
    "profile",
)


def without_links(raw: dict[str, Any]) -> dict[str, Any]:
    """The object without Okta's ``_links``/``_embedded`` hypermedia (URLs, not facts)."""
    return {key: value for key, value in raw.items() if key not in ("_links", "_embedded")}


def user_facts(raw: dict[str, Any], org: str) -> dict[str, Any]:
    data = {name: raw.get(name) for name in USER_FIELDS}
    profile = raw.get("profile") or {}
    data["login"] = profile.get("login") or raw.get("id")
    data["org"] = org
    return data


def factor_facts(raw: dict[str, Any]) -> dict[str, Any]:
    # _embedded may carry activation material (QR codes, shared secrets) for pending factors: never kept.
    return {name: raw.get(name) for name in FACTOR_FIELDS}


def scrub_secrets(value: Any) -> Any:
    """Application credentials can carry client secrets or shared passwords: drop those keys entirely."""
    if isinstance(value, dict):
        return {
            key: scrub_secrets(item)
            for key, item in value.items()
            if not any(part in key.lower() for part in _SECRET_KEY_PARTS) and key not in ("_links", "_embedded")
        }
    if isinstance(value, list):
        return [scrub_secrets(item) for item in value]
    return value


def enrollment_of(settings: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Which authenticators an MFA enrollment policy asks for, from either engine's shape.

    Classic: ``{type: FACTORS, factors: {okta_otp: {enroll: {self: REQUIRED}}}}``;
    Identity Engine: ``{type: AUTHENTICATORS, authenticators: [{key, enroll: {self: REQUIRED}}]}``.
    """
    settings = settings or {}
    out: list[dict[str, Any]] = []
    for key, factor in sorted((settings.get("factors") or {}).items()):
        out.append({"key": key, "enroll": ((factor or {}).get("enroll") or {}).get("self")})
    for authenticator in settings.get("authenticators") or []:
        out.append({"key": authenticator.get("key"), "enroll": (authenticator.get("enroll") or {}).get("self")})
    return out
