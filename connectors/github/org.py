"""Organization settings, owners, members (with 2FA state) and outside collaborators."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from connectors.base import CollectionError, EvidenceItem

from .client import Api
from .errors import api_errors
from .facts import error_reason, without_hypermedia
from .kinds import MEMBER, ORG, OUTSIDE_COLLABORATOR

# Fields GET /orgs/{org} returns only to owners; their absence means "not readable", not "off".
OWNER_ONLY_FIELDS = ("two_factor_requirement_enabled", "default_repository_permission")


def read_owners(api: Api, org: str) -> tuple[list[str] | None, str | None]:
    """(sorted owner logins, None) or (None, reason)."""
    try:
        return sorted(member["login"] for member in api.get_all(f"/orgs/{org}/members", {"role": "admin"})), None
    except api_errors() as exc:
        return None, f"{org}: owners (members?role=admin): {error_reason(exc)}"


def org_item(
    org: str, organization: Mapping[str, Any], owners: list[str] | None, owners_error: str | None
) -> Iterator[EvidenceItem | CollectionError]:
    """The organization item: raw settings plus the owners list (an aggregate the owners check needs)."""
    data = without_hypermedia(dict(organization))
    for name in (*OWNER_ONLY_FIELDS, "members_can_create_public_repositories", "plan"):
        data.setdefault(name, None)
    missing = [name for name in OWNER_ONLY_FIELDS if data[name] is None]
    if missing:
        yield CollectionError(
            ORG, f"{org}: {', '.join(missing)} not returned (the token is not an organization owner)", tuple(missing)
        )
    if owners_error:
        yield CollectionError(ORG, owners_error, ("owners", "owners_count"))
    data.update(owners=owners, owners_count=None if owners is None else len(owners))
    yield EvidenceItem(ORG, org, data)


def member_items(api: Api, org: str, owners: list[str] | None) -> Iterator[EvidenceItem | CollectionError]:
    if owners is None:
        yield CollectionError(MEMBER, f"{org}: member roles unknown: the owners list could not be read", ("role",))
    try:
        members = api.get_all(f"/orgs/{org}/members")
    except api_errors() as exc:
        yield CollectionError(MEMBER, f"{org}: members: {error_reason(exc)}")
        return
    two_factor_disabled: set[str] | None
    try:
        # Only owners may use this filter; GitHub answers 403 (or 422 on some servers) otherwise.
        two_factor_disabled = {m["login"] for m in api.get_all(f"/orgs/{org}/members", {"filter": "2fa_disabled"})}
    except api_errors() as exc:
        yield CollectionError(
            MEMBER,
            f"{org}: members with 2FA disabled (filter=2fa_disabled): {error_reason(exc)}",
            ("two_factor_disabled",),
        )
        two_factor_disabled = None
    for member in members:
        login = member["login"]
        data = without_hypermedia(dict(member))
        data.update(
            org=org,
            role=None if owners is None else ("admin" if login in owners else "member"),
            two_factor_disabled=None if two_factor_disabled is None else login in two_factor_disabled,
        )
        yield EvidenceItem(MEMBER, login, data)


def read_outside_collaborators(api: Api, org: str) -> tuple[list[dict[str, Any]] | None, str | None]:
    """(outside collaborators, None) or (None, reason)."""
    try:
        return list(api.get_all(f"/orgs/{org}/outside_collaborators")), None
    except api_errors() as exc:
        return None, f"{org}: outside collaborators: {error_reason(exc)}"


def outside_collaborator_items(
    org: str,
    collaborators: list[dict[str, Any]] | None,
    collaborators_error: str | None,
    access: Mapping[str, list[dict[str, Any]]] | None,
    access_errors: list[str],
) -> Iterator[EvidenceItem | CollectionError]:
    """Outside collaborators, each joined with the repositories it can reach (collected per repository)."""
    if collaborators is None:
        yield CollectionError(OUTSIDE_COLLABORATOR, collaborators_error or f"{org}: outside collaborators unknown")
        return
    for message in access_errors:
        yield CollectionError(OUTSIDE_COLLABORATOR, message, ("repositories",))
    for collaborator in collaborators:
        login = collaborator["login"]
        data = without_hypermedia(dict(collaborator))
        data.update(org=org, repositories=None if access is None else access.get(login, []))
        yield EvidenceItem(OUTSIDE_COLLABORATOR, login, data)
