"""Organization, folders and projects through Resource Manager v3 (REST transport), with IAM policies.

Only read calls: get, list, getIamPolicy and testIamPermissions (a POST that changes nothing). The
client library's own retry is switched off (``retry=None``: its default retries 503 for up to 60 s
and never a REST 429) and its default 60 s timeout replaced by the configured (connect, read) pair;
each call, and each page of a list, is one attempt under :class:`transport.Calls` instead, so the
shared policy bounds it like every other call.
Errors surface as :class:`transport.ApiError` so callers handle one exception type for both the
client library and the plain REST services.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from connectors.base import require
from connectors.http import retry_after_header

from .transport import ApiError, Calls, Timeout, first_line, mount_pool, transport_error

T = TypeVar("T")
_REQUEST_PREFIX = re.compile(r"^(GET|POST) \S+: ")
PAGE_SIZE = 1000
POLICY_VERSION = 3  # conditional bindings are only returned when version 3 is requested


@dataclass
class Node:
    """One organization, folder or project with its raw fields and its IAM policy (None if unread)."""

    name: str  # organizations/1, folders/2, projects/3 (numbers)
    data: dict[str, Any]
    policy: dict[str, Any] | None = None
    policy_error: str | None = None
    parent: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def message_dict(message: Any) -> dict[str, Any]:
    """A proto-plus or protobuf message as the API's JSON: camelCase keys, enum names, RFC 3339 times."""
    json_format = require("google.protobuf.json_format", "gcp")
    raw = message._pb if hasattr(message, "_pb") else message
    result: dict[str, Any] = json_format.MessageToDict(raw)
    return result


def policy_dict(policy: Any) -> dict[str, Any]:
    data = message_dict(policy)
    data.setdefault("bindings", [])
    data.setdefault("auditConfigs", [])
    for config in data["auditConfigs"]:
        config.setdefault("auditLogConfigs", [])
    for binding in data["bindings"]:
        binding.setdefault("members", [])
    return data


def fixed_timeout(timeout: Timeout) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """An api_core timeout decorator passing the (connect, read) pair to requests on every attempt
    (api_core's own timeouts pass one number, which requests would use for both)."""

    def decorate(func: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> T:
            kwargs["timeout"] = timeout
            return func(*args, **kwargs)

        return call

    return decorate


class ResourceManager:
    """Thin, counted, retried access to the three Resource Manager v3 clients."""

    def __init__(self, credentials: Any, calls: Calls, endpoint: str | None, pool: int) -> None:
        resourcemanager = require("google.cloud.resourcemanager_v3", "gcp")
        self._exceptions = require("google.api_core.exceptions", "gcp")
        options = {"api_endpoint": endpoint} if endpoint else None
        kwargs = {"credentials": credentials, "transport": "rest", "client_options": options}
        self.organizations = resourcemanager.OrganizationsClient(**kwargs)
        self.folders = resourcemanager.FoldersClient(**kwargs)
        self.projects = resourcemanager.ProjectsClient(**kwargs)
        adapters = require("requests.adapters", "gcp")
        for client in (self.organizations, self.folders, self.projects):
            # The REST transport keeps its AuthorizedSession private; size its pool for the workers.
            session = getattr(client.transport, "_session", None)
            if session is not None:
                mount_pool(session, pool, adapters)
        self._calls = calls
        self._timeout = fixed_timeout(calls.timeout)

    def _call(self, fn: Callable[..., T], request: dict[str, Any]) -> T:
        return self._calls.run(lambda: self._attempt(fn, request))

    def _attempt(self, fn: Callable[..., T], request: dict[str, Any]) -> T:
        try:
            return fn(request=request, retry=None, timeout=self._timeout)
        except self._exceptions.GoogleAPICallError as exc:
            raise self._api_error(exc) from None
        except self._calls.failures as exc:
            raise transport_error(exc, self._calls.timeout) from None

    def _api_error(self, exc: Any) -> ApiError:
        status = int(exc.code or 0)
        # api_core prefixes REST errors with "METHOD URL: "; the URL adds nothing to the evidence.
        message = first_line(_REQUEST_PREFIX.sub("", str(exc.message or "")))
        response = getattr(exc, "response", None)
        retry_after = retry_after_header(getattr(response, "headers", None))
        return ApiError(status, exc.reason or type(exc).__name__, message, retry_after=retry_after)

    def _pages(self, fn: Callable[..., Any], request: dict[str, Any], attribute: str) -> Iterator[Any]:
        """Page by page, each page its own retried call (a pager's generator dies with its first error,
        so it cannot be retried; the pager object itself answers like the page it holds)."""
        query = dict(request)
        while True:
            page = self._call(fn, query)
            yield from getattr(page, attribute)
            token = page.next_page_token
            if not token:
                return
            query["page_token"] = token

    def organization(self, org_id: str) -> Node:
        org = self._call(self.organizations.get_organization, {"name": f"organizations/{org_id}"})
        return Node(name=org.name, data=message_dict(org))

    def folder(self, name: str) -> Node:
        folder = self._call(self.folders.get_folder, {"name": name})
        data = message_dict(folder)
        return Node(name=folder.name, data=data, parent=folder.parent)

    def project(self, project_id: str) -> Node:
        project = self._call(self.projects.get_project, {"name": f"projects/{project_id}"})
        return Node(name=project.name, data=message_dict(project), parent=project.parent)

    def ancestor(self, name: str) -> Node:
        """A folder or the organization above an explicitly listed project."""
        return self.folder(name) if name.startswith("folders/") else self.organization(name.split("/", 1)[1])

    def child_folders(self, parent: str) -> list[Node]:
        request = {"parent": parent, "page_size": PAGE_SIZE}
        folders = self._pages(self.folders.list_folders, request, "folders")
        return [Node(name=f.name, data=message_dict(f), parent=f.parent) for f in folders]

    def child_projects(self, parent: str) -> list[Node]:
        request = {"parent": parent, "page_size": PAGE_SIZE}
        projects = self._pages(self.projects.list_projects, request, "projects")
        return [Node(name=p.name, data=message_dict(p), parent=p.parent) for p in projects]

    def iam_policy(self, resource: str) -> dict[str, Any]:
        client = {
            "organizations": self.organizations,
            "folders": self.folders,
            "projects": self.projects,
        }[resource.split("/", 1)[0]]
        request = {"resource": resource, "options": {"requested_policy_version": POLICY_VERSION}}
        return policy_dict(self._call(client.get_iam_policy, request))

    def granted_permissions(self, resource: str, permissions: list[str]) -> list[str]:
        """The subset of ``permissions`` the caller holds on ``resource`` (testIamPermissions: read-only,
        needs no permission of its own, and includes what is inherited from folders and organization)."""
        request = {"resource": resource, "permissions": permissions}
        return list(self._call(self.projects.test_iam_permissions, request).permissions)

    def attach_policy(self, node: Node) -> None:
        """Read the node's IAM policy; a failure is remembered on the node (reported by the caller)."""
        try:
            node.policy = self.iam_policy(node.name)
        except ApiError as exc:
            node.policy_error = f"getIamPolicy: {exc}"
