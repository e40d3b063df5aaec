"""A local imitation of the Google APIs the GCP connector reads, on top of tests/stub.py.

It follows Google's documented JSON: camelCase fields, `pageSize`/`maxResults` + `pageToken` ->
`nextPageToken`, errors as {"error": {code, message, status, details: [ErrorInfo]}}, and an OAuth
token endpoint for a service-account key whose `token_uri` points here. Every API request must
carry either a token this endpoint issued or a self-signed JWT signed by the generated key.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from stub import Request, Response, Stub

READ_ONLY_SCOPE = "https://www.googleapis.com/auth/cloud-platform.read-only"
SA_EMAIL = "annexa-reader@collector-project.iam.gserviceaccount.com"


def google_error(status: int, code_name: str, message: str, reason: str | None = None, service: str = "") -> Response:
    error: dict[str, Any] = {"code": status, "message": message, "status": code_name}
    if reason:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": {"service": service, "consumer": "projects/123"},
            }
        ]
    return status, {}, {"error": error}


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@dataclass
class GcpImitation:
    """State of a small organization; tests mutate it before the connector runs."""

    stub: Stub
    page_size_cap: int = 2  # the server's own maximum page size, small so that lists span pages
    organization: dict[str, Any] = field(default_factory=dict)
    folders: list[dict[str, Any]] = field(default_factory=list)
    projects: list[dict[str, Any]] = field(default_factory=list)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # resource name -> policy
    buckets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # project id -> buckets
    bucket_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    service_accounts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    keys: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # account email -> keys
    firewalls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sql_instances: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    compute_metadata: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # project id -> items
    networks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # project id -> [(scope, proxy)], scope "global" or "regions/<r>"; the same for SSL policies
    https_proxies: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)
    ssl_policies: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)
    granted: dict[str, set[str]] = field(default_factory=dict)  # project id -> permissions the caller holds
    contacts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # resource name -> own contacts
    disabled: set[tuple[str, str]] = field(default_factory=set)  # (api, project id) not enabled
    denied: set[tuple[str, str]] = field(default_factory=set)  # (api, project id or resource) -> 403
    gone_accounts: set[str] = field(default_factory=set)  # listed, but deleted before keys.list
    gone_buckets: set[str] = field(default_factory=set)  # listed, but deleted before getIamPolicy
    broken_later_pages: set[str] = field(default_factory=set)  # project ids whose firewall page 2+ fails
    issued_tokens: dict[str, str] = field(default_factory=dict)  # token -> scope it was granted
    public_key: Any = None

    # -- credentials ---------------------------------------------------------------------------

    def write_key_file(self, directory: Path) -> Path:
        """A real service-account key JSON (fresh RSA key) whose token_uri is this imitation."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = key.public_key()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        info = {
            "type": "service_account",
            "project_id": "collector-project",
            "private_key_id": "0123456789abcdef",
            "private_key": pem,
            "client_email": SA_EMAIL,
            "client_id": "100000000000000000001",
            "token_uri": f"{self.stub.base_url}/token",
        }
        path = directory / "gcp-key.json"
        path.write_text(json.dumps(info))
        return path

    def _verify_jwt(self, token: str) -> dict[str, Any] | None:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        parts = token.split(".")
        if len(parts) != 3 or self.public_key is None:
            return None
        try:
            self.public_key.verify(
                _b64decode(parts[2]), f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except (InvalidSignature, ValueError):
            return None
        claims: dict[str, Any] = json.loads(_b64decode(parts[1]))
        return claims if claims.get("iss") == SA_EMAIL else None

    def _token(self, req: Request) -> Response:
        form = dict(pair.split("=", 1) for pair in req.body.decode().split("&"))
        claims = self._verify_jwt(unquote(form.get("assertion", "")))
        if form.get("grant_type") != "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" or not claims:
            return 400, {}, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        token = f"ya29.imitation-{len(self.issued_tokens) + 1}"
        self.issued_tokens[token] = str(claims.get("scope", ""))
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def _authorized(self, req: Request) -> bool:
        bearer = req.headers.get("authorization", "").removeprefix("Bearer ")
        return bearer in self.issued_tokens or self._verify_jwt(bearer) is not None

    # -- helpers -------------------------------------------------------------------------------

    def _page(self, req: Request, items: list[Any], key: str, size_param: str) -> dict[str, Any]:
        size = min(int(req.query.get(size_param) or self.page_size_cap), self.page_size_cap)
        start = int(req.query.get("pageToken") or 0)
        body: dict[str, Any] = {key: items[start : start + size]} if items[start : start + size] else {}
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        return body

    def _guard(self, api: str, project: str, service: str) -> Response | None:
        if (api, project) in self.disabled:
            return google_error(
                403,
                "PERMISSION_DENIED",
                f"{api} API has not been used in project {project} before or it is disabled.",
                "SERVICE_DISABLED",
                service,
            )
        if (api, project) in self.denied:
            return google_error(
                403,
                "PERMISSION_DENIED",
                f"The caller does not have permission on {project}",
                "IAM_PERMISSION_DENIED",
                service,
            )
        return None

    def _children(self, items: list[dict[str, Any]], parent: str) -> list[dict[str, Any]]:
        return [i for i in items if i.get("parent") == parent and i.get("state") != "DELETE_REQUESTED"]

    def _project(self, ident: str) -> dict[str, Any] | None:
        return next((p for p in self.projects if ident in (p["projectId"], p["name"].split("/")[1])), None)

    def _policy(self, resource: str) -> Response:
        if ("resourcemanager", resource) in self.denied:
            return google_error(
                403,
                "PERMISSION_DENIED",
                f"Permission 'getIamPolicy' denied on '{resource}'",
                "IAM_PERMISSION_DENIED",
                "cloudresourcemanager.googleapis.com",
            )
        if resource.startswith("projects/"):
            project = self._project(resource.split("/")[1])
            resource = project["name"] if project else resource
        return {"version": 1, "etag": "BwXhqDmhbNc=", **self.policies.get(resource, {"bindings": []})}

    # -- routes --------------------------------------------------------------------------------

    def install(self) -> GcpImitation:
        s = self.stub
        s.route("POST", r"/token", self._token)
        routes: list[tuple[str, str, Any]] = [
            ("GET", r"/v3/organizations/(?P<org>\d+)", self._get_org),
            ("POST", r"/v3/(?P<res>(organizations|folders|projects)/[^/:]+):getIamPolicy", self._get_policy),
            ("GET", r"/v3/folders", self._list_folders),
            ("GET", r"/v3/folders/(?P<folder>\d+)", self._get_folder),
            ("GET", r"/v3/projects", self._list_projects),
            ("GET", r"/v3/projects/(?P<project>[^/:]+)", self._get_project),
            ("GET", r"/storage/v1/b", self._list_buckets),
            ("GET", r"/storage/v1/b/(?P<bucket>[^/]+)/iam", self._bucket_policy),
            ("GET", r"/v1/projects/(?P<project>[^/]+)/serviceAccounts", self._list_accounts),
            ("GET", r"/v1/projects/(?P<project>[^/]+)/serviceAccounts/(?P<email>[^/]+)/keys", self._list_keys),
            ("GET", r"/compute/v1/projects/(?P<project>[^/]+)/global/firewalls", self._list_firewalls),
            ("GET", r"/v1/projects/(?P<project>[^/]+)/instances", self._list_sql),
            ("GET", r"/compute/v1/projects/(?P<project>[^/]+)", self._compute_project),
            ("GET", r"/compute/v1/projects/(?P<project>[^/]+)/global/networks", self._list_networks),
            ("GET", r"/compute/v1/projects/(?P<project>[^/]+)/aggregated/targetHttpsProxies", self._proxies),
            ("GET", r"/compute/v1/projects/(?P<project>[^/]+)/aggregated/sslPolicies", self._ssl_policies),
            ("POST", r"/v3/projects/(?P<project>[^/:]+):testIamPermissions", self._test_permissions),
            ("GET", r"/v1/projects/(?P<project>[^/]+)/contacts:compute", self._compute_contacts),
        ]
        for method, pattern, handler in routes:
            s.route(method, pattern, self._authenticated(handler))
        return self

    def _authenticated(self, handler: Any) -> Any:
        def wrapped(req: Request, **groups: str) -> Any:
            if not self._authorized(req):
                return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
            return handler(req, **groups)

        return wrapped

    def _get_org(self, req: Request, org: str) -> Any:
        if self.organization.get("name") != f"organizations/{org}":
            return google_error(403, "PERMISSION_DENIED", "The caller does not have permission")
        return self.organization

    def _get_policy(self, req: Request, res: str) -> Any:
        return self._policy(unquote(res))

    def _list_folders(self, req: Request) -> Any:
        return self._page(req, self._children(self.folders, req.query["parent"]), "folders", "pageSize")

    def _get_folder(self, req: Request, folder: str) -> Any:
        found = next((f for f in self.folders if f["name"] == f"folders/{folder}"), None)
        return found or google_error(403, "PERMISSION_DENIED", "The caller does not have permission")

    def _list_projects(self, req: Request) -> Any:
        return self._page(req, self._children(self.projects, req.query["parent"]), "projects", "pageSize")

    def _get_project(self, req: Request, project: str) -> Any:
        found = self._project(project)
        return found or google_error(403, "PERMISSION_DENIED", "The caller does not have permission")

    def _list_buckets(self, req: Request) -> Any:
        project = req.query["project"]
        return self._guard("storage", project, "storage.googleapis.com") or self._page(
            req, self.buckets.get(project, []), "items", "maxResults"
        )

    def _bucket_policy(self, req: Request, bucket: str) -> Any:
        name = unquote(bucket)
        if name in self.gone_buckets:  # deleted now: later lists no longer return it
            for buckets in self.buckets.values():
                buckets[:] = [b for b in buckets if b["name"] != name]
            return google_error(404, "NOT_FOUND", "The specified bucket does not exist.", "notFound")
        if ("storage", name) in self.denied:
            return google_error(
                403, "PERMISSION_DENIED", f"caller does not have storage.buckets.getIamPolicy on {name}"
            )
        return {
            "kind": "storage#policy",
            "resourceId": f"projects/_/buckets/{name}",
            "version": 1,
            "etag": "CAE=",
            **self.bucket_policies.get(name, {"bindings": []}),
        }

    def _list_accounts(self, req: Request, project: str) -> Any:
        return self._guard("iam", project, "iam.googleapis.com") or self._page(
            req, self.service_accounts.get(project, []), "accounts", "pageSize"
        )

    def _list_keys(self, req: Request, project: str, email: str) -> Any:
        email = unquote(email)
        if email in self.gone_accounts:  # deleted now: later lists no longer return it
            accounts = self.service_accounts.get(project, [])
            accounts[:] = [a for a in accounts if a["email"] != email]
            return google_error(
                404, "NOT_FOUND", f"Service account projects/{project}/serviceAccounts/{email} does not exist."
            )
        keys = self.keys.get(email, [])
        if req.query.get("keyTypes") == "USER_MANAGED":
            keys = [k for k in keys if k.get("keyType") == "USER_MANAGED"]
        return {"keys": keys} if keys else {}

    def _list_firewalls(self, req: Request, project: str) -> Any:
        if project in self.broken_later_pages and req.query.get("pageToken"):
            return google_error(403, "PERMISSION_DENIED", "Required 'compute.firewalls.list' permission")
        return self._guard("compute", project, "compute.googleapis.com") or {
            "kind": "compute#firewallList",
            **self._page(req, self.firewalls.get(project, []), "items", "maxResults"),
        }

    def _list_sql(self, req: Request, project: str) -> Any:
        return self._guard("sqladmin", project, "sqladmin.googleapis.com") or {
            "kind": "sql#instancesList",
            **self._page(req, self.sql_instances.get(project, []), "items", "maxResults"),
        }

    def _compute_denied(self, permission: str, project: str) -> Response | None:
        """A denial of one Compute permission (``denied`` holds (permission, project)), worded as Google does."""
        if (permission, project) not in self.denied:
            return None
        return google_error(
            403, "PERMISSION_DENIED", f"Required '{permission}' permission for 'projects/{project}'", "forbidden"
        )

    def _compute_project(self, req: Request, project: str) -> Any:
        found = self._project(project)
        if found is None:
            return google_error(404, "NOT_FOUND", f"The resource 'projects/{project}' was not found", "notFound")
        metadata: dict[str, Any] = {"kind": "compute#metadata", "fingerprint": "x4pU5nWKXmA="}
        if self.compute_metadata.get(project):
            metadata["items"] = self.compute_metadata[project]
        return (
            self._guard("compute", project, "compute.googleapis.com")
            or self._compute_denied("compute.projects.get", project)
            or {
                "kind": "compute#project",
                "id": found["name"].split("/")[1],
                "name": project,
                "commonInstanceMetadata": metadata,
                "defaultNetworkTier": "PREMIUM",
                "xpnProjectStatus": "UNSPECIFIED_XPN_PROJECT_STATUS",
                "selfLink": f"https://www.googleapis.com/compute/v1/projects/{project}",
            }
        )

    def _list_networks(self, req: Request, project: str) -> Any:
        return (
            self._guard("compute", project, "compute.googleapis.com")
            or self._compute_denied("compute.networks.list", project)
            or {
                "kind": "compute#networkList",
                **self._page(req, self.networks.get(project, []), "items", "maxResults"),
            }
        )

    def _proxies(self, req: Request, project: str) -> Any:
        return self._aggregated(req, project, "targetHttpsProxies")

    def _ssl_policies(self, req: Request, project: str) -> Any:
        return self._aggregated(req, project, "sslPolicies")

    def _aggregated(self, req: Request, project: str, collection: str) -> Any:
        """An aggregatedList: one page of (scope, resource) pairs, grouped by scope; a scope with
        nothing on the page answers a NO_RESULTS_ON_PAGE warning, as Compute Engine does."""
        denied = self._guard("compute", project, "compute.googleapis.com") or self._compute_denied(
            f"compute.{collection}.list", project
        )
        if denied:
            return denied
        pairs = (self.https_proxies if collection == "targetHttpsProxies" else self.ssl_policies).get(project, [])
        page = self._page(req, pairs, "pairs", "maxResults")
        items: dict[str, Any] = {}
        for where in ("global", "regions/europe-west3"):
            found = [resource for scope, resource in page.get("pairs", []) if scope == where]
            items[where] = (
                {collection: found}
                if found
                else {
                    "warning": {
                        "code": "NO_RESULTS_ON_PAGE",
                        "message": "There are no results for scope '" + where + "' on this page.",
                        "data": [{"key": "scope", "value": where}],
                    }
                }
            )
        body: dict[str, Any] = {"kind": f"compute#{collection[:-1]}AggregatedList", "items": items}
        if "nextPageToken" in page:
            body["nextPageToken"] = page["nextPageToken"]
        return body

    def _test_permissions(self, req: Request, project: str) -> Any:
        found = self._project(project)
        if ("testIamPermissions", project) in self.denied or found is None:
            return google_error(
                403,
                "PERMISSION_DENIED",
                f"Permission 'resourcemanager.projects.testIamPermissions' denied on resource 'projects/{project}'",
                "IAM_PERMISSION_DENIED",
                "cloudresourcemanager.googleapis.com",
            )
        held = self.granted.get(found["projectId"], set())
        asked = req.json().get("permissions") or []
        granted = [p for p in asked if p in held]
        return {"permissions": granted} if granted else {}

    def _compute_contacts(self, req: Request, project: str) -> Any:
        bearer = req.headers.get("authorization", "").removeprefix("Bearer ")
        if self.issued_tokens.get(bearer) == READ_ONLY_SCOPE:  # the method lists cloud-platform only
            return google_error(
                403,
                "PERMISSION_DENIED",
                "Request had insufficient authentication scopes.",
                "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                "essentialcontacts.googleapis.com",
            )
        if ("essentialcontacts", project) in self.denied:
            return google_error(
                403,
                "PERMISSION_DENIED",
                f"Permission 'essentialcontacts.contacts.list' denied on resource 'projects/{project}'",
                "IAM_PERMISSION_DENIED",
                "essentialcontacts.googleapis.com",
            )
        found = self._project(project)
        if found is None:
            return google_error(403, "PERMISSION_DENIED", f"Permission denied on resource 'projects/{project}'")
        chain, parent = [found["name"]], found.get("parent")
        while parent:  # the project, then its folders and organization: what contacts:compute inherits
            chain.append(parent)
            parent = next((f.get("parent") for f in self.folders if f["name"] == parent), None)
        asked = req.query.get("notificationCategories") or []
        wanted = set(asked if isinstance(asked, list) else [asked])

        def subscribed(contact: dict[str, Any]) -> bool:
            categories = set(contact.get("notificationCategorySubscriptions") or [])
            return "ALL" in wanted or "ALL" in categories or bool(wanted & categories)

        contacts = [c for name in chain for c in self.contacts.get(name, []) if subscribed(c)]
        return self._page(req, contacts, "contacts", "pageSize")
