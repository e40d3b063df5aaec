"""Organization, folders and projects through Resource Manager v3 (REST transport), with IAM policies.

Only read calls: get, list, getIamPolicy. Every list is read page by page through the pager, and
each page fetch is counted. Errors surface as :class:`transport.ApiError` so callers handle one
exception type for both the client library and the plain REST services.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from connectors.base import require

from .transport import ApiError, RestSession, RetryPolicy, gapic_retry

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


class ResourceManager:
    """Thin, counted, retried access to the three Resource Manager v3 clients."""

    def __init__(self, credentials: Any, session: RestSession, policy: RetryPolicy, endpoint: str | None) -> None:
        resourcemanager = require("google.cloud.resourcemanager_v3", "gcp")
        self._exceptions = require("google.api_core.exceptions", "gcp")
        options = {"api_endpoint": endpoint} if endpoint else None
        kwargs = {"credentials": credentials, "transport": "rest", "client_options": options}
        self.organizations = resourcemanager.OrganizationsClient(**kwargs)
        self.folders = resourcemanager.FoldersClient(**kwargs)
        self.projects = resourcemanager.ProjectsClient(**kwargs)
        self._session = session
        self._retry = gapic_retry(policy, session)

    def _call(self, fn: Callable[..., T], request: dict[str, Any]) -> T:
        self._session.count()
        try:
            return fn(request=request, retry=self._retry)
        except self._exceptions.RetryError as exc:
            cause = exc.cause if isinstance(exc.cause, self._exceptions.GoogleAPICallError) else None
            raise self._api_error(cause) if cause else ApiError(0, "RETRY_EXHAUSTED", str(exc)) from None
        except self._exceptions.GoogleAPICallError as exc:
            raise self._api_error(exc) from None

    def _api_error(self, exc: Any) -> ApiError:
        status = int(exc.code or 0)
        # api_core prefixes REST errors with "METHOD URL: "; the URL adds nothing to the evidence.
        message = _REQUEST_PREFIX.sub("", str(exc.message or "").split("\n", 1)[0])[:300]
        return ApiError(status, exc.reason or type(exc).__name__, message)

    def _pages(self, fn: Callable[..., Any], request: dict[str, Any], attribute: str) -> Iterator[Any]:
        pager = self._call(fn, request)
        pages = iter(pager.pages)
        first = True
        while True:
            if not first:
                self._session.count()
            first = False
            try:
                page = next(pages)
            except StopIteration:
                return
            except self._exceptions.RetryError as exc:
                raise ApiError(0, "RETRY_EXHAUSTED", str(exc)) from None
            except self._exceptions.GoogleAPICallError as exc:
                raise self._api_error(exc) from None
            yield from getattr(page, attribute)

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

    def child_folders(self, parent: str) -> Iterator[Node]:
        request = {"parent": parent, "page_size": PAGE_SIZE}
        for folder in self._pages(self.folders.list_folders, request, "folders"):
            yield Node(name=folder.name, data=message_dict(folder), parent=folder.parent)

    def child_projects(self, parent: str) -> Iterator[Node]:
        request = {"parent": parent, "page_size": PAGE_SIZE}
        for project in self._pages(self.projects.list_projects, request, "projects"):
            yield Node(name=project.name, data=message_dict(project), parent=project.parent)

    def iam_policy(self, resource: str) -> dict[str, Any]:
        client = {
            "organizations": self.organizations,
            "folders": self.folders,
            "projects": self.projects,
        }[resource.split("/", 1)[0]]
        request = {"resource": resource, "options": {"requested_policy_version": POLICY_VERSION}}
        return policy_dict(self._call(client.get_iam_policy, request))

    def attach_policy(self, node: Node) -> None:
        """Read the node's IAM policy; a failure is remembered on the node (reported by the caller)."""
        try:
            node.policy = self.iam_policy(node.name)
        except ApiError as exc:
            node.policy_error = str(exc)
