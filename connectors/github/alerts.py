"""Open Dependabot alerts: one organization-level sweep where the server offers it, else per repository."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .client import Api
from .facts import message_of, status_of


class AlertsUnavailable(Exception):
    """The organization-level endpoint does not exist here (older GitHub Enterprise Server)."""


def compact_alert(alert: dict[str, Any]) -> dict[str, Any]:
    """The facts of one alert that checks and auditors use; the full advisory text stays on GitHub."""
    advisory = alert.get("security_advisory") or {}
    vulnerability = alert.get("security_vulnerability") or {}
    dependency = alert.get("dependency") or {}
    package = dependency.get("package") or vulnerability.get("package") or {}
    return {
        "number": alert.get("number"),
        "severity": vulnerability.get("severity") or advisory.get("severity"),
        "ghsa_id": advisory.get("ghsa_id"),
        "cve_id": advisory.get("cve_id"),
        "package": package.get("name"),
        "ecosystem": package.get("ecosystem"),
        "manifest_path": dependency.get("manifest_path"),
        "created_at": alert.get("created_at"),
        "html_url": alert.get("html_url"),
    }


def org_open_alerts(api: Api, org: str) -> dict[str, list[dict[str, Any]]]:
    """Open alerts grouped by repository full name; raises AlertsUnavailable on a 404 endpoint."""
    from github import GithubException

    by_repo: dict[str, list[dict[str, Any]]] = defaultdict(list)
    try:
        for page in api.pages(f"/orgs/{org}/dependabot/alerts", {"state": "open"}):
            for alert in page:
                by_repo[alert["repository"]["full_name"]].append(compact_alert(alert))
    except GithubException as exc:
        if status_of(exc) == 404:
            raise AlertsUnavailable(message_of(exc)) from exc
        raise
    return by_repo


def repo_open_alerts(api: Api, full_name: str) -> list[dict[str, Any]] | None:
    """Open alerts of one repository; None when Dependabot alerts are disabled there (a fact, not an error)."""
    from github import GithubException

    try:
        return [
            compact_alert(alert) for alert in api.get_all(f"/repos/{full_name}/dependabot/alerts", {"state": "open"})
        ]
    except GithubException as exc:
        if status_of(exc) == 403 and "disabled" in message_of(exc).lower():
            return None
        raise
