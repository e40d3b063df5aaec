"""Dependency licences from the dependency graph's SPDX export (GET /repos/{o}/{r}/dependency-graph/sbom).

The SBOM is reduced to ``[{name, version, license, license_ids}]``: ``license`` is the package's
``licenseConcluded``, else its ``licenseDeclared`` (SPDX's NOASSERTION and NONE mean "no licence stated",
kept as null), and ``license_ids`` the licence identifiers of that SPDX expression (``MIT OR GPL-3.0-only``
gives both ids; exception names after WITH are not licences and are left out). The package the document
describes (the repository itself) is not a dependency and is left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .client import Api
from .facts import status_of
from .recall import Recall

NO_LICENCE = frozenset({"NOASSERTION", "NONE", ""})
_OPERATORS = frozenset({"AND", "OR"})
_TOKEN = re.compile(r"[()]|[^\s()]+")


def licence_ids(expression: str | None) -> list[str]:
    """The licence identifiers of an SPDX licence expression, in order, without operators and exceptions."""
    ids: list[str] = []
    after_with = False
    for token in _TOKEN.findall(expression or ""):
        upper = token.upper()
        if token in "()" or upper in _OPERATORS:
            continue
        if upper == "WITH":
            after_with = True
            continue
        if after_with:
            after_with = False  # an exception (e.g. Classpath-exception-2.0) modifies the licence before it
            continue
        if upper not in NO_LICENCE and token not in ids:
            ids.append(token)
    return ids


def _licence(package: Mapping[str, Any]) -> str | None:
    for key in ("licenseConcluded", "licenseDeclared"):
        value = package.get(key)
        if isinstance(value, str) and value.strip().upper() not in NO_LICENCE:
            return value.strip()
    return None


def reduce_sbom(answer: Any) -> list[dict[str, Any]]:
    document = (answer or {}).get("sbom") if isinstance(answer, dict) else None
    if not isinstance(document, dict):
        raise TypeError("dependency-graph/sbom: the answer has no sbom document")
    described = set(document.get("documentDescribes") or [])
    for relation in document.get("relationships") or []:
        if relation.get("relationshipType") == "DESCRIBES" and relation.get("spdxElementId") == "SPDXRef-DOCUMENT":
            described.add(relation.get("relatedSpdxElement"))
    packages = []
    for package in document.get("packages") or []:
        if not isinstance(package, dict) or package.get("SPDXID") in described:
            continue
        licence = _licence(package)
        packages.append(
            {
                "name": package.get("name"),
                "version": package.get("versionInfo"),
                "license": licence,
                "license_ids": licence_ids(licence),
            }
        )
    return sorted(packages, key=lambda p: (str(p["name"]), str(p["version"])))


def dependency_licenses(api: Api, recall: Recall, repo: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The repository's dependencies with their licences; None when the dependency graph is off (404).

    GitHub builds the SBOM afresh on every request (a new creation time and document namespace), so its
    ETag never repeats and a conditional request would never answer 304: the reduced answer is remembered
    until the next push (manifests change only with one) or until it is due (``recheck_hours``), which
    also brings in dependencies submitted through the dependency submission API without a push."""
    from github import GithubException

    def ask() -> list[dict[str, Any]] | None:
        try:
            answer = api.get(f"/repos/{repo['full_name']}/dependency-graph/sbom")
        except GithubException as exc:
            if status_of(exc) == 404:
                return None  # the dependency graph is disabled (or not offered) for this repository
            raise
        return reduce_sbom(answer)

    return recall.answer("dependency_licenses", repo, ask, keep=lambda _: True)
