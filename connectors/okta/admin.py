"""Admin role assignments: who holds SUPER_ADMIN and the other administrator roles."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .client import Api, OktaApiError, next_cursor
from .users import user_was_deleted

ROLE_FIELDS = ("id", "type", "label", "status", "assignmentType", "created", "lastUpdated")


async def list_role_assignees(api: Api, page_limit: int) -> list[str]:
    """User ids with at least one role (GET /api/v1/iam/assignees/users: ``{value: [...], _links: {next}}``)."""
    ids: list[str] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": min(page_limit, 100)}
        if after:
            params["after"] = after
        body, headers = await api.get("/api/v1/iam/assignees/users", params)
        if not isinstance(body, dict) or not isinstance(body.get("value"), list):
            raise OktaApiError(None, "GET /api/v1/iam/assignees/users: unexpected answer shape", transient=False)
        ids.extend(entry["id"] for entry in body["value"] if isinstance(entry, dict) and entry.get("id"))
        next_after = next_cursor(headers.getall("Link", [])) or _body_next(body)
        if not next_after or not body["value"]:
            return ids
        if next_after == after:
            raise OktaApiError(
                None, "GET /api/v1/iam/assignees/users: the next-page cursor did not advance", transient=False
            )
        after = next_after


def _body_next(body: dict[str, Any]) -> str | None:
    href = ((body.get("_links") or {}).get("next") or {}).get("href")
    if not href:
        return None
    values = parse_qs(urlsplit(href).query).get("after")
    if not values:
        raise OktaApiError(None, f"next link without an after cursor: {href}")
    return values[0]


@dataclass
class Assignments:
    roles: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # user id -> roles (holders only)
    failed: dict[str, OktaApiError] = field(default_factory=dict)  # user id -> why their roles are unknown


async def read_role_assignments(
    api: Api, page_limit: int, concurrency: int, user_ids: list[str] | None = None
) -> Assignments:
    """User id -> the roles assigned to the user (directly or through a group), and the users whose roles
    could not be read. Raises OktaApiError when the holders themselves cannot be listed.

    ``user_ids`` (every listed user) is the fallback when the IAM assignee listing answers 404: an org or
    API imitation without it is asked user by user, which costs one request per user but stays complete.
    """
    try:
        assignees = await list_role_assignees(api, page_limit)
    except OktaApiError as exc:
        if exc.status != 404 or user_ids is None:
            raise
        api.context.log.info("okta: %s; reading the roles of each of %d users instead", exc.reason, len(user_ids))
        assignees = user_ids
    semaphore = asyncio.Semaphore(concurrency)

    async def roles_of(user_id: str) -> tuple[str, list[dict[str, Any]] | OktaApiError | None]:
        async with semaphore:
            try:
                body = await api.get_all(f"/api/v1/users/{user_id}/roles")
            except OktaApiError as exc:
                # Deleted since the listing: holds nothing any more. Any other 404 leaves the roles unknown.
                return user_id, None if await user_was_deleted(api, user_id, exc) else exc
        return user_id, [{name: role.get(name) for name in ROLE_FIELDS} for role in body if isinstance(role, dict)]

    out = Assignments()
    for user_id, roles in await asyncio.gather(*(roles_of(user_id) for user_id in dict.fromkeys(assignees))):
        if isinstance(roles, OktaApiError):
            out.failed[user_id] = roles
        elif roles:
            out.roles[user_id] = roles
    return out


def role_types_by_user(assignments: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    return {
        user_id: sorted({str(role["type"]) for role in roles if role.get("type")})
        for user_id, roles in assignments.items()
    }


def admin_aggregate(
    org: str, assignments: dict[str, list[dict[str, Any]]], users_by_id: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The org-level item: assignees with their roles, holders per role type, the SUPER_ADMIN holders."""
    assignees = []
    holders: dict[str, list[str]] = {}
    for user_id, roles in sorted(assignments.items()):
        user = users_by_id.get(user_id) or {}
        login = (user.get("profile") or {}).get("login") or user_id
        assignees.append({"user_id": user_id, "login": login, "user_status": user.get("status"), "roles": roles})
        for role_type in sorted({str(role["type"]) for role in roles if role.get("type")}):
            holders.setdefault(role_type, []).append(login)
    super_admins = sorted(holders.get("SUPER_ADMIN", []))
    return {
        "host": org,
        "assignees": assignees,
        "holders_by_role": {role: sorted(logins) for role, logins in sorted(holders.items())},
        "super_admins": super_admins,
        "super_admin_count": len(super_admins),
    }
