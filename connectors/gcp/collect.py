"""One collection run: the hierarchy first (sequential, it is small), then projects concurrently."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from connectors.base import CollectContext, CollectionError, EvidenceItem

from .hierarchy import Node, ResourceManager
from .kinds import EVIDENCE_KINDS
from .services import SERVICE_READERS, Records
from .settings import GcpSettings
from .transport import ApiError, RestSession, RetryPolicy, load_credentials

ORGANIZATION, FOLDER, PROJECT = "gcp.organization", "gcp.folder", "gcp.project"
# An unread getIamPolicy leaves only this field unknown: checks that do not read it keep their status.
POLICY_FIELDS = ("iam_policy",)
PROJECT_KINDS = tuple(k.name for k in EVIDENCE_KINDS if k.name not in (ORGANIZATION, FOLDER))


class Collection:
    def __init__(self, settings: GcpSettings, context: CollectContext, policy: RetryPolicy, workers: int) -> None:
        self.settings = settings
        self.context = context
        self.policy = policy
        self.workers = workers
        credentials, broad = load_credentials()
        self.session = RestSession(credentials, broad, context, policy, settings.api_endpoint)
        self.rm = ResourceManager(credentials, self.session, policy, settings.api_endpoint)
        self.ancestors: dict[str, Node] = {}  # organizations/… and folders/… by name

    def run(self) -> Iterator[EvidenceItem | CollectionError]:
        records: Records = []
        if self.settings.organization_id:
            projects = self._walk_organization(self.settings.organization_id, records)
        else:
            projects = self._explicit_projects(self.settings.projects or [], records)
        yield from records
        self.context.progress(f"gcp: collecting {len(projects)} project(s)")
        with ThreadPoolExecutor(max_workers=max(1, self.workers), thread_name_prefix="gcp") as pool:
            for project_records in pool.map(self._project, projects):
                yield from project_records

    # -- hierarchy ---------------------------------------------------------------------------

    def _walk_organization(self, org_id: str, records: Records) -> list[Node]:
        try:
            org = self.rm.organization(org_id)
        except ApiError as exc:
            # Nothing below the organization can be enumerated: every kind is incomplete.
            records.extend(CollectionError(k.name, f"organizations/{org_id}: {exc}") for k in EVIDENCE_KINDS)
            return []
        self._remember(org, ORGANIZATION, records, emit=True)
        projects: list[Node] = []
        pending = deque([org.name])
        while pending:
            parent = pending.popleft()
            try:
                folders = list(self.rm.child_folders(parent))
            except ApiError as exc:
                records.append(CollectionError(FOLDER, f"{parent}: listing folders: {exc}"))
                records.extend(
                    CollectionError(k, f"{parent}: projects in sub-folders unknown: {exc}") for k in PROJECT_KINDS
                )
                folders = []
            for folder in folders:
                if folder.data.get("state", "ACTIVE") != "ACTIVE":
                    continue
                self._remember(folder, FOLDER, records, emit=True)
                pending.append(folder.name)
            try:
                children = list(self.rm.child_projects(parent))
            except ApiError as exc:
                records.extend(CollectionError(k, f"{parent}: listing projects: {exc}") for k in PROJECT_KINDS)
                continue
            projects.extend(p for p in children if p.data.get("state") == "ACTIVE")
        return projects

    def _explicit_projects(self, project_ids: list[str], records: Records) -> list[Node]:
        projects = []
        for project_id in project_ids:
            try:
                project = self.rm.project(project_id)
            except ApiError as exc:
                records.extend(CollectionError(k, f"projects/{project_id}: {exc}") for k in PROJECT_KINDS)
                continue
            if project.data.get("state") != "ACTIVE":
                records.append(CollectionError(PROJECT, f"projects/{project_id}: state is {project.data.get('state')}"))
                continue
            self._load_ancestors(project.parent, records)
            projects.append(project)
        return projects

    def _load_ancestors(self, parent: str | None, records: Records) -> None:
        """Only for their audit configs: folders and organization above explicitly listed projects."""
        while parent and parent not in self.ancestors:
            try:
                node = (
                    self.rm.folder(parent)
                    if parent.startswith("folders/")
                    else self.rm.organization(parent.split("/", 1)[1])
                )
            except ApiError as exc:
                self.ancestors[parent] = Node(name=parent, data={}, policy_error=str(exc))
                return
            self._remember(node, None, records, emit=False)
            parent = node.parent

    def _remember(self, node: Node, kind: str | None, records: Records, emit: bool) -> None:
        self.rm.attach_policy(node)
        self.ancestors[node.name] = node
        if not emit or kind is None:
            return
        if node.policy_error:
            records.append(CollectionError(kind, f"{node.name}: getIamPolicy: {node.policy_error}", POLICY_FIELDS))
        records.append(EvidenceItem(kind, node.name, {**node.data, "iam_policy": node.policy}))

    # -- one project -------------------------------------------------------------------------

    def _project(self, project: Node) -> Records:
        records: Records = []
        data = dict(project.data)
        project_id = data["projectId"]
        item_id = f"projects/{project_id}"
        self.rm.attach_policy(project)
        if project.policy_error:
            records.append(CollectionError(PROJECT, f"{item_id}: getIamPolicy: {project.policy_error}", POLICY_FIELDS))
        disabled: list[dict[str, Any]] = []
        for kinds, service, reader in SERVICE_READERS:
            try:
                records.extend(reader(self.session, data))
            except ApiError as exc:
                if exc.service_disabled:
                    disabled.append(
                        {
                            "service": exc.service or service,
                            "evidence_kinds": list(kinds),
                            "reason": exc.reason,
                            "message": exc.message,
                        }
                    )
                else:
                    records.extend(CollectionError(k, f"{item_id}: {service}: {exc}") for k in kinds)
        ancestors, inherited = self._ancestry(project, item_id, records)
        data.update(
            resource_name=item_id,
            project_id=project_id,
            project_number=project.name.split("/", 1)[1],
            iam_policy=project.policy,
            ancestors=ancestors,
            inherited_audit_configs=inherited,
            disabled_services=disabled,
        )
        data.setdefault("labels", {})
        records.append(EvidenceItem(PROJECT, item_id, data))
        return records

    def _ancestry(
        self, project: Node, item_id: str, records: Records
    ) -> tuple[list[str] | None, list[dict[str, Any]] | None]:
        """Ancestors nearest first and their audit configs.

        An unreadable ancestor policy makes inherited_audit_configs null, with a gcp.project error
        scoped to that field: its configs might be the ones that turn logging on, yet the project's
        own IAM policy is known, so the binding checks keep their status. When the ancestor itself
        could not be read, the chain above it is unknown and ``ancestors`` is null too.
        """
        names: list[str] = []
        inherited: list[dict[str, Any]] = []
        unknown: set[str] = set()
        parent = project.parent
        while parent and parent not in names:
            names.append(parent)
            node = self.ancestors.get(parent)
            if node is None or node.policy is None:
                reason = node.policy_error if node else "not reachable"
                chain_cut = parent.startswith("folders/") and (node is None or node.parent is None)
                fields = ("inherited_audit_configs", "ancestors") if chain_cut else ("inherited_audit_configs",)
                unknown.update(fields)
                records.append(
                    CollectionError(PROJECT, f"{item_id}: audit configs of ancestor {parent}: {reason}", fields)
                )
            else:
                inherited.extend({"source": parent, **config} for config in node.policy.get("auditConfigs", []))
            parent = node.parent if node else None
        return (
            None if "ancestors" in unknown else names,
            None if "inherited_audit_configs" in unknown else inherited,
        )
