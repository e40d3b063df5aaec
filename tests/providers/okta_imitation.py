"""A local imitation of the Okta Management API v1 on tests/stub.py, following Okta's documented JSON.

Cursor pagination (``limit``/``after`` with one ``Link`` header per rel, as Okta sends them), Okta
error bodies (``errorCode``/``errorSummary``), rate-limit headers on every answer, SSWS and OAuth
bearer authentication, the DEPROVISIONED filter on /users, and System Log ``since``/``filter``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from stub import Request, Stub

TOKEN = "00imitation-token-value-0123456789"
ACCESS_TOKEN = "eyJimitation.access.token"
NOT_FOUND = {"errorCode": "E0000007", "errorSummary": "Not found: Resource not found", "errorCauses": []}
FORBIDDEN = {
    "errorCode": "E0000006",
    "errorSummary": "You do not have permission to perform the requested action",
    "errorCauses": [],
}
INVALID_TOKEN = {"errorCode": "E0000011", "errorSummary": "Invalid token provided", "errorCauses": []}
FEATURE_NOT_ENABLED = {
    "errorCode": "E0000015",
    "errorSummary": "You do not have permission to access the feature you are requesting",
    "errorCauses": [],
}
RATE_LIMITED = {"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit due to too many requests."}


def ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def rate_limited_headers() -> dict[str, Any]:
    """A 429 whose reset lies one second before the server's Date: a client honouring it waits 0 s."""
    return {"X-Rate-Limit-Limit": "600", "X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": str(int(time.time()) - 1)}


def user(
    uid: str,
    login: str,
    status: str = "ACTIVE",
    *,
    created: datetime,
    last_login: datetime | None,
    activated: datetime | None = None,
    password_changed: datetime | None = None,
) -> dict[str, Any]:
    first, _, _ = login.partition("@")
    return {
        "id": uid,
        "status": status,
        "created": ts(created),
        "activated": ts(activated or created) if status not in ("STAGED", "PROVISIONED") else None,
        "statusChanged": ts(created + timedelta(hours=1)),
        "lastLogin": ts(last_login) if last_login else None,
        "lastUpdated": ts(created + timedelta(hours=1)),
        "passwordChanged": ts(password_changed) if password_changed else None,
        "type": {"id": "oty1imitation"},
        "profile": {
            "login": login,
            "email": login,
            "firstName": first.title(),
            "lastName": "Example",
            "mobilePhone": None,
            "secondEmail": None,
        },
        "credentials": {"password": {}, "provider": {"type": "OKTA", "name": "OKTA"}},
        "_links": {"self": {"href": f"https://example.okta.com/api/v1/users/{uid}"}},
    }


def factor(fid: str, factor_type: str, status: str = "ACTIVE", provider: str = "OKTA") -> dict[str, Any]:
    return {
        "id": fid,
        "factorType": factor_type,
        "provider": provider,
        "vendorName": provider,
        "status": status,
        "created": "2026-01-10T10:00:00.000Z",
        "lastUpdated": "2026-01-10T10:00:00.000Z",
        "profile": {"credentialId": f"cred-{fid}"},
        "_links": {"self": {"href": "https://example.okta.com/api/v1/users/x/factors/" + fid}},
        "_embedded": {"activation": {"sharedSecret": "NEVER-STORE-THIS"}} if status == "PENDING_ACTIVATION" else {},
    }


@dataclass
class OktaOrg:
    users: list[dict[str, Any]] = field(default_factory=list)
    factors: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    groups: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    role_assignments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    authenticators: list[dict[str, Any]] = field(default_factory=list)
    apps: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    device_assurances: list[dict[str, Any]] = field(default_factory=list)
    # Okta documents no paging for /device-assurances; a smaller page shows the connector follows Link anyway.
    device_assurance_page: int = 200
    # GET /api/v1/threats/configuration; Okta's default for a new org is "none"
    threat_insight: dict[str, Any] = field(
        default_factory=lambda: {
            "action": "none",
            "excludeZones": [],
            "created": "2024-01-01T00:00:00.000Z",
            "lastUpdated": "2024-01-01T00:00:00.000Z",
            "_links": {"self": {"href": "https://example.okta.com/api/v1/threats/configuration"}},
        }
    )
    engine: str = "IDENTITY"  # CLASSIC: Identity Engine features answer E0000015
    denied: list[str] = field(default_factory=list)  # path regexes answered 403 E0000006
    deleted: set[str] = field(default_factory=set)  # user ids deleted after the listing: 404 on every other call
    missing_routes: list[str] = field(default_factory=list)  # path regexes answered a bare 404 (not implemented)
    page_faults: dict[str, int] = field(default_factory=dict)  # after-cursor -> status of that page
    rate_remaining: int = 1000
    rate_reset_in: int = 60

    def log_event(self, event_type: str, user_id: str, when: datetime) -> None:
        self.logs.append(
            {
                "uuid": f"evt{len(self.logs)}",
                "published": ts(when),
                "eventType": event_type,
                "severity": "INFO",
                "displayMessage": event_type,
                "actor": {"id": user_id, "type": "User"},
                "outcome": {"result": "SUCCESS"},
                "target": [{"id": user_id, "type": "User", "alternateId": user_id}],
            }
        )


class OktaImitation:
    """Serve an OktaOrg on a Stub; ``requests`` counts the API requests it answered."""

    def __init__(self, stub: Stub, org: OktaOrg) -> None:
        self.stub, self.org = stub, org
        s = stub
        s.route("POST", r"/oauth2/v1/token", self._token)
        s.route("GET", r"/api/v1/users", self._guard(self._users))
        s.route("GET", r"/api/v1/users/(?P<uid>[^/]+)", self._guard(self._user))
        s.route("GET", r"/api/v1/users/(?P<uid>[^/]+)/factors", self._guard(self._factors))
        s.route("GET", r"/api/v1/users/(?P<uid>[^/]+)/roles", self._guard(self._roles))
        s.route("GET", r"/api/v1/iam/assignees/users", self._guard(self._assignees))
        s.route("GET", r"/api/v1/groups", self._guard(lambda r: self._page(r, self.org.groups)))
        s.route("GET", r"/api/v1/policies", self._guard(self._policies))
        s.route("GET", r"/api/v1/policies/(?P<pid>[^/]+)/rules", self._guard(self._rules))
        s.route("GET", r"/api/v1/authenticators", self._guard(lambda r: self._ok(self.org.authenticators)))
        s.route("GET", r"/api/v1/apps", self._guard(lambda r: self._page(r, self.org.apps)))
        s.route("GET", r"/api/v1/logs", self._guard(self._logs))
        s.route("GET", r"/api/v1/device-assurances", self._guard(self._device_assurances))
        s.route("GET", r"/api/v1/threats/configuration", self._guard(lambda r: self._ok(self.org.threat_insight)))

    def api_requests(self) -> int:
        return sum(1 for r in self.stub.log if r.path.startswith("/api/v1/"))

    # --- plumbing ---------------------------------------------------------------------------------
    def _rate_headers(self) -> dict[str, Any]:
        return {
            "X-Rate-Limit-Limit": "600",
            "X-Rate-Limit-Remaining": str(self.org.rate_remaining),
            "X-Rate-Limit-Reset": str(int(time.time()) + self.org.rate_reset_in),
        }

    def _ok(self, body: Any, extra: dict[str, Any] | None = None) -> tuple[int, dict[str, Any], Any]:
        return 200, {**self._rate_headers(), **(extra or {})}, body

    def _guard(self, handler: Any) -> Any:
        def wrapped(req: Request, **groups: str) -> Any:
            auth = req.headers.get("authorization", "")
            if auth not in (f"SSWS {TOKEN}", f"SSWS{TOKEN}", f"Bearer {ACCESS_TOKEN}"):
                return 401, self._rate_headers(), INVALID_TOKEN
            if any(re.fullmatch(pattern, req.path) for pattern in self.org.denied):
                return 403, self._rate_headers(), FORBIDDEN
            if any(re.fullmatch(pattern, req.path) for pattern in self.org.missing_routes):
                return 404, {}, {"message": "Not Found"}  # an imitation or proxy without the endpoint
            return handler(req, **groups)

        return wrapped

    def _page(self, req: Request, items: list[dict[str, Any]], default: int = 200) -> Any:
        if req.query.get("after") in self.org.page_faults:
            status = self.org.page_faults[req.query["after"]]
            return status, self._rate_headers(), {"errorCode": "E0000009", "errorSummary": "Internal Server Error"}
        limit = int(req.query.get("limit", default))
        start = 0
        if "after" in req.query:
            ids = [item["id"] for item in items]
            start = ids.index(req.query["after"]) + 1
        chunk = items[start : start + limit]
        query = {k: v for k, v in req.query.items() if k != "after"}
        links = [f'<{req.base_url}{req.path}?{urlencode(query)}>; rel="self"']
        if start + limit < len(items):
            links.append(f'<{req.base_url}{req.path}?{urlencode({**query, "after": chunk[-1]["id"]})}>; rel="next"')
        return self._ok(chunk, {"Link": links})

    # --- endpoints --------------------------------------------------------------------------------
    def _token(self, req: Request) -> Any:
        body = req.body.decode()
        if "client_assertion=" not in body or "grant_type=client_credentials" not in body:
            return 400, {}, {"error": "invalid_request", "error_description": "client assertion required"}
        return {"token_type": "Bearer", "expires_in": 3600, "access_token": ACCESS_TOKEN, "scope": "okta.users.read"}

    def _users(self, req: Request) -> Any:
        wanted = req.query.get("filter")
        if wanted == 'status eq "DEPROVISIONED"':
            items = [u for u in self.org.users if u["status"] == "DEPROVISIONED"]
        elif wanted is None:
            items = [u for u in self.org.users if u["status"] != "DEPROVISIONED"]
        else:
            return 400, self._rate_headers(), {"errorCode": "E0000031", "errorSummary": "Invalid search criteria."}
        return self._page(req, items)

    def _known(self, uid: str) -> dict[str, Any] | None:
        if uid in self.org.deleted:
            return None
        return next((u for u in self.org.users if u["id"] == uid), None)

    def _user(self, req: Request, uid: str) -> Any:
        found = self._known(uid)
        return self._ok(found) if found else (404, self._rate_headers(), NOT_FOUND)

    def _factors(self, req: Request, uid: str) -> Any:
        if self._known(uid) is None:
            return 404, self._rate_headers(), NOT_FOUND
        return self._ok(self.org.factors.get(uid, []))

    def _roles(self, req: Request, uid: str) -> Any:
        if self._known(uid) is None:
            return 404, self._rate_headers(), NOT_FOUND
        return self._ok(self.org.role_assignments.get(uid, []))  # a user without roles: an empty list

    def _assignees(self, req: Request) -> Any:
        ids = sorted(self.org.role_assignments)
        limit = int(req.query.get("limit", 100))
        start = ids.index(req.query["after"]) + 1 if "after" in req.query else 0
        chunk = ids[start : start + limit]
        links: dict[str, Any] = {}
        if start + limit < len(ids):
            links["next"] = {"href": f"{req.base_url}{req.path}?{urlencode({'limit': limit, 'after': chunk[-1]})}"}
        value = [{"id": uid, "orn": f"orn:okta:directory:00o1:users:{uid}", "_links": {}} for uid in chunk]
        return self._ok({"value": value, "_links": links})

    def _policies(self, req: Request) -> Any:
        policy_type = req.query.get("type")
        if not policy_type:
            return 400, self._rate_headers(), {"errorCode": "E0000001", "errorSummary": "Api validation failed: type"}
        return self._page(req, [p for p in self.org.policies if p["type"] == policy_type])

    def _rules(self, req: Request, pid: str) -> Any:
        if pid not in self.org.rules:
            return 404, self._rate_headers(), NOT_FOUND
        return self._page(req, self.org.rules[pid])

    def _device_assurances(self, req: Request) -> Any:
        if self.org.engine == "CLASSIC":
            return 401, self._rate_headers(), FEATURE_NOT_ENABLED
        return self._page(req, self.org.device_assurances, default=self.org.device_assurance_page)

    def _logs(self, req: Request) -> Any:
        since = req.query.get("since", "")
        until = req.query.get("until", "9999")
        prefixes = re.findall(r'eventType sw "([^"]+)"', req.query.get("filter", ""))
        events = [
            e
            for e in self.org.logs
            if since <= e["published"] <= until and (not prefixes or e["eventType"].startswith(tuple(prefixes)))
        ]
        for event in events:
            event.setdefault("id", event["uuid"])
        status, headers, chunk = self._page(req, events, default=100)
        if not chunk:  # Okta keeps offering rel="next" on the System Log, even on an empty page
            headers["Link"] = headers["Link"] + [f'<{req.base_url}{req.path}?after=tail>; rel="next"']
        return status, headers, chunk
