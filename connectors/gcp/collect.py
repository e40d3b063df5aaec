"""One collection run: the hierarchy first (level by level), then projects concurrently.

Two bounded pools: ``projects`` runs one task per project; ``details`` runs the independent calls
(one level's folder and project lists, every IAM policy of the hierarchy, a project's bucket policies
and key lists). Project tasks wait on detail tasks, never the other way round, so the pools cannot
deadlock; with every call bounded by the retry policy, one failing endpoint costs about one call's
deadline per pool round, not one per item in sequence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from connectors.base import CollectContext, CollectionError, EvidenceItem

from .compute import COMPUTE_PROJECT, HTTPS_PROXY, NETWORK, https_proxies, networks, project_metadata
from .gaps import Gaps
from .hierarchy import Node, ResourceManager
from .kinds import COLLECTOR_WRITE_PERMISSIONS, EVIDENCE_KINDS
from .services import SERVICE_READERS, Env, Records, scope
from .settings import GcpSettings
from .transport import ApiError, Calls, RestSession, load_credentials

ORGANIZATION, FOLDER, PROJECT = "gcp.organization", "gcp.folder", "gcp.project"
COLLECTOR = "gcp.collector"
READERS = (
    *SERVICE_READERS,
    ((COMPUTE_PROJECT,), "compute.googleapis.com", project_metadata),
    ((NETWORK,), "compute.googleapis.com", networks),
    ((HTTPS_PROXY,), "compute.googleapis.com", https_proxies),
)
# An unread getIamPolicy leaves only this field unknown: checks that do not read it keep their status.
POLICY_FIELDS = ("iam_policy",)
# Known only while every folder up the chain could be read.
CHAIN_FIELDS = ("ancestors", "ancestor_folders")
PROJECT_KINDS = tuple(k.name for k in EVIDENCE_KINDS if k.name not in (ORGANIZATION, FOLDER))


class Collection:
    def __init__(self, settings: GcpSettings, context: CollectContext, sleep: Callable[[float], None]) -> None:
        self.settings = settings
        self.context = context
        self.workers = settings.max_workers
        timeout = (settings.connect_timeout_seconds, settings.read_timeout_seconds)
        self.calls = Calls(settings.retry.policy(), timeout, context, sleep)
        credentials, broad = load_credentials(self.calls)
        # Whom gcp.collector describes; user credentials (gcloud ADC login) carry no e-mail here.
        self.identity: str | None = getattr(credentials, "service_account_email", None)
        pool = 2 * self.workers  # project threads and detail threads share the REST session
        self.session = RestSession(credentials, broad, self.calls, settings.api_endpoint, pool)
        self.rm = ResourceManager(credentials, self.calls, settings.api_endpoint, pool)
        self.gaps = Gaps()
        self.ancestors: dict[str, Node] = {}  # organizations/… and folders/… by name
        self._details: ThreadPoolExecutor | None = None

    def each(self, fn: Callable[[Any], Any], values: list[Any]) -> list[Any]:
        """``fn`` over ``values`` on the detail pool, results in order."""
        if self._details is None or len(values) < 2:
            return [fn(v) for v in values]
        return list(self._details.map(fn, values))

    def run(self) -> Iterator[EvidenceItem | CollectionError]:
        with (
            ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="gcp-detail") as details,
            ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="gcp-project") as pool,
        ):
            self._details = details
            records: Records = []
            if self.settings.organization_id:
                projects = self._walk_organization(self.settings.organization_id, records)
            else:
                projects = self._explicit_projects(self.settings.projects or [], records)
            yield from records
            self.context.progress(f"gcp: collecting {len(projects)} project(s)")
            for project_records in pool.map(self._project, projects):
                yield from project_records
        yield from self.gaps.errors()

    # -- hierarchy ---------------------------------------------------------------------------

    def _walk_organization(self, org_id: str, records: Records) -> list[Node]:
        try:
            org = self.rm.organization(org_id)
        except ApiError as exc:
            # Nothing below the organization can be enumerated: every kind is incomplete.
            records.extend(CollectionError(k.name, f"organizations/{org_id}: {exc}") for k in EVIDENCE_KINDS)
            return []
        nodes: list[tuple[Node, str]] = [(org, ORGANIZATION)]
        projects: list[Node] = []
        seen = {org.name}
        level = [org.name]
        while level:  # breadth first: every parent of one level at once
            answers = self.each(self._children, level)
            parents, level = level, []
            for parent, (folders, children) in zip(parents, answers, strict=True):
                if isinstance(folders, ApiError):
                    records.append(CollectionError(FOLDER, f"{parent}: listing folders: {folders}"))
                    unknown = f"{parent}: projects in sub-folders unknown: {folders}"
                    records.extend(CollectionError(k, unknown) for k in PROJECT_KINDS)
                else:
                    for folder in folders:
                        if folder.data.get("state", "ACTIVE") != "ACTIVE" or folder.name in seen:
                            continue
                        seen.add(folder.name)
                        nodes.append((folder, FOLDER))
                        level.append(folder.name)
                if isinstance(children, ApiError):
                    records.extend(CollectionError(k, f"{parent}: listing projects: {children}") for k in PROJECT_KINDS)
                else:
                    projects.extend(p for p in children if p.data.get("state") == "ACTIVE")
        self.each(self.rm.attach_policy, [node for node, _ in nodes])
        for node, kind in nodes:
            self.ancestors[node.name] = node
            item = EvidenceItem(kind, node.name, {**node.data, "iam_policy": node.policy})
            if node.policy_error:
                self.gaps.unknown(item, POLICY_FIELDS, node.policy_error)
            records.append(item)
        return projects

    def _children(self, parent: str) -> tuple[list[Node] | ApiError, list[Node] | ApiError]:
        """One parent's folders and projects (each list whole, or its error)."""
        return attempt(self.rm.child_folders, parent), attempt(self.rm.child_projects, parent)

    def _explicit_projects(self, project_ids: list[str], records: Records) -> list[Node]:
        projects = []
        answers = self.each(lambda p: attempt(self.rm.project, p), project_ids)
        for project_id, answer in zip(project_ids, answers, strict=True):
            if isinstance(answer, ApiError):
                records.extend(CollectionError(k, f"projects/{project_id}: {answer}") for k in PROJECT_KINDS)
            elif answer.data.get("state") != "ACTIVE":
                records.append(CollectionError(PROJECT, f"projects/{project_id}: state is {answer.data.get('state')}"))
            else:
                projects.append(answer)
        self._load_ancestors([p.parent for p in projects if p.parent])
        return projects

    def _load_ancestors(self, parents: list[str]) -> None:
        """Only for their audit configs: folders and organization above explicitly listed projects,
        one level of the parent chains at a time, then all their policies at once."""
        loaded: list[Node] = []
        level = sorted(set(parents))
        while level:
            for name, answer in zip(level, self.each(lambda n: attempt(self.rm.ancestor, n), level), strict=True):
                if isinstance(answer, ApiError):
                    operation = "folders.get" if name.startswith("folders/") else "organizations.get"
                    self.ancestors[name] = Node(name=name, data={}, policy_error=f"{operation}: {answer}")
                else:
                    self.ancestors[name] = answer
                    loaded.append(answer)
            level = sorted({n.parent for n in loaded if n.parent and n.parent not in self.ancestors})
        self.each(self.rm.attach_policy, loaded)

    # -- one project -------------------------------------------------------------------------

    def _project(self, project: Node) -> Records:
        records: Records = []
        data = dict(project.data)
        project_id = data["projectId"]
        item_id = f"projects/{project_id}"
        self.rm.attach_policy(project)
        env = Env(self.session, self.gaps, self.each)
        disabled: dict[str, dict[str, Any]] = {}  # by the reader's service name
        for kinds, service, reader in READERS:
            if service in disabled:  # one SERVICE_DISABLED answer speaks for every API of that service
                disabled[service]["evidence_kinds"].extend(kinds)
                continue
            try:
                records.extend(reader(env, data))
            except ApiError as exc:
                if exc.service_disabled:
                    disabled[service] = {
                        "service": exc.service or service,
                        "evidence_kinds": list(kinds),
                        "reason": exc.reason,
                        "message": exc.message,
                    }
                else:
                    records.extend(CollectionError(k, f"{item_id}: {service}: {exc}") for k in kinds)
        records.append(self._collector(project, data))
        data.update(
            resource_name=item_id,
            project_id=project_id,
            project_number=project.name.split("/", 1)[1],
            iam_policy=project.policy,
            disabled_services=list(disabled.values()),
        )
        data.setdefault("labels", {})
        item = EvidenceItem(PROJECT, item_id, data)
        if project.policy_error:
            self.gaps.unknown(item, POLICY_FIELDS, project.policy_error)
        self._ancestry(project, item)
        self._essential_contacts(project_id, item)
        records.append(item)
        return records

    def _collector(self, project: Node, data: dict[str, Any]) -> EvidenceItem | CollectionError:
        """What the collector's own identity could change in the project (A.8.34: audit tools read only).
        testIamPermissions answers for one resource only: there is no aggregate form."""
        item_id = f"projects/{data['projectId']}"
        try:
            granted = self.rm.granted_permissions(project.name, list(COLLECTOR_WRITE_PERMISSIONS))
        except ApiError as exc:
            return CollectionError(COLLECTOR, f"{item_id}: testIamPermissions: {exc}")
        facts = {
            "resource_name": item_id,
            "identity": self.identity,
            "tested_permissions": list(COLLECTOR_WRITE_PERMISSIONS),
            "granted_permissions": sorted(granted),
            **scope(data),
        }
        return EvidenceItem(COLLECTOR, item_id, facts)

    def _essential_contacts(self, project_id: str, item: EvidenceItem) -> None:
        """Contacts Google notifies about the project, its own and inherited from folders and organization.
        Per project because no organization-wide list gives each project's effective contacts; compute
        resolves the inheritance in one paged call (ALL: contacts of every category)."""
        path = f"/v1/projects/{project_id}/contacts:compute"
        query = {"notificationCategories": "ALL", "pageSize": 100}
        try:
            item.data["essential_contacts"] = list(self.session.pages("essentialcontacts", path, "contacts", query))
        except ApiError as exc:
            self.gaps.unknown(item, ("essential_contacts",), f"contacts.compute: {exc}")

    def _ancestry(self, project: Node, item: EvidenceItem) -> None:
        """``ancestors`` (nearest first), ``ancestor_folders`` (the folders among them with their display
        names) and ``inherited_audit_configs`` (their audit configs).

        An unreadable ancestor policy leaves inherited_audit_configs unknown, with a gcp.project error
        scoped to that field: its configs might be the ones that turn logging on, yet the project's
        own IAM policy is known, so the binding checks keep their status. When the ancestor itself
        could not be read, the chain above it is unknown: so are ``ancestors`` and ``ancestor_folders``.
        """
        names: list[str] = []
        folders: list[dict[str, Any]] = []
        inherited: list[dict[str, Any]] = []
        parent = project.parent
        while parent and parent not in names:
            names.append(parent)
            node = self.ancestors.get(parent)
            if node is not None and parent.startswith("folders/") and node.parent is not None:
                folders.append({"name": parent, "displayName": node.data.get("displayName")})
            if node is None or node.policy is None:
                reason = f"audit configs of ancestor {parent}: {node.policy_error if node else 'not reachable'}"
                chain_cut = parent.startswith("folders/") and (node is None or node.parent is None)
                fields = ("inherited_audit_configs", *CHAIN_FIELDS) if chain_cut else ("inherited_audit_configs",)
                for name in fields:
                    if name not in item.unknown:  # the nearest unreadable ancestor explains it
                        item.mark_unknown(name, reason)
                self.gaps.missing(PROJECT, fields, reason, item.id)
            else:
                inherited.extend({"source": parent, **config} for config in node.policy.get("auditConfigs", []))
            parent = node.parent if node else None
        for name, value in (
            ("ancestors", names),
            ("ancestor_folders", folders),
            ("inherited_audit_configs", inherited),
        ):
            if name not in item.unknown:
                item.data[name] = value


def attempt(fn: Callable[[Any], Any], value: Any) -> Any:
    """``fn(value)`` or the ApiError it raised, so one failure does not cancel its siblings."""
    try:
        return fn(value)
    except ApiError as exc:
        return exc
