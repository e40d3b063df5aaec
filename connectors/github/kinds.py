"""The evidence kinds the GitHub connector yields, with the fields checks may rely on."""

from __future__ import annotations

from connectors.base import EvidenceKind

ORG = "github.org"
MEMBER = "github.member"
OUTSIDE_COLLABORATOR = "github.outside_collaborator"
REPO = "github.repo"

EVIDENCE_KINDS = (
    EvidenceKind(
        ORG,
        id_field="login",
        raw="the REST API's organization object (GET /orgs/{org})",
        description="The organization's settings (GET /orgs/{org}) plus its owners (members with role admin).",
        fields={
            "login": "organization login (the item id)",
            "two_factor_requirement_enabled": "members must have 2FA (null without owner rights)",
            "default_repository_permission": "base permission: none | read | write | admin (null without owner rights)",
            "members_can_create_repositories": "members may create repositories",
            "members_can_create_public_repositories": "members may create public repositories",
            "members_can_create_private_repositories": "members may create private repositories",
            "members_can_fork_private_repositories": "members may fork private repositories",
            "web_commit_signoff_required": "web commits must be signed off",
            "deploy_keys_enabled_for_repositories": "deploy keys may be used in the organization's repositories "
            "(false: GitHub disables every deploy key)",
            "plan": "billing plan {name, seats, filled_seats, ...} (owners only)",
            "owners": "logins of the organization owners (GET /orgs/{org}/members?role=admin)",
            "owners_count": "number of organization owners",
        },
    ),
    EvidenceKind(
        MEMBER,
        id_field="login",
        raw="the REST API's simple-user object",
        description="One organization member (GET /orgs/{org}/members), with role and 2FA state.",
        fields={
            "login": "the member's login (the item id)",
            "org": "organization login",
            "role": "admin (owner) or member",
            "two_factor_disabled": "listed by filter=2fa_disabled; null when that filter was not readable",
            "site_admin": "GitHub Enterprise Server site administrator",
        },
    ),
    EvidenceKind(
        OUTSIDE_COLLABORATOR,
        id_field="login",
        raw="the REST API's simple-user object",
        description="A user with access to organization repositories who is not a member "
        "(GET /orgs/{org}/outside_collaborators), joined with their access per repository.",
        fields={
            "login": "the collaborator's login (the item id)",
            "org": "organization login",
            "repositories": "[{repository: org/name, role_name, permissions: {admin, maintain, push, triage, pull}}]",
        },
    ),
    EvidenceKind(
        REPO,
        id_field="full_name",
        raw="the REST API's repository object",
        description="A repository (GET /orgs/{org}/repos) joined with its default branch protection, the "
        "ruleset rules that apply to that branch, CODEOWNERS, deploy keys, Actions permissions, the latest "
        "code scanning analysis, its deployment environments, its dependencies' licences, for public "
        "repositories how vulnerabilities are reported, and its open Dependabot alerts. Hypermedia *_url "
        "fields are dropped.",
        fields={
            "full_name": "org/name (the item id)",
            "org": "organization login",
            "visibility": "public | private | internal",
            "archived": "archived repositories are collected but skipped by the fixed checks",
            "default_branch": "name of the default branch",
            "pushed_at": "last push (ISO-8601)",
            "security_and_analysis": "{secret_scanning: {status}, secret_scanning_push_protection: {status}, "
            "dependabot_security_updates: {status}, advanced_security: {status}, ...}; null when not returned",
            "branch_protection": "GET /repos/{o}/{r}/branches/{b}/protection, null when not protected",
            "default_branch_rules": "rules of ACTIVE rulesets (repository and organization) that apply to the "
            "default branch: [{type, parameters, ruleset_source_type, ruleset_source, ruleset_id}]",
            "codeowners": "{present: bool, errors: [...]} (GET /repos/{o}/{r}/codeowners/errors)",
            "deploy_keys": "[{id, title, read_only, verified, created_at, last_used}]; [] without asking when "
            "the organization disables deploy keys",
            "deploy_keys_allowed": "the organization's deploy-key policy (null when not returned)",
            "actions_permissions": "{enabled, allowed_actions, source}: source 'organization' when the "
            "organization's policy decides (a repository may only be stricter), else the repository's own "
            "answer (plus sha_pinning_required where GitHub sends it)",
            "code_scanning_available": "false for a private/internal repository without Advanced Security or "
            "Code Security (then not asked), true where it can run, null when not reported",
            "code_scanning_last_analysis": "the newest code scanning analysis {created_at, tool, ref, "
            "analysis_key} or null when there is none / code scanning is unavailable",
            "dependabot_alerts": "open alerts [{number, severity, ghsa_id, cve_id, package, ecosystem, "
            "manifest_path, created_at, html_url}]; null when Dependabot alerts are disabled",
            "environments": "deployment environments [{name, protection_rules: [{id, type, reviewers: [{type, "
            "reviewer}], prevent_self_review, wait_timer}], deployment_branch_policy: {protected_branches, "
            "custom_branch_policies} or null, can_admins_bypass, created_at, updated_at}] "
            "(GET /repos/{o}/{r}/environments); null for archived repositories",
            "dependency_licenses": "the dependency graph's packages [{name, version, license, license_ids}] "
            "(GET /repos/{o}/{r}/dependency-graph/sbom; license: licenseConcluded, else licenseDeclared, null for "
            "NOASSERTION/NONE; license_ids: the SPDX ids in that expression); null when the dependency graph is "
            "off (404) and for archived repositories",
            "security_policy": "public repositories: {private_vulnerability_reporting: bool, policy_file: "
            "{repository, path} or null} (GET /repos/{o}/{r}/private-vulnerability-reporting; SECURITY.md in the "
            "root, .github/ or docs/ from GET /repos/{o}/{r}/contents, else the organization's public .github "
            "repository's); null for private, internal and archived repositories (not asked)",
            "details_skipped": "'archived' when per-repository detail calls were skipped, else null",
        },
    ),
)

PERMISSIONS = (
    "Classic token: read:org, repo (private repositories; public_repo for public ones only), "
    "security_events (Dependabot and code scanning alerts); an organization OWNER token for 2FA state, "
    "base permission and billing plan",
    "Optional: admin:org (classic) for the organization's Actions policy, which spares one call per repository",
    "Fine-grained token / GitHub App: Organization Members: read, Organization Administration: read; "
    "Repository Metadata, Administration (incl. private vulnerability reporting), Contents (incl. the "
    "dependency graph SBOM and SECURITY.md), Actions (incl. environments), Dependabot alerts, Code scanning "
    "alerts, Secret scanning alerts: read",
)
