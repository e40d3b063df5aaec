"""A local imitation of the GitHub REST API v3, on tests/stub.py, for the GitHub connector's tests.

It follows GitHub's documented answers: absolute ``Link`` URLs on the imitation's own host (cursor
``after=`` pagination for organization Dependabot alerts), ETags with ``If-None-Match`` -> 304,
``X-RateLimit-*`` headers, the documented 404 bodies ("Branch not protected", "no analysis found",
"This repository is empty."), rules of active rulesets only at ``/rules/branches/{b}``, directory listings
at ``/contents``, an SPDX SBOM built afresh per request (new creation time, so no ETag repeats) and the
wrapped ``{"total_count", "environments"}`` pages of ``/environments``. ``cost()`` counts requests that GitHub would
charge against the rate limit (everything except 304).
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from stub import Request, Response, Stub, link_paginate

DOCS = "https://docs.github.com/rest"


@dataclass
class Repo:
    name: str
    visibility: str = "private"
    archived: bool = False
    default_branch: str = "main"
    pushed_at: str = "2026-01-10T10:00:00Z"
    secret_scanning: str = "enabled"
    push_protection: str = "enabled"
    advanced_security: str = "enabled"  # private repositories need it for code scanning
    protection: dict[str, Any] | None = None  # classic branch protection (GitHub's JSON minus urls)
    rulesets: list[dict[str, Any]] = field(default_factory=list)  # {id, name, enforcement, rules}
    codeowners: bool = True
    deploy_keys: list[dict[str, Any]] = field(default_factory=list)
    actions: dict[str, Any] = field(default_factory=lambda: {"enabled": True, "allowed_actions": "selected"})
    analyses: list[dict[str, Any]] = field(default_factory=list)
    collaborators: list[dict[str, Any]] = field(default_factory=list)  # outside: {login, permissions, role_name}
    alerts: list[dict[str, Any]] = field(default_factory=list)  # open Dependabot alerts {number, severity, ...}
    files: list[str] = field(default_factory=lambda: ["README.md"])  # paths on the default branch; [] = empty repo
    private_vulnerability_reporting: bool = False
    dependency_graph: bool = True  # False: the SBOM answers 404
    # {name, version, concluded, declared}: SPDX licence expressions as GitHub reports them (NOASSERTION if unknown)
    dependencies: list[dict[str, Any]] = field(default_factory=list)
    environments: list[dict[str, Any]] = field(default_factory=list)  # GitHub's environment JSON minus urls


@dataclass
class Estate:
    org: str = "acme"
    settings: dict[str, Any] = field(default_factory=dict)
    owner_token: bool = True  # False: owner-only fields are left out and filter=2fa_disabled is refused
    members: list[str] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    two_factor_disabled: list[str] = field(default_factory=list)
    outside_collaborators: list[str] = field(default_factory=list)
    repos: list[Repo] = field(default_factory=list)
    org_rulesets: list[dict[str, Any]] = field(default_factory=list)
    org_alerts_endpoint: bool = True  # False: an older GHES without /orgs/{org}/dependabot/alerts
    # GET /orgs/{org}/actions/permissions: {enabled_repositories, allowed_actions, selected: [names]};
    # None answers 403 as GitHub does for a classic token without admin:org.
    # GitHub's branch summary says `protected: true` for classic protection or an active ruleset; False
    # imitates a server whose flag counts classic protection only.
    summary_counts_rulesets: bool = True
    actions_policy: dict[str, Any] | None = field(
        default_factory=lambda: {"enabled_repositories": "all", "allowed_actions": "all"}  # GitHub's default
    )


def protection(
    approvals: int = 1, force_push: bool = False, enforce_admins: bool = True, checks: tuple[str, ...] = ("ci",)
) -> dict[str, Any]:
    return {
        "required_status_checks": {
            "strict": True,
            "contexts": list(checks),
            "checks": [{"context": c, "app_id": None} for c in checks],
        }
        if checks
        else None,
        "enforce_admins": {"enabled": enforce_admins},
        "required_pull_request_reviews": {
            "dismiss_stale_reviews": True,
            "require_code_owner_reviews": False,
            "required_approving_review_count": approvals,
            "require_last_push_approval": False,
        },
        "required_signatures": {"enabled": False},
        "required_linear_history": {"enabled": False},
        "allow_force_pushes": {"enabled": force_push},
        "allow_deletions": {"enabled": False},
        "block_creations": {"enabled": False},
        "required_conversation_resolution": {"enabled": False},
        "lock_branch": {"enabled": False},
        "allow_fork_syncing": {"enabled": False},
    }


def ruleset(rid: int, enforcement: str, approvals: int = 1, force_push_blocked: bool = True) -> dict[str, Any]:
    rules: list[dict[str, Any]] = [
        {
            "type": "pull_request",
            "parameters": {
                "required_approving_review_count": approvals,
                "dismiss_stale_reviews_on_push": True,
                "require_code_owner_review": False,
                "require_last_push_approval": False,
                "required_review_thread_resolution": False,
            },
        },
        {"type": "deletion"},
    ]
    if force_push_blocked:
        rules.append({"type": "non_fast_forward"})
    rules.append(
        {
            "type": "required_status_checks",
            "parameters": {
                "required_status_checks": [{"context": "ci"}],
                "strict_required_status_checks_policy": False,
            },
        }
    )
    return {"id": rid, "name": f"ruleset-{rid}", "enforcement": enforcement, "rules": rules}


class GitHubImitation:
    def __init__(self, stub: Stub, estate: Estate) -> None:
        self.stub, self.estate = stub, estate
        self.broken_pages: set[tuple[str, str]] = set()  # (path, page) answered with a 502
        # The stub writes headers and body separately; without TCP_NODELAY (inherited by accepted sockets
        # on Linux) Nagle + delayed ACK add ~40 ms to every keep-alive request.
        stub.server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        o = r"(?P<org>[^/]+)"
        rp = r"(?P<owner>[^/]+)/(?P<repo>[^/]+)"
        stub.route("GET", rf"/orgs/{o}", self.org)
        stub.route("GET", rf"/orgs/{o}/members", self.members)
        stub.route("GET", rf"/orgs/{o}/outside_collaborators", self.outside)
        stub.route("GET", rf"/orgs/{o}/repos", self.repos)
        stub.route("GET", rf"/orgs/{o}/dependabot/alerts", self.org_alerts)
        stub.route("GET", rf"/orgs/{o}/actions/permissions", self.org_actions)
        stub.route("GET", rf"/orgs/{o}/actions/permissions/repositories", self.org_actions_repositories)
        stub.route("GET", rf"/repos/{rp}/branches/(?P<branch>[^/]+)", self.branch)
        stub.route("GET", rf"/repos/{rp}/branches/(?P<branch>[^/]+)/protection", self.protection)
        stub.route("GET", rf"/repos/{rp}/rules/branches/(?P<branch>[^/]+)", self.rules)
        stub.route("GET", rf"/repos/{rp}/codeowners/errors", self.codeowners)
        stub.route("GET", rf"/repos/{rp}/keys", self.keys)
        stub.route("GET", rf"/repos/{rp}/actions/permissions", self.actions)
        stub.route("GET", rf"/repos/{rp}/code-scanning/analyses", self.analyses)
        stub.route("GET", rf"/repos/{rp}/collaborators", self.collaborators)
        stub.route("GET", rf"/repos/{rp}/dependabot/alerts", self.repo_alerts)
        stub.route("GET", rf"/repos/{rp}/private-vulnerability-reporting", self.private_reporting)
        stub.route("GET", rf"/repos/{rp}/contents(?:/(?P<path>.+))?", self.contents)
        stub.route("GET", rf"/repos/{rp}/dependency-graph/sbom", self.sbom)
        stub.route("GET", rf"/repos/{rp}/environments", self.environments)
        stub.route("POST", r"/app/installations/(?P<iid>\d+)/access_tokens", self.installation_token)

    # -- accounting -------------------------------------------------------------------------------
    def cost(self) -> int:
        """Requests GitHub would count against the rate limit: every answer except 304."""
        return sum(1 for r in self.stub.log if r.method == "GET" and getattr(r, "status", None) != 304)

    # -- helpers ----------------------------------------------------------------------------------
    def _answer(self, req: Request, status: int, headers: dict[str, Any], body: Any) -> Response:
        headers = {**headers, **_rate_headers()}
        if status == 200:
            etag = 'W/"' + hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest() + '"'
            headers["ETag"] = etag
            if req.headers.get("if-none-match") == etag:
                req.status = 304  # type: ignore[attr-defined]
                return 304, headers, b""
        req.status = status  # type: ignore[attr-defined]
        return status, headers, body

    def _ok(self, req: Request, body: Any) -> Response:
        return self._answer(req, 200, {}, body)

    def _list(self, req: Request, items: list[Any]) -> Response:
        if (req.path, req.query.get("page", "1")) in self.broken_pages:
            return self._answer(req, 502, {}, {"message": "Server Error"})
        status, headers, chunk = link_paginate(req, items)
        return self._answer(req, status, headers, chunk)

    def _not_found(self, req: Request, message: str = "Not Found", doc: str = "") -> Response:
        return self._answer(req, 404, {}, {"message": message, "documentation_url": f"{DOCS}{doc}", "status": "404"})

    def _repo(self, owner: str, name: str) -> Repo | None:
        if owner != self.estate.org:
            return None
        return next((r for r in self.estate.repos if r.name == name), None)

    def _user(self, req: Request, login: str) -> dict[str, Any]:
        uid = int(hashlib.sha1(login.encode()).hexdigest()[:6], 16)
        return {
            "login": login,
            "id": uid,
            "node_id": f"U_{uid}",
            "type": "User",
            "site_admin": False,
            "avatar_url": f"{req.base_url}/avatars/{login}",
            "url": f"{req.base_url}/users/{login}",
            "html_url": f"https://github.com/{login}",
        }

    # -- organization -----------------------------------------------------------------------------
    def org(self, req: Request, org: str) -> Response:
        e = self.estate
        if org != e.org:
            return self._not_found(req)
        body: dict[str, Any] = {
            "login": org,
            "id": 4242,
            "node_id": "O_4242",
            "url": f"{req.base_url}/orgs/{org}",
            "repos_url": f"{req.base_url}/orgs/{org}/repos",
            "html_url": f"https://github.com/{org}",
            "type": "Organization",
            "public_repos": sum(r.visibility == "public" for r in e.repos),
            "members_can_create_repositories": True,
            "members_can_create_public_repositories": False,
            "members_can_create_private_repositories": True,
            "members_can_fork_private_repositories": False,
            "web_commit_signoff_required": False,
            "deploy_keys_enabled_for_repositories": True,
        }
        if e.owner_token:
            body.update(
                two_factor_requirement_enabled=True,
                default_repository_permission="read",
                plan={"name": "team", "space": 976562499, "private_repos": 999999, "filled_seats": 4, "seats": 10},
            )
        body.update(e.settings)
        return self._ok(req, body)

    def members(self, req: Request, org: str) -> Response:
        e = self.estate
        if req.query.get("filter") == "2fa_disabled":
            if not e.owner_token:
                return self._answer(
                    req,
                    403,
                    {},
                    {
                        "message": "Only owners can use this filter.",
                        "documentation_url": f"{DOCS}/orgs/members",
                        "status": "403",
                    },
                )
            logins = e.two_factor_disabled
        elif req.query.get("role") == "admin":
            logins = e.owners
        else:
            logins = e.members
        return self._list(req, [self._user(req, login) for login in logins])

    def outside(self, req: Request, org: str) -> Response:
        return self._list(req, [self._user(req, login) for login in self.estate.outside_collaborators])

    def repos(self, req: Request, org: str) -> Response:
        return self._list(req, [self._repo_json(req, r) for r in self.estate.repos])

    def _repo_json(self, req: Request, r: Repo) -> dict[str, Any]:
        org, base = self.estate.org, req.base_url
        full = f"{org}/{r.name}"
        return {
            "id": int(hashlib.sha1(full.encode()).hexdigest()[:7], 16),
            "node_id": f"R_{r.name}",
            "name": r.name,
            "full_name": full,
            "owner": {"login": org, "type": "Organization", "url": f"{base}/users/{org}"},
            "private": r.visibility != "public",
            "visibility": r.visibility,
            "fork": False,
            "html_url": f"https://github.com/{full}",
            "url": f"{base}/repos/{full}",
            "hooks_url": f"{base}/repos/{full}/hooks",
            "branches_url": f"{base}/repos/{full}/branches{{/branch}}",
            "archived": r.archived,
            "disabled": False,
            "default_branch": r.default_branch,
            "created_at": "2024-03-01T09:00:00Z",
            "updated_at": r.pushed_at,
            "pushed_at": r.pushed_at,
            "permissions": {"admin": True, "maintain": True, "push": True, "triage": True, "pull": True},
            "security_and_analysis": {
                "advanced_security": {"status": r.advanced_security},
                "secret_scanning": {"status": r.secret_scanning},
                "secret_scanning_push_protection": {"status": r.push_protection},
                "dependabot_security_updates": {"status": "enabled"},
            },
        }

    # -- repository details -----------------------------------------------------------------------
    def branch(self, req: Request, owner: str, repo: str, branch: str) -> Response:
        r = self._repo(owner, repo)
        if r is None or branch != r.default_branch:
            return self._not_found(req, "Branch not found", "/branches/branches#get-a-branch")
        protected = r.protection is not None or (self.estate.summary_counts_rulesets and bool(self._active_rules(r)))
        body = {
            "name": branch,
            "commit": {"sha": "c0ffee", "url": f"{req.base_url}/repos/{owner}/{repo}/commits/c0ffee"},
            "protected": protected,
            "protection": {
                "enabled": protected,
                "required_status_checks": {"enforcement_level": "off", "contexts": []},
            },
            "protection_url": f"{req.base_url}/repos/{owner}/{repo}/branches/{branch}/protection",
        }
        return self._ok(req, body)

    def protection(self, req: Request, owner: str, repo: str, branch: str) -> Response:
        r = self._repo(owner, repo)
        if r is None or r.protection is None:
            return self._not_found(req, "Branch not protected", "/branches/branch-protection#get-branch-protection")
        url = f"{req.base_url}/repos/{owner}/{repo}/branches/{branch}/protection"
        return self._ok(req, {"url": url, **r.protection})

    def _active_rules(self, r: Repo) -> list[dict[str, Any]]:
        out = []
        sources = [(rs, "Repository", f"{self.estate.org}/{r.name}") for rs in r.rulesets]
        sources += [(rs, "Organization", self.estate.org) for rs in self.estate.org_rulesets]
        for rs, source_type, source in sources:
            if rs["enforcement"] != "active":  # GitHub leaves out evaluate and disabled rulesets
                continue
            for rule in rs["rules"]:
                out.append(
                    {**rule, "ruleset_source_type": source_type, "ruleset_source": source, "ruleset_id": rs["id"]}
                )
        return out

    def rules(self, req: Request, owner: str, repo: str, branch: str) -> Response:
        r = self._repo(owner, repo)
        if r is None:
            return self._not_found(req)
        return self._list(req, self._active_rules(r) if branch == r.default_branch else [])

    def codeowners(self, req: Request, owner: str, repo: str) -> Response:
        r = self._repo(owner, repo)
        if r is None or not r.codeowners:
            return self._not_found(req, "Not Found", "/repos/repos#list-codeowners-errors")
        return self._ok(req, {"errors": []})

    def keys(self, req: Request, owner: str, repo: str) -> Response:
        r = self._repo(owner, repo)
        return self._not_found(req) if r is None else self._list(req, r.deploy_keys)

    def actions(self, req: Request, owner: str, repo: str) -> Response:
        r = self._repo(owner, repo)
        if r is None:
            return self._not_found(req)
        body = dict(r.actions)
        if body.get("allowed_actions") == "selected":
            body["selected_actions_url"] = f"{req.base_url}/repos/{owner}/{repo}/actions/permissions/selected-actions"
        return self._ok(req, body)

    def analyses(self, req: Request, owner: str, repo: str) -> Response:
        r = self._repo(owner, repo)
        if r is None:
            return self._not_found(req)
        if r.visibility != "public" and r.advanced_security != "enabled":
            return self._answer(
                req,
                403,
                {},
                {
                    "message": "Advanced Security must be enabled for this repository to use code scanning.",
                    "documentation_url": f"{DOCS}/code-scanning/code-scanning",
                    "status": "403",
                },
            )
        if not r.analyses:
            return self._not_found(
                req, "no analysis found", "/code-scanning/code-scanning#list-code-scanning-analyses-for-a-repository"
            )
        return self._list(req, r.analyses)

    def collaborators(self, req: Request, owner: str, repo: str) -> Response:
        r = self._repo(owner, repo)
        if r is None:
            return self._not_found(req)
        rows = (
            [
                {**self._user(req, c["login"]), "permissions": c["permissions"], "role_name": c["role_name"]}
                for c in r.collaborators
            ]
            if req.query.get("affiliation") == "outside"
            else []
        )
        return self._list(req, rows)

    def org_actions(self, req: Request, org: str) -> Response:
        policy = self.estate.actions_policy
        if policy is None:
            body = {
                "message": "You must be an org admin or have the admin:org scope to do that.",
                "documentation_url": f"{DOCS}/actions/permissions#get-github-actions-permissions-for-an-organization",
                "status": "403",
            }
            return self._answer(req, 403, {}, body)
        body = {k: v for k, v in policy.items() if k != "selected"}
        if body["enabled_repositories"] == "selected":
            body["selected_repositories_url"] = f"{req.base_url}/orgs/{org}/actions/permissions/repositories"
        if body.get("allowed_actions") == "selected":
            body["selected_actions_url"] = f"{req.base_url}/orgs/{org}/actions/permissions/selected-actions"
        return self._ok(req, body)

    def org_actions_repositories(self, req: Request, org: str) -> Response:
        policy = self.estate.actions_policy or {}
        names = policy.get("selected", [])
        repos = [self._repo_json(req, r) for r in self.estate.repos if r.name in names]
        # This endpoint wraps each page: {"total_count": n, "repositories": [...]}, Link header as usual.
        status, headers, chunk = link_paginate(req, repos)
        return self._answer(req, status, headers, {"total_count": len(repos), "repositories": chunk})

    def _alert_json(self, req: Request, r: Repo, alert: dict[str, Any]) -> dict[str, Any]:
        full = f"{self.estate.org}/{r.name}"
        number, severity = alert["number"], alert["severity"]
        package = {"ecosystem": "pip", "name": alert.get("package", "requests")}
        return {
            "number": number,
            "state": "open",
            "dependency": {"package": package, "manifest_path": "requirements.txt", "scope": "runtime"},
            "security_advisory": {
                "ghsa_id": f"GHSA-{number:04d}-abcd-efgh",
                "cve_id": f"CVE-2025-{number:04d}",
                "severity": severity,
                "summary": "A vulnerability",
            },
            "security_vulnerability": {
                "package": package,
                "severity": severity,
                "vulnerable_version_range": "< 2.0",
                "first_patched_version": {"identifier": "2.0"},
            },
            "url": f"{req.base_url}/repos/{full}/dependabot/alerts/{number}",
            "html_url": f"https://github.com/{full}/security/dependabot/{number}",
            "created_at": alert.get("created_at", "2026-01-01T00:00:00Z"),
            "updated_at": "2026-01-02T00:00:00Z",
            "dismissed_at": None,
            "fixed_at": None,
            "auto_dismissed_at": None,
            "repository": {"id": 1, "name": r.name, "full_name": full, "url": f"{req.base_url}/repos/{full}"},
        }

    def org_alerts(self, req: Request, org: str) -> Response:
        if not self.estate.org_alerts_endpoint:
            return self._not_found(req)
        alerts = [self._alert_json(req, r, a) for r in self.estate.repos for a in r.alerts]
        # Cursor pagination, as GitHub does for this endpoint: ``after`` is an opaque cursor in the Link.
        size = int(req.query.get("per_page", 30))
        start = int(base64.b64decode(req.query["after"]).decode()) if "after" in req.query else 0
        chunk, headers = alerts[start : start + size], {}
        if start + size < len(alerts):
            query = {
                **{k: v for k, v in req.query.items() if k != "after"},
                "after": base64.b64encode(str(start + size).encode()).decode(),
            }
            headers["Link"] = f'<{req.base_url}{req.path}?{urlencode(query)}>; rel="next"'
        return self._answer(req, 200, headers, chunk)

    def repo_alerts(self, req: Request, owner: str, repo: str) -> Response:
        r = self._repo(owner, repo)
        if r is None:
            return self._not_found(req)
        return self._list(req, [self._alert_json(req, r, a) for a in r.alerts])

    def private_reporting(self, req: Request, owner: str, repo: str) -> Response:
        r = self._repo(owner, repo)
        return self._not_found(req) if r is None else self._ok(req, {"enabled": r.private_vulnerability_reporting})

    def contents(self, req: Request, owner: str, repo: str, path: str | None = None) -> Response:
        r = self._repo(owner, repo)
        if r is None:
            return self._not_found(req)
        if not r.files:
            return self._not_found(req, "This repository is empty.", "/repos/contents#get-repository-content")
        folder = (path or "").strip("/")
        prefix = f"{folder}/" if folder else ""
        entries: dict[str, str] = {}
        for file in r.files:
            if not file.startswith(prefix):
                continue
            head, _, rest = file[len(prefix) :].partition("/")
            entries.setdefault(head, "dir" if rest else "file")
        if folder and not entries:
            if folder in r.files:  # a file: GitHub answers its content object, not a listing
                return self._ok(req, {"type": "file", "name": folder.rsplit("/", 1)[-1], "path": folder})
            return self._not_found(req, "Not Found", "/repos/contents#get-repository-content")
        base, full = req.base_url, f"{self.estate.org}/{r.name}"
        listing = [
            {
                "type": kind,
                "name": name,
                "path": prefix + name,
                "sha": hashlib.sha1((full + prefix + name).encode()).hexdigest(),
                "size": 0 if kind == "dir" else 512,
                "url": f"{base}/repos/{full}/contents/{prefix}{name}?ref={r.default_branch}",
                "html_url": f"https://github.com/{full}/{'tree' if kind == 'dir' else 'blob'}/main/{prefix}{name}",
                "git_url": f"{base}/repos/{full}/git/{'trees' if kind == 'dir' else 'blobs'}/0",
                "download_url": None
                if kind == "dir"
                else f"https://raw.githubusercontent.com/{full}/main/{prefix}{name}",
                "_links": {"self": f"{base}/repos/{full}/contents/{prefix}{name}"},
            }
            for name, kind in sorted(entries.items())
        ]
        return self._ok(req, listing)

    def sbom(self, req: Request, owner: str, repo: str) -> Response:
        r = self._repo(owner, repo)
        if r is None or not r.dependency_graph:
            return self._not_found(
                req, "Not Found", "/dependency-graph/sboms#export-a-software-bill-of-materials-sbom-for-a-repository"
            )
        full = f"{self.estate.org}/{r.name}"
        root = f"SPDXRef-github-{self.estate.org}-{r.name}-{r.default_branch}"
        packages: list[dict[str, Any]] = [
            {
                "name": f"com.github.{full}",
                "SPDXID": root,
                "versionInfo": r.default_branch,
                "downloadLocation": "git+https://github.com/" + full,
                "filesAnalyzed": False,
                "licenseConcluded": "NOASSERTION",
                "licenseDeclared": "GPL-3.0-only",  # the repository's own licence: not a dependency
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": f"pkg:github/{full}",
                    }
                ],
            }
        ]
        relationships = [
            {"relationshipType": "DESCRIBES", "spdxElementId": "SPDXRef-DOCUMENT", "relatedSpdxElement": root}
        ]
        for n, dep in enumerate(r.dependencies):
            spdx_id = f"SPDXRef-pip-{dep['name']}-{n}"
            packages.append(
                {
                    "name": f"pip:{dep['name']}",
                    "SPDXID": spdx_id,
                    "versionInfo": dep["version"],
                    "downloadLocation": "NOASSERTION",
                    "filesAnalyzed": False,
                    "licenseConcluded": dep["concluded"],
                    "licenseDeclared": dep["declared"],
                    "supplier": "NOASSERTION",
                    "copyrightText": "NOASSERTION",
                    "externalRefs": [
                        {
                            "referenceCategory": "PACKAGE-MANAGER",
                            "referenceType": "purl",
                            "referenceLocator": f"pkg:pypi/{dep['name']}@{dep['version']}",
                        }
                    ],
                }
            )
            relationships.append(
                {"relationshipType": "DEPENDS_ON", "spdxElementId": root, "relatedSpdxElement": spdx_id}
            )
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + f"#{time.monotonic_ns()}"
        body = {
            "sbom": {
                "SPDXID": "SPDXRef-DOCUMENT",
                "spdxVersion": "SPDX-2.3",
                "creationInfo": {"created": created, "creators": ["Tool: GitHub.com-Dependency-Graph"]},
                "name": f"com.github.{full}",
                "dataLicense": "CC0-1.0",
                "documentNamespace": f"https://spdx.org/spdxdocs/protobom/{hashlib.sha1(created.encode()).hexdigest()}",
                "packages": packages,
                "relationships": relationships,
            }
        }
        return self._ok(req, body)

    def environments(self, req: Request, owner: str, repo: str) -> Response:
        r = self._repo(owner, repo)
        if r is None:
            return self._not_found(req)
        full, base = f"{self.estate.org}/{r.name}", req.base_url
        envs = [
            {
                **env,
                "url": f"{base}/repos/{full}/environments/{env['name']}",
                "html_url": f"https://github.com/{full}/deployments/activity_log?environments_filter={env['name']}",
                "protection_rules": [
                    {
                        **rule,
                        "reviewers": [
                            {**rv, "reviewer": {**rv["reviewer"], "url": f"{base}/users/{rv['reviewer']['login']}"}}
                            for rv in rule["reviewers"]
                        ],
                    }
                    if "reviewers" in rule
                    else rule
                    for rule in env["protection_rules"]
                ],
            }
            for env in r.environments
        ]
        # Wrapped pages, as GitHub sends them: {"total_count": n, "environments": [...]}, Link header as usual.
        status, headers, chunk = link_paginate(req, envs)
        return self._answer(req, status, headers, {"total_count": len(envs), "environments": chunk})

    def installation_token(self, req: Request, iid: str) -> Response:
        assert req.headers.get("authorization", "").startswith("Bearer ")
        return (
            201,
            {},
            {
                "token": "ghs_installationtoken",
                "expires_at": "2099-01-01T00:00:00Z",
                "permissions": {"members": "read"},
                "repository_selection": "all",
            },
        )


def environment(
    name: str,
    reviewers: tuple[str, ...] = (),
    protected_branches: bool | None = None,
    wait_timer: int = 0,
) -> dict[str, Any]:
    """An environment as GET /repos/{o}/{r}/environments lists it (hypermedia added when served)."""
    rules: list[dict[str, Any]] = []
    if reviewers:
        rules.append(
            {
                "id": 3755,
                "node_id": "MDQ6R2F0ZTM3NTU=",
                "prevent_self_review": True,
                "type": "required_reviewers",
                "reviewers": [
                    {"type": "User", "reviewer": {"login": login, "id": 1, "type": "User"}} for login in reviewers
                ],
            }
        )
    if wait_timer:
        rules.append({"id": 3736, "node_id": "MDQ6R2F0ZTM3MzY=", "type": "wait_timer", "wait_timer": wait_timer})
    if protected_branches is not None:
        rules.append({"id": 3756, "node_id": "MDQ6R2F0ZTM3NTY=", "type": "branch_policy"})
    return {
        "id": 161088068,
        "node_id": "MDExOkVudmlyb25tZW50MTYxMDg4MDY4",
        "name": name,
        "created_at": "2025-10-01T09:00:00Z",
        "updated_at": "2025-10-02T09:00:00Z",
        "can_admins_bypass": True,
        "protection_rules": rules,
        "deployment_branch_policy": None
        if protected_branches is None
        else {"protected_branches": protected_branches, "custom_branch_policies": not protected_branches},
    }


def dependency(
    name: str, version: str, concluded: str = "NOASSERTION", declared: str = "NOASSERTION"
) -> dict[str, Any]:
    return {"name": name, "version": version, "concluded": concluded, "declared": declared}


def _rate_headers() -> dict[str, str]:
    return {
        "X-RateLimit-Limit": "5000",
        "X-RateLimit-Remaining": "4999",
        "X-RateLimit-Used": "1",
        "X-RateLimit-Reset": str(int(time.time()) + 3600),
        "X-RateLimit-Resource": "core",
    }
