"""A local imitation of CISO Assistant's REST API (Django REST Framework) on tests/stub.py.

It follows the API as documented and as observed on a running instance:

- ``Authorization: Token <token>`` (knox personal access tokens); anything else is a 401
  ``{"detail": "Invalid token."}``.
- Lists paginate with ``limit``/``offset`` (page size ``page_size``); ``next`` is a *path*
  (``/api/folders/?limit=…&offset=…``), as CISO Assistant's pagination class rewrites it.
- Query filters are ignored unless ``honour_filters`` names them: an unknown filter returns
  everything, so a client must match what comes back (by ``requirement.urn``, by folder id).
- Reads nest related objects as ``{"id", "str"}``; the requirement of a requirement assessment is
  a node object with its ``urn``. Evidence ``status`` reads as its label ("Draft"); writes take the
  value ("draft") and a label is a 400.
- The first ``fresh_folder_403s`` writes into a folder created through the API are refused with 403
  (the permission cache catching up under several workers), then accepted.
- Evidence names are unique per folder (400 otherwise). Creating an evidence creates revision 1
  without a file; ``POST /api/evidences/<id>/upload/`` puts the raw body (``Content-Disposition:
  attachment; filename="…"``) into the latest revision, ``POST /api/evidence-revisions/`` adds a
  version and ``…/evidence-revisions/<id>/upload/`` fills it. Revisions carry ``attachment_hash``
  (SHA-256 of the stored bytes).
- ``POST /api/stored-libraries/<urn>/import/`` loads the ISO/IEC 27001:2022 framework (93 Annex A
  nodes plus clauses 4 to 10), or answers 404 "Library not found." when ``library_available`` is off.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from stub import Request, Response, Stub

TOKEN = "ciso-imitation-token-0123456789abcdef"
FRAMEWORK_URN = "urn:intuitem:risk:framework:iso27001-2022"
LIBRARY_URN = "urn:intuitem:risk:library:iso27001-2022"
NODE = "urn:intuitem:risk:req_node:iso27001-2022:"
THEMES = {5: 37, 6: 8, 7: 14, 8: 34}  # Annex A controls per theme
CLAUSES = ["4.1", "4.2", "4.3", "4.4", "5.1", "5.2", "5.3", "6.1", "6.2", "7.1", "8.1", "9.1", "10.1"]
EVIDENCE_STATUS = {"draft": "Draft", "missing": "Missing", "in_review": "In review", "approved": "Approved"}
RESULTS = {"not_assessed", "partially_compliant", "non_compliant", "compliant", "not_applicable"}
ROOT = "00000000-0000-4000-8000-000000000001"


def _ref(obj: dict[str, Any]) -> dict[str, str]:
    return {"id": obj["id"], "str": obj.get("name") or obj.get("str") or obj["id"]}


@dataclass
class CisoAssistantImitation:
    stub: Stub
    page_size: int = 10
    honour_filters: frozenset[str] = frozenset()
    fresh_folder_403s: int = 1
    library_available: bool = True
    requirement_as_id: bool = False  # older servers: `requirement` is the node's id, not the node
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    perimeters: dict[str, dict[str, Any]] = field(default_factory=dict)
    frameworks: dict[str, dict[str, Any]] = field(default_factory=dict)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    assessments: dict[str, dict[str, Any]] = field(default_factory=dict)
    requirements: dict[str, dict[str, Any]] = field(default_factory=dict)
    evidences: dict[str, dict[str, Any]] = field(default_factory=dict)
    revisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # revision id -> the uploaded bytes
    pending_403: dict[str, int] = field(default_factory=dict)  # folder id -> writes still refused
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.folders[ROOT] = {"id": ROOT, "name": "Global", "content_type": "GL", "parent_folder": None}
        s = self.stub
        for name in (
            "folders",
            "perimeters",
            "frameworks",
            "compliance-assessments",
            "requirement-assessments",
            "requirement-nodes",
            "evidences",
            "evidence-revisions",
        ):
            s.route("GET", rf"/api/{name}/", self._guard(self._lister(name)))
        s.route("POST", r"/api/folders/", self._guard(self._create_folder))
        s.route("POST", r"/api/perimeters/", self._guard(self._create_perimeter))
        s.route("POST", r"/api/compliance-assessments/", self._guard(self._create_assessment))
        s.route("POST", r"/api/stored-libraries/(?P<key>[\w.:-]+)/import/", self._guard(self._import))
        s.route("PATCH", r"/api/requirement-assessments/(?P<oid>[\w-]+)/", self._guard(self._patch_requirement))
        s.route("POST", r"/api/evidences/", self._guard(self._create_evidence))
        s.route("PATCH", r"/api/evidences/(?P<oid>[\w-]+)/", self._guard(self._patch_evidence))
        s.route("POST", r"/api/evidences/(?P<oid>[\w-]+)/upload/", self._guard(self._upload))
        s.route("POST", r"/api/evidence-revisions/", self._guard(self._create_revision))
        s.route("POST", r"/api/evidence-revisions/(?P<oid>[\w-]+)/upload/", self._guard(self._upload))

    # -- plumbing ----------------------------------------------------------------------------------

    def _id(self) -> str:
        return str(uuid.UUID(int=next(self._ids) + (1 << 64)))

    def _guard(self, handler: Any) -> Any:
        def wrapped(req: Request, **groups: str) -> Any:
            if req.headers.get("authorization") != f"Token {TOKEN}":
                return 401, {}, {"detail": "Invalid token."}
            with self.lock:
                return handler(req, **groups)

        return wrapped

    def _fresh_folder_refuses(self, folder: str) -> Response | None:
        left = self.pending_403.get(folder, 0)
        if left > 0:
            self.pending_403[folder] = left - 1
            return 403, {}, {"detail": "You do not have permission to perform this action."}
        return None

    def _page(self, req: Request, items: list[dict[str, Any]]) -> Response:
        limit = int(req.query.get("limit", self.page_size))
        offset = int(req.query.get("offset", 0))
        chunk = items[offset : offset + limit]
        following = None
        if offset + limit < len(items):
            query = {**req.query, "limit": str(limit), "offset": str(offset + limit)}
            following = f"{req.path}?{urlencode(query)}"  # a path, as CustomLimitOffsetPagination gives it
        previous = None
        if offset > 0:
            previous = (
                f"{req.path}?{urlencode({**req.query, 'limit': str(limit), 'offset': str(max(0, offset - limit))})}"
            )
        return 200, {}, {"count": len(items), "next": following, "previous": previous, "results": chunk}

    def _lister(self, name: str) -> Any:
        def handler(req: Request) -> Response:
            rows = [self._read(name, o) for o in reversed(self._table(name).values())]  # newest first
            for key, value in req.query.items():
                if key in self.honour_filters:
                    rows = [r for r in rows if _matches(r.get(key), value)]
            return self._page(req, rows)

        return handler

    def _table(self, name: str) -> dict[str, dict[str, Any]]:
        return {
            "folders": self.folders,
            "perimeters": self.perimeters,
            "frameworks": self.frameworks,
            "compliance-assessments": self.assessments,
            "requirement-assessments": self.requirements,
            "requirement-nodes": self.nodes,
            "evidences": self.evidences,
            "evidence-revisions": self.revisions,
        }[name]

    def _read(self, name: str, obj: dict[str, Any]) -> dict[str, Any]:
        out = dict(obj)
        if name == "folders":
            out["content_type"] = {"GL": "Global", "DO": "Domain"}[obj["content_type"]]
        if "folder" in obj:
            out["folder"] = _ref(self.folders[obj["folder"]])
        if name == "compliance-assessments":
            out["perimeter"] = _ref(self.perimeters[obj["perimeter"]])
            out["framework"] = _ref(self.frameworks[obj["framework"]])
        if name == "requirement-assessments":
            node = self.nodes[obj["requirement"]]
            out["requirement"] = (
                node["id"] if self.requirement_as_id else {k: node[k] for k in ("id", "urn", "ref_id", "name")}
            )
            out["compliance_assessment"] = {"id": obj["compliance_assessment"], "name": "…"}
            out["evidences"] = [_ref(e) for e in self.evidences.values() if obj["id"] in e["requirement_assessments"]]
        if name == "evidences":
            out["status"] = EVIDENCE_STATUS[obj["status"]]
            out["requirement_assessments"] = [{"id": r, "str": r} for r in obj["requirement_assessments"]]
        if name == "evidence-revisions":
            out["evidence"] = _ref(self.evidences[obj["evidence"]])
        return out

    # -- handlers ----------------------------------------------------------------------------------

    def _create_folder(self, req: Request) -> Response:
        body = req.json()
        name = str(body.get("name") or "")
        if not name:
            return 400, {}, {"name": ["This field is required."]}
        if any(f["name"] == name for f in self.folders.values()):
            return 400, {}, {"name": ["An object with this name already exists."]}
        folder = {
            "id": self._id(),
            "name": name,
            "content_type": "DO",
            "parent_folder": ROOT,
            "description": body.get("description"),
        }
        self.folders[folder["id"]] = folder
        self.pending_403[folder["id"]] = self.fresh_folder_403s
        return 201, {}, self._read("folders", folder)

    def _create_perimeter(self, req: Request) -> Response:
        body = req.json()
        folder = str(body.get("folder") or "")
        if folder not in self.folders:
            return 400, {}, {"folder": ['Invalid pk "' + folder + '" - object does not exist.']}
        refused = self._fresh_folder_refuses(folder)
        if refused:
            return refused
        if any(p["name"] == body.get("name") and p["folder"] == folder for p in self.perimeters.values()):
            return 400, {}, {"name": ["An object with this name already exists in this folder."]}
        perimeter = {"id": self._id(), "name": body["name"], "folder": folder, "lc_status": "in_design"}
        self.perimeters[perimeter["id"]] = perimeter
        return 201, {}, self._read("perimeters", perimeter)

    def _import(self, req: Request, key: str) -> Response:
        if not self.library_available or key not in (LIBRARY_URN,):
            return 404, {}, "Library not found."
        if any(f["urn"] == FRAMEWORK_URN for f in self.frameworks.values()):
            return 400, {}, {"status": "error", "error": "libraryAlreadyLoadedError"}
        framework = {
            "id": self._id(),
            "urn": FRAMEWORK_URN,
            "name": "International standard ISO/IEC 27001:2022",
            "ref_id": "ISO/IEC 27001:2022",
            "folder": ROOT,
        }
        self.frameworks[framework["id"]] = framework
        refs = CLAUSES + [f"A.{theme}.{n}" for theme, count in THEMES.items() for n in range(1, count + 1)]
        for ref in refs:
            node = {
                "id": self._id(),
                "urn": NODE + ref.lower(),
                "ref_id": ref,
                "name": ref,
                "framework": framework["id"],
                "assessable": True,
            }
            self.nodes[node["id"]] = node
        return 200, {}, {"status": "success"}

    def _create_assessment(self, req: Request) -> Response:
        body = req.json()
        perimeter = self.perimeters.get(str(body.get("perimeter")))
        framework = self.frameworks.get(str(body.get("framework")))
        if perimeter is None or framework is None:
            return 400, {}, {"perimeter" if perimeter is None else "framework": ["Invalid pk - object does not exist."]}
        refused = self._fresh_folder_refuses(perimeter["folder"])
        if refused:
            return refused
        assessment = {
            "id": self._id(),
            "name": body["name"],
            "perimeter": perimeter["id"],
            "framework": framework["id"],
            "folder": perimeter["folder"],
            "is_locked": False,
        }
        self.assessments[assessment["id"]] = assessment
        for node in self.nodes.values():
            if node["framework"] == framework["id"]:
                ra = {
                    "id": self._id(),
                    "requirement": node["id"],
                    "compliance_assessment": assessment["id"],
                    "folder": perimeter["folder"],
                    "result": "not_assessed",
                    "status": "to_do",
                    "observation": None,
                }
                self.requirements[ra["id"]] = ra
        return 201, {}, self._read("compliance-assessments", assessment)

    def _patch_requirement(self, req: Request, oid: str) -> Response:
        ra = self.requirements.get(oid)
        if ra is None:
            return 404, {}, {"detail": "Not found."}
        body = req.json()
        if "result" in body and body["result"] not in RESULTS:
            return 400, {}, {"result": [f'"{body["result"]}" is not a valid choice.']}
        for key in ("result", "observation", "status"):
            if key in body:
                ra[key] = body[key]
        return 200, {}, self._read("requirement-assessments", ra)

    def _create_evidence(self, req: Request) -> Response:
        body = req.json()
        folder = str(body.get("folder") or ROOT)
        if folder not in self.folders:
            return 400, {}, {"folder": ["Invalid pk - object does not exist."]}
        refused = self._fresh_folder_refuses(folder)
        if refused:
            return refused
        if any(e["name"] == body.get("name") and e["folder"] == folder for e in self.evidences.values()):
            return 400, {}, {"name": ["An object with this name already exists in this folder."]}
        status = body.get("status", "draft")
        if status not in EVIDENCE_STATUS:
            return 400, {}, {"status": [f'"{status}" is not a valid choice.']}
        for ra in body.get("requirement_assessments") or []:
            if ra not in self.requirements:
                return 400, {}, {"requirement_assessments": [f'Invalid pk "{ra}" - object does not exist.']}
        evidence = {
            "id": self._id(),
            "name": body["name"],
            "description": body.get("description"),
            "folder": folder,
            "status": status,
            "requirement_assessments": list(body.get("requirement_assessments") or []),
        }
        self.evidences[evidence["id"]] = evidence
        self._add_revision(evidence["id"])
        return 201, {}, self._read("evidences", evidence)

    def _patch_evidence(self, req: Request, oid: str) -> Response:
        evidence = self.evidences.get(oid)
        if evidence is None:
            return 404, {}, {"detail": "Not found."}
        body = req.json()
        if "status" in body and body["status"] not in EVIDENCE_STATUS:
            return 400, {}, {"status": [f'"{body["status"]}" is not a valid choice.']}
        for key in ("name", "description", "status", "requirement_assessments"):
            if key in body:
                evidence[key] = list(body[key]) if key == "requirement_assessments" else body[key]
        return 200, {}, self._read("evidences", evidence)

    def _add_revision(self, evidence: str, observation: str | None = None) -> dict[str, Any]:
        version = max((r["version"] for r in self.revisions.values() if r["evidence"] == evidence), default=0) + 1
        revision = {
            "id": self._id(),
            "evidence": evidence,
            "version": version,
            "attachment": None,
            "attachment_hash": None,
            "observation": observation,
            "folder": self.evidences[evidence]["folder"],
        }
        self.revisions[revision["id"]] = revision
        return revision

    def _create_revision(self, req: Request) -> Response:
        body = req.json()
        evidence = self.evidences.get(str(body.get("evidence")))
        if evidence is None:
            return 400, {}, {"evidence": ["Invalid pk - object does not exist."]}
        revision = self._add_revision(evidence["id"], body.get("observation"))
        evidence["status"] = "in_review"
        return 201, {}, self._read("evidence-revisions", revision)

    def _upload(self, req: Request, oid: str) -> Response:
        revision = self.revisions.get(oid)
        if revision is None:
            if oid not in self.evidences:
                return 404, {}, {"detail": "Not found."}
            mine = [r for r in self.revisions.values() if r["evidence"] == oid]
            revision = max(mine, key=lambda r: r["version"]) if mine else self._add_revision(oid)
        match = re.search(r'filename="([^"]+)"', req.headers.get("content-disposition", ""))
        if match is None:
            return (
                400,
                {},
                {
                    "detail": "Missing filename. Request should include a Content-Disposition header with a filename "
                    "parameter."
                },
            )
        revision["attachment"] = match.group(1)
        revision["attachment_hash"] = hashlib.sha256(req.body).hexdigest()
        self.files[revision["id"]] = req.body
        return 200, {}, b""

    # -- what tests read -----------------------------------------------------------------------------

    def requirement(self, control_id: str) -> dict[str, Any]:
        urn = NODE + control_id.lower()
        node = next(n for n in self.nodes.values() if n["urn"] == urn)
        return next(r for r in self.requirements.values() if r["requirement"] == node["id"])

    def evidence_named(self, name: str) -> dict[str, Any]:
        return next(e for e in self.evidences.values() if e["name"] == name)

    def revisions_of(self, evidence_id: str) -> list[dict[str, Any]]:
        return sorted((r for r in self.revisions.values() if r["evidence"] == evidence_id), key=lambda r: r["version"])

    def writes(self) -> int:
        return sum(1 for r in self.stub.log if r.method != "GET")


def _matches(value: Any, wanted: str) -> bool:
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) == str(wanted)


def start(**options: Any) -> tuple[Stub, CisoAssistantImitation]:
    stub = Stub()
    imitation = CisoAssistantImitation(stub, **options)
    stub.start()
    return stub, imitation
