"""The demo's ISMS documents: a few short Markdown files and the `manual_evidence:` entries declaring them.

Dates are relative to the demo's day, so the register always shows the same mix: most evidence current,
the information security policy expiring within the warning window, the supplier policy expired, the
internal audit and management review held shortly before the (simulated) Stage 1 audit date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

AUDIT_IN_DAYS = 30


@dataclass(frozen=True)
class DemoDocument:
    path: str
    title: str
    controls: tuple[str, ...]
    clauses: tuple[str, ...]
    owner: str
    age_days: int  # how long before the demo's day it was dated
    body: str
    review_every: str = "12m"


DOCUMENTS = (
    DemoDocument("isms/scope.md", "ISMS scope", (), ("4.3",), "CISO", 200,
                 "The ISMS covers the Demo Corp SaaS platform, its cloud accounts and the Berlin office staff."),
    DemoDocument("isms/information-security-policy.md", "Information security policy", ("A.5.1",), ("5.2",),
                 "CEO", 350, "Approved by the management board; objectives are set yearly in the ISMS objectives."),
    DemoDocument("isms/roles.md", "ISMS roles and responsibilities", ("A.5.2",), ("5.3",), "CISO", 120,
                 "The CISO owns the ISMS and reports to the CEO monthly; asset owners are named per system."),
    DemoDocument("isms/risk-method.md", "Risk assessment method", (), ("6.1.2",), "CISO", 150,
                 "Likelihood and impact on 1-5 scales; risks scoring 12 or more need a treatment plan."),
    DemoDocument("isms/risk-treatment-plan.md", "Risk treatment plan", (), ("6.1.3", "8.3"), "CISO", 60,
                 "Each risk above the threshold has an owner, the chosen controls and a due date."),
    DemoDocument("isms/objectives.md", "Information security objectives", (), ("6.2",), "CISO", 90,
                 "MFA for every account, quarterly access reviews, incident response drills twice a year."),
    DemoDocument("isms/awareness-training.md", "Security awareness training records", ("A.6.3",), ("7.2",),
                 "HR", 45, "All 48 staff completed the yearly training; completion export attached."),
    DemoDocument("isms/document-control.md", "Control of documented information", (), ("7.5",), "CISO", 100,
                 "ISMS documents live in git; changes go through a reviewed pull request."),
    DemoDocument("isms/risk-register-review.md", "Risk assessment results", (), ("8.2",), "CISO", 30,
                 "The risk register was reviewed with the asset owners; see risks.yaml."),
    DemoDocument("isms/metrics.md", "ISMS monitoring and measurement", (), ("9.1",), "CISO", 25,
                 "Monthly: Annexa pass rate per theme, open findings, incidents and their time to close."),
    DemoDocument("isms/internal-audit-2026.md", "Internal audit report 2026", (), ("9.2",), "Internal auditor", 20,
                 "Scope: the whole ISMS and Annex A; two minor nonconformities, both with corrective actions."),
    DemoDocument("isms/management-review-2026.md", "Management review minutes 2026", (), ("9.3",), "CEO", 10,
                 "Inputs: audit results, objectives, risks, incidents; decisions: budget for EDR, next review."),
    DemoDocument("isms/supplier-security-policy.md", "Supplier security policy", ("A.5.19", "A.5.20"), (), "COO", 400,
                 "Suppliers handling customer data sign the security annex; reviewed yearly."),
)  # fmt: skip
LINK = ("https://wiki.demo-corp.example/isms/incident-response", "Incident response plan", ("A.5.24", "A.5.26"))


def write_documents(directory: Path) -> None:
    for doc in DOCUMENTS:
        path = directory / doc.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {doc.title}\n\n{doc.body}\n", encoding="utf-8")


def manual_evidence_yaml(day: date) -> str:
    """The `manual_evidence:` block of the demo's annexa.yaml, dated relative to ``day``."""
    lines = ["manual_evidence:"]
    for doc in DOCUMENTS:
        lines += [f"  - path: {doc.path}", f'    title: "{doc.title}"']
        if doc.controls:
            lines.append(f"    controls: [{', '.join(doc.controls)}]")
        if doc.clauses:
            lines.append(f"    clauses: [{', '.join(repr(c) for c in doc.clauses)}]")
        dated = day - timedelta(days=doc.age_days)
        lines += [f"    owner: {doc.owner}", f"    date: {dated.isoformat()}", f"    review_every: {doc.review_every}"]
    url, title, controls = LINK
    lines += [f"  - url: {url}", "    id: incident-response-plan", f'    title: "{title}"']
    lines += [f"    controls: [{', '.join(controls)}]", f"    valid_until: {(day + timedelta(days=200)).isoformat()}"]
    return "\n".join(lines) + "\n"


RISKS = (
    ("R-01", "Account takeover through a stolen password", "CISO", 4, 5, "mitigate", ("A.5.17", "A.8.5")),
    ("R-02", "Customer data exposed by a public storage bucket", "CTO", 3, 5, "mitigate", ("A.8.3", "A.8.12")),
    ("R-03", "Unreviewed code change reaches production", "CTO", 3, 4, "mitigate", ("A.8.25", "A.8.32")),
    ("R-04", "Leaver keeps access to cloud accounts", "HR", 3, 4, "mitigate", ("A.5.18", "A.8.2")),
    ("R-05", "Incident goes unnoticed for days", "CISO", 2, 5, "mitigate", ("A.8.15", "A.8.16")),
    ("R-06", "Supplier breach exposes customer data", "COO", 2, 4, "transfer", ("A.5.19", "A.5.20")),
    ("R-07", "Office burglary: a laptop is stolen", "COO", 2, 2, "accept", ()),
)  # fmt: skip
JUSTIFICATIONS = {
    "A.5.31": "contractual: customer DPAs require legal and regulatory requirements to be identified",
    "A.5.34": "legal: GDPR applies to the customer data the platform processes",
}
RISK_FILE = "isms/risks.yaml"


def write_risks(directory: Path, day: date) -> None:
    lines = ["# The demo's risk register (likelihood and impact on 1-5 scales).", "risks:"]
    for rid, title, owner, likelihood, impact, treatment, controls in RISKS:
        lines += [f"  - id: {rid}", f'    title: "{title}"', f"    owner: {owner}"]
        lines += [f"    likelihood: {likelihood}", f"    impact: {impact}", f"    treatment: {treatment}"]
        if controls:
            lines.append(f"    controls: [{', '.join(controls)}]")
        if treatment == "accept":
            lines += ["    accepted_by: CEO", f"    accepted_on: {(day - timedelta(days=40)).isoformat()}"]
    (directory / RISK_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")


def justifications_yaml() -> str:
    return "  justifications:\n" + "".join(f'    {cid}: "{why}"\n' for cid, why in JUSTIFICATIONS.items())


def audit_date(day: date) -> date:
    return day + timedelta(days=AUDIT_IN_DAYS)
