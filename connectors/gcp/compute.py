"""Compute Engine v1 evidence beyond firewalls: project metadata, VPC networks, HTTPS proxies with their
SSL policies. Same contract as services.py: a reader returns the project's complete list or raises
:class:`ApiError`; a failed join leaves a field unknown with a field-scoped error (gaps.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.base import EvidenceItem

from .services import Env, Records, scope
from .transport import ApiError

COMPUTE_PROJECT = "gcp.compute.project"
NETWORK = "gcp.compute.network"
HTTPS_PROXY = "gcp.compute.target_https_proxy"
_PAGE = {"maxResults": 500}


def resource_path(url: str) -> str:
    """``projects/…`` of a Compute selfLink or reference URL, whatever host and version it names."""
    _, found, rest = url.partition("/projects/")
    return f"projects/{rest}" if found else url


def project_metadata(env: Env, project: dict[str, Any]) -> Records:
    # Project-wide metadata (OS Login, serial port) exists only on the project resource: projects.get
    # is its one read, there is no list or aggregate form.
    answer = env.session.get("compute", f"/compute/v1/projects/{project['projectId']}")
    data = {**answer, **scope(project)}
    metadata = data.get("commonInstanceMetadata") or {}
    data["commonInstanceMetadata"] = {**metadata, "items": metadata.get("items") or []}
    data["resource_name"] = f"projects/{project['projectId']}"
    return [EvidenceItem(COMPUTE_PROJECT, data["resource_name"], data)]


def networks(env: Env, project: dict[str, Any]) -> Records:
    path = f"/compute/v1/projects/{project['projectId']}/global/networks"
    records: Records = []
    for network in list(env.session.pages("compute", path, "items", _PAGE)):
        data = {**network, **scope(project)}
        data["resource_name"] = f"projects/{project['projectId']}/global/networks/{network['name']}"
        records.append(EvidenceItem(NETWORK, data["resource_name"], data))
    return records


def aggregated(env: Env, project: dict[str, Any], collection: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(scope, resource) over every page of an aggregatedList: ``items`` maps "global" and
    "regions/<r>" to ``{<collection>: [...]}``, or to a ``warning`` when that scope has none.
    Without returnPartialSuccess an unreachable scope fails the call: never a silently shorter list."""
    path = f"/compute/v1/projects/{project['projectId']}/aggregated/{collection}"
    query: dict[str, Any] = dict(_PAGE)
    while True:
        body = env.session.get("compute", path, query)
        for where, scoped in (body.get("items") or {}).items():
            for resource in (scoped or {}).get(collection) or []:
                yield where, resource
        token = body.get("nextPageToken")
        if not token:
            return
        query["pageToken"] = token


def https_proxies(env: Env, project: dict[str, Any]) -> Records:
    """Global and regional target HTTPS proxies, each with the SSL policy it names joined as
    ``ssl_policy`` (null: none attached, so Google's default COMPATIBLE / TLS 1.0 policy applies)."""
    project_id = project["projectId"]
    listed = list(aggregated(env, project, "targetHttpsProxies"))
    if not listed:
        return []
    policies: dict[str, dict[str, Any]] | None = None
    reason = ""
    if any(proxy.get("sslPolicy") for _, proxy in listed):
        try:
            found = aggregated(env, project, "sslPolicies")
            policies = {resource_path(p.get("selfLink") or ""): p for _, p in found}
        except ApiError as exc:  # the proxies are known; only their policies' settings are not
            reason = f"sslPolicies.aggregatedList: {exc}"
    records: Records = []
    for where, proxy in listed:
        data = {**proxy, **scope(project)}
        data["resource_name"] = f"projects/{project_id}/{where}/targetHttpsProxies/{proxy['name']}"
        item = EvidenceItem(HTTPS_PROXY, data["resource_name"], data)
        attached = proxy.get("sslPolicy")
        if not attached:
            data["ssl_policy"] = None
        elif policies is None:
            env.gaps.unknown(item, ("ssl_policy",), reason)
        elif resource_path(attached) in policies:
            data["ssl_policy"] = policies[resource_path(attached)]
        else:
            env.gaps.unknown(item, ("ssl_policy",), f"{resource_path(attached)} is not in sslPolicies.aggregatedList")
        records.append(item)
    return records
