"""The GitHub connector: one organization's settings, people and repositories through PyGithub."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

from connectors.base import (
    CollectionError,
    Connector,
    ConnectorError,
    EvidenceItem,
    EvidenceKind,
    require,
)

from .alerts import AlertsUnavailable, org_open_alerts
from .client import Api, build_github
from .errors import api_errors
from .facts import error_reason, status_of
from .kinds import EVIDENCE_KINDS, PERMISSIONS, REPO
from .org import member_items, org_item, outside_collaborator_items, read_outside_collaborators, read_owners
from .policies import deploy_keys_allowed, read_actions_policy
from .recall import Recall
from .repos import RepoCollector
from .settings import GitHubSettings


class GitHubConnector(Connector[GitHubSettings]):
    name = "github"
    extra = "github"
    settings_model = GitHubSettings
    evidence_kinds: ClassVar[tuple[EvidenceKind, ...]] = EVIDENCE_KINDS
    permissions: ClassVar[tuple[str, ...]] = PERMISSIONS

    def collect(self) -> Iterator[EvidenceItem | CollectionError]:
        settings = self.settings
        require("github", "github")
        api = Api(
            build_github(settings),
            self.context,
            max_retries=settings.max_retries,
            max_rate_limit_wait=settings.max_rate_limit_wait,
        )
        org = settings.organization
        self.context.progress(f"github: reading organization {org}")
        organization = self._organization(api, org)
        owners, owners_error = read_owners(api, org)
        yield from org_item(org, organization, owners, owners_error)
        self.context.progress(f"github: reading members of {org}")
        yield from member_items(api, org, owners)
        try:
            repos = api.get_all(f"/orgs/{org}/repos", {"type": "all"})
        except api_errors() as exc:
            yield CollectionError(REPO, f"{org}: repositories: {error_reason(exc)}")
            repos = None
        # Read first: with no outside collaborators there is no per-repository access to collect.
        collaborators, collaborators_error = read_outside_collaborators(api, org)
        access = None
        access_errors: list[str] = []
        recall = Recall(self.context.state, settings.recheck_hours * 3600)
        if repos is not None:
            self.context.progress(f"github: reading {len(repos)} repositories of {org}")
            collector = self._repo_collector(api, org, recall)
            collector.track_access = collaborators is None or bool(collaborators)
            collector.actions_policy = read_actions_policy(api, org, recall)
            collector.deploy_keys_allowed = deploy_keys_allowed(organization)
            yield from collector.items(repos)
            access, access_errors = collector.access, collector.access_errors
        else:
            access_errors = [f"{org}: repository access unknown: the repositories could not be listed"]
        yield from outside_collaborator_items(org, collaborators, collaborators_error, access, access_errors)
        self.context.log.info(
            "github %s: %d requests, %d answered 304 Not Modified, %d answers without ETag reused (re-asked after "
            "a push or %g h)",
            org,
            api.requests_sent,
            api.not_modified,
            recall.reused,
            settings.recheck_hours,
        )

    @staticmethod
    def _organization(api: Api, org: str) -> dict[str, Any]:
        """The organization itself; failing to read it stops the connector (wrong name, bad credentials)."""
        try:
            organization = api.get(f"/orgs/{org}")
        except api_errors() as exc:
            status = status_of(exc)
            if status == 401:
                raise ConnectorError(f"github {org}: bad credentials (HTTP 401)") from None
            if status == 404:
                raise ConnectorError(f"github: organization {org!r} not found or not visible to the token") from None
            raise ConnectorError(f"github {org}: organization: {error_reason(exc)}") from None
        return dict(organization)

    @staticmethod
    def _repo_collector(api: Api, org: str, recall: Recall) -> RepoCollector:
        try:
            return RepoCollector(api, org, recall, org_open_alerts(api, org))
        except AlertsUnavailable:
            return RepoCollector(api, org, recall, None)  # older GitHub Enterprise Server: ask each repository
        except api_errors() as exc:
            # Unreadable alerts must not look like "no alerts": they are unknown (null) on every repository.
            reason = f"{org}: Dependabot alerts: {error_reason(exc)}"
            return RepoCollector(api, org, recall, None, alerts_error=reason, alerts_unreadable=True)

    @classmethod
    def simulated_estate(cls, now: datetime) -> Iterator[EvidenceItem | CollectionError]:
        from .demo import simulated_estate

        return simulated_estate(now)
