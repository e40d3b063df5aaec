"""The evidence kinds the Okta connector yields, with the fields checks may rely on."""

from __future__ import annotations

from connectors.base import EvidenceKind

USER = "okta.user"
GROUP = "okta.group"
POLICY = "okta.policy"
ORG = "okta.org"
ADMIN_ROLES = "okta.admin.role_assignments"
AUTHENTICATOR = "okta.authenticator"
APPLICATION = "okta.application"
DEVICE_ASSURANCE = "okta.device_assurance"

EVIDENCE_KINDS = (
    EvidenceKind(
        USER,
        id_field="login",
        description="One user (GET /api/v1/users, plus DEPROVISIONED users), joined with the user's factors "
        "(GET /api/v1/users/{id}/factors) and the admin roles the user holds. On re-runs factors are fetched "
        "only for users the System Log names; the others carry the previous run's factors over.",
        fields={
            "login": "profile.login (the item id)",
            "id": "Okta user id (00u...)",
            "type": "the user type ({id}), null on orgs without user types",
            "status": "STAGED | PROVISIONED | ACTIVE | RECOVERY | PASSWORD_EXPIRED | LOCKED_OUT | SUSPENDED | "
            "DEPROVISIONED",
            "created": "creation time (ISO-8601)",
            "activated": "activation time, null when never activated",
            "statusChanged": "time of the last status change, or null",
            "lastLogin": "last sign-in, null when never signed in",
            "lastUpdated": "last change of the user object",
            "passwordChanged": "last password change, or null",
            "profile": "the user's profile as returned by Okta",
            "factors": "[{id, factorType, provider, vendorName, status, created, lastUpdated, profile}] "
            "(status ACTIVE | PENDING_ACTIVATION | ...); null when not fetched (DEPROVISIONED: deactivation resets "
            "them); left unknown when the factor call failed",
            "factors_source": "fresh | carried_over | not_fetched | error",
            "factors_from_run": "id of the run that fetched the factors (null when not fetched, unknown when the "
            "factor call failed)",
            "admin_roles": "admin role types the user holds (e.g. SUPER_ADMIN), [] for none; unknown when the "
            "role assignments (or this user's roles) could not be read",
            "org": "the Okta org host",
        },
    ),
    EvidenceKind(
        GROUP,
        id_field="id",
        raw="the Management API's group object",
        description="A group (GET /api/v1/groups).",
        fields={
            "id": "Okta group id (the item id)",
            "type": "OKTA_GROUP | APP_GROUP | BUILT_IN",
            "profile": "{name, description}",
            "created": "creation time",
            "lastMembershipUpdated": "last membership change",
            "org": "the Okta org host",
        },
    ),
    EvidenceKind(
        POLICY,
        id_field="id",
        raw="the Management API's policy object",
        description="A password, MFA enrollment, global session (OKTA_SIGN_ON) or authentication "
        "(ACCESS_POLICY) policy (GET /api/v1/policies?type=...) with its rules (GET /api/v1/policies/{id}/rules). "
        "Classic Engine and Identity Engine shapes are kept as returned.",
        fields={
            "id": "policy id (the item id)",
            "type": "PASSWORD | MFA_ENROLL | OKTA_SIGN_ON | ACCESS_POLICY",
            "name": "policy name",
            "status": "ACTIVE | INACTIVE",
            "priority": "evaluation order",
            "system": "true for Okta's default policy",
            "conditions": "who the policy applies to",
            "settings": "PASSWORD: {password: {complexity: {minLength, ...}, age: {maxAgeDays, historyCount, "
            "minAgeMinutes}, lockout: {maxAttempts, ...}}}; MFA_ENROLL: {type: FACTORS, factors: {...}} (Classic) "
            "or {type: AUTHENTICATORS, authenticators: [...]} (Identity Engine)",
            "rules": "the policy's rules as returned (actions.signon for OKTA_SIGN_ON: {access, requireFactor, "
            "session: {maxSessionIdleMinutes, maxSessionLifetimeMinutes, usePersistentCookie}}; "
            "actions.appSignOn for ACCESS_POLICY: {access, verificationMethod: {factorMode, type, ...}}); "
            "unknown when the rules could not be read",
            "authenticator_enrollment": "MFA_ENROLL only: [{key, enroll}] from either shape "
            "(enroll: REQUIRED | OPTIONAL | NOT_ALLOWED)",
            "org": "the Okta org host",
        },
    ),
    EvidenceKind(
        ORG,
        id_field="host",
        description="The organization as a whole: the facts org-level checks need, such as every MFA "
        "enrollment policy with the authenticators it requires, every device assurance policy and the "
        "ThreatInsight setting.",
        fields={
            "host": "the Okta org host (the item id)",
            "org_url": "the org URL",
            "mfa_enroll_policies": "[{id, name, status, priority, system, authenticator_enrollment: [{key, enroll}]}]",
            "device_assurances": "every device assurance policy (GET /api/v1/device-assurances) as [{id, name, "
            "platform, osVersion, osVersionConstraints, diskEncryptionType, screenLockType, secureHardwarePresent, "
            "jailbreak}]; [] on orgs without device assurance (Classic Engine, E0000015); unknown when unreadable",
            "threat_insight": "ThreatInsight configuration (GET /api/v1/threats/configuration): {action: none | "
            "audit | block, excludeZones, created, lastUpdated}; unknown when unreadable",
        },
    ),
    EvidenceKind(
        ADMIN_ROLES,
        id_field="host",
        description="Who holds which admin role (GET /api/v1/iam/assignees/users, then GET "
        "/api/v1/users/{id}/roles for each assignee; roles granted through a group are included).",
        fields={
            "host": "the Okta org host (the item id)",
            "assignees": "[{user_id, login, user_status, roles: [{id, type, label, status, assignmentType}]}]",
            "holders_by_role": "{role type: [logins]}",
            "super_admins": "logins holding SUPER_ADMIN",
            "super_admin_count": "number of users holding SUPER_ADMIN",
        },
    ),
    EvidenceKind(
        AUTHENTICATOR,
        id_field="id",
        raw="the Management API's authenticator object",
        description="An authenticator (GET /api/v1/authenticators; Identity Engine orgs).",
        fields={
            "id": "authenticator id (the item id)",
            "key": "okta_password | okta_verify | webauthn | phone_number | ...",
            "type": "password | app | security_key | phone | email | ...",
            "status": "ACTIVE | INACTIVE",
            "settings": "authenticator settings as returned",
            "org": "the Okta org host",
        },
    ),
    EvidenceKind(
        APPLICATION,
        id_field="id",
        raw="the Management API's application object (secrets removed)",
        description="An application integration (GET /api/v1/apps). Secrets in credentials are removed.",
        fields={
            "id": "app id (the item id)",
            "name": "app name (catalog key)",
            "label": "display name",
            "status": "ACTIVE | INACTIVE",
            "signOnMode": "SAML_2_0 | OPENID_CONNECT | BOOKMARK | ...",
            "created": "creation time",
            "org": "the Okta org host",
        },
    ),
    EvidenceKind(
        DEVICE_ASSURANCE,
        id_field="id",
        raw="the Management API's device assurance policy object",
        description="A device assurance policy (GET /api/v1/device-assurances; Identity Engine): the device "
        "posture an authentication policy rule can require.",
        fields={
            "id": "device assurance policy id (the item id)",
            "name": "policy name",
            "platform": "ANDROID | CHROMEOS | IOS | MACOS | WINDOWS",
            "osVersion": "{minimum: '14.2'} or {dynamicVersionRequirement: {type, distanceFromLatestMajor, "
            "latestSecurityPatch}}; null when no OS version is required",
            "osVersionConstraints": "Windows: [{majorVersionConstraint, minimum, dynamicVersionRequirement}]",
            "diskEncryptionType": "{include: [ALL_INTERNAL_VOLUMES | FULL | USER]}; null when not required",
            "screenLockType": "{include: [PASSCODE | BIOMETRIC]}; null when not required",
            "secureHardwarePresent": "a TPM / Secure Enclave is required",
            "jailbreak": "mobile: jailbroken or rooted devices are allowed (false: blocked)",
            "createdDate": "creation time",
            "lastUpdate": "last change",
            "org": "the Okta org host",
        },
    ),
)

PERMISSIONS = (
    "API token of an admin with the Read-Only Administrator role (tokens act with their creator's rights)",
    "or an OAuth 2.0 service app (private_key_jwt) granted the scopes okta.users.read okta.groups.read "
    "okta.factors.read okta.policies.read okta.roles.read okta.authenticators.read okta.apps.read okta.logs.read "
    "okta.deviceAssurance.read okta.threatInsight.read "
    "and the Read-Only Administrator role",
)
