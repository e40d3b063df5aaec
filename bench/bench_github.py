"""GitHub connector benchmark: a 500-repository organization on the local GitHub imitation, two `annexa run`s.

The organization (members, owners, outside collaborators, repository and organization rulesets, classic
branch protection, code scanning, CODEOWNERS, deploy keys, open Dependabot alerts, archived repositories)
is served by tests/providers/github_imitation.py on tests/stub.py at 127.0.0.1, in three profiles that
differ only in organization-level settings:

* ``open``: GitHub's defaults: Actions allowed for every repository and every action, deploy keys allowed,
  six outside collaborators, Advanced Security on every repository;
* ``locked-down``: an Actions allow-list set for the organization, deploy keys disabled for the
  organization, no outside collaborators, no Advanced Security on private repositories;
* ``pre-audit``: as ``open``, but four in five default branches unprotected.

Per profile `annexa run` runs three times as a subprocess on a temporary annexa.yaml and store, the token
passed as ${GITHUB_TOKEN}: a first sweep, an unchanged re-run, and an unchanged re-run with
``recheck_hours: 0`` (what the daily re-ask of answers without an ETag costs). Per run it reports:

* wall time of the `annexa run` process, next to a baseline: the same request URLs fetched by a bare
  ``requests.Session`` loop in a subprocess (what the imitation and the loopback cost on their own);
* requests counted at the imitation, and the api_calls the store recorded (connector_runs) as a cross-check;
* requests per repository;
* requests GitHub would charge against the rate limit (every answer except 304 Not Modified);
* the re-run's rate-limit cost as a share of the first run's;
* peak RSS of the annexa process and store growth of the unchanged re-run.

Goals (issue 4, "Performance"): at most 3 requests per repository on average on a first sweep; an
unchanged re-run costs at most 10% of the first run's rate-limit budget.

Run: python bench/bench_github.py [--repos 500] [--profile NAME] [--json] [--endpoints]  (--quick: 50 repos)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for entry in (ROOT / "tests", ROOT / "tests" / "providers"):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from providers.github_fixtures import TOKEN, compliant_repo, serve  # noqa: E402
from providers.github_imitation import Estate, Repo, protection, ruleset  # noqa: E402
from stub import Stub  # noqa: E402

ORG = "acme"
GOAL_REQUESTS_PER_REPO = 3.0
GOAL_RERUN_COST_PCT = 10.0

# A bare HTTP client fetching the given URLs one after another: the floor the imitation itself sets.
REPLAY = """
import sys, time, requests
urls = open(sys.argv[1]).read().split()
session = requests.Session()
session.headers["Authorization"] = "token x"
start = time.perf_counter()
for url in urls:
    session.get(url).content
print(time.perf_counter() - start)
"""


def build_estate(repos: int) -> Estate:
    """A deterministic organization with the mix of settings a real one has.

    Per repository i: every 20th archived, every 25th public; classic protection on half, an active
    repository ruleset on a quarter (some also `evaluate`/`disabled` ones), nothing on the rest; CodeQL on
    three in five, CODEOWNERS on seven in ten, a deploy key on one in eight, 1-3 open Dependabot alerts on
    three in ten. Six outside collaborators reach a few repositories each; one of them with admin.
    """
    members = [f"dev{i:03d}" for i in range(max(20, repos // 2))]
    estate = Estate(
        org=ORG,
        members=members,
        owners=members[:3],
        two_factor_disabled=members[5:7],
        outside_collaborators=[f"contractor{i}" for i in range(6)],
        org_rulesets=[ruleset(9001, "evaluate"), ruleset(9002, "disabled")],
        repos=[],
    )
    for i in range(repos):
        name = f"svc-{i:04d}"
        if i % 20 == 19:
            estate.repos.append(Repo(name, archived=True, pushed_at="2023-05-01T10:00:00Z"))
            continue
        repo = compliant_repo(name)
        repo.pushed_at = f"2026-{(i % 11) + 1:02d}-{(i % 27) + 1:02d}T10:00:00Z"
        if i % 25 == 3:
            repo.visibility = "public"
        if i % 4 == 1:
            repo.protection = protection(approvals=2, checks=())
        elif i % 4 == 2:
            repo.protection = None
            repo.rulesets = [ruleset(10_000 + i, "active")]
        elif i % 4 == 3:
            repo.protection = None
            repo.rulesets = [ruleset(10_000 + i, "evaluate")] if i % 8 == 3 else []
        if i % 5 >= 3:
            repo.analyses = []
        repo.codeowners = i % 10 < 7
        if i % 8:
            repo.deploy_keys = []
        if i % 10 in (1, 4, 7):
            repo.alerts = [
                {"number": n + 1, "severity": ("critical", "high", "medium", "low")[(i + n) % 4]}
                for n in range(1 + i % 3)
            ]
        if i % 7 == 0:
            repo.secret_scanning = "disabled"
            repo.push_protection = "disabled"
        estate.repos.append(repo)
    for c, login in enumerate(estate.outside_collaborators):
        for k in range(1 + c % 4):
            repo = estate.repos[(37 * c + 11 * k) % len(estate.repos)]
            admin = c == 0 and k == 0
            repo.collaborators.append(
                {
                    "login": login,
                    "role_name": "admin" if admin else "write",
                    "permissions": {"admin": admin, "maintain": admin, "push": True, "triage": True, "pull": True},
                }
            )
    return estate


def locked_down(estate: Estate) -> Estate:
    estate.actions_policy = {"enabled_repositories": "all", "allowed_actions": "selected"}
    estate.settings["deploy_keys_enabled_for_repositories"] = False
    estate.outside_collaborators = []
    for repo in estate.repos:
        repo.collaborators = []
        if repo.visibility != "public":
            repo.advanced_security = "disabled"
    return estate


def pre_audit(estate: Estate) -> Estate:
    for i, repo in enumerate(estate.repos):
        if i % 5:
            repo.protection, repo.rulesets = None, []
    return estate


PROFILES = {"open": lambda estate: estate, "locked-down": locked_down, "pre-audit": pre_audit}
RUNS = ("first", "rerun", "recheck")


def endpoint(path: str, query: dict[str, Any]) -> str:
    """A request's endpoint with the repository and branch names replaced, plus the query that tells it apart."""
    label = re.sub(rf"^/repos/{ORG}/[^/]+", "/repos/{o}/{r}", path)
    label = re.sub(r"/branches/[^/]+", "/branches/{b}", label)
    label = re.sub(rf"^/orgs/{ORG}", "/orgs/{org}", label)
    extra = [f"{k}={query[k]}" for k in ("role", "filter", "affiliation") if k in query]
    return label + (f"?{'&'.join(extra)}" if extra else "")


def charged(req: Any) -> bool:
    """GitHub counts every answer against the rate limit except 304 (the imitation's cost() rule)."""
    return req.method == "GET" and getattr(req, "status", None) != 304


def store_size(db: Path) -> int:
    conn = sqlite3.connect(db)
    conn.execute("pragma wal_checkpoint(truncate)")
    conn.close()
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if not p.name.endswith(".lock"))


def annexa_run(config: Path, env: dict[str, str], log: Path) -> tuple[float, int, float]:
    """(wall seconds, exit status, peak RSS MiB) of one `annexa run` subprocess."""
    with open(log, "ab") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "collector", "run", "-c", str(config)], env=env, stdout=out, stderr=out
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, proc.returncode, usage.ru_maxrss / 1024


def replay(urls: list[str], tmp: Path) -> float:
    listing = tmp / "urls.txt"
    listing.write_text("\n".join(urls))
    out = subprocess.run([sys.executable, "-c", REPLAY, str(listing)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def bench_profile(profile: str, n_repos: int) -> dict[str, Any]:
    """Three `annexa run`s of one profile: figures per run plus requests per endpoint."""
    estate = PROFILES[profile](build_estate(n_repos))
    stub = Stub()
    stub.start()
    serve(stub, estate)
    runs: dict[str, dict[str, Any]] = {}
    per_endpoint: dict[str, dict[str, Counter[str]]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmpdir:
            tmp = Path(tmpdir)
            db = tmp / "annexa.db"
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_", "ANNEXA_", "AWS_", "OKTA_"))
            }
            env["GITHUB_TOKEN"] = TOKEN
            log = tmp / "annexa.log"
            bytes_before = 0
            first_urls: list[str] = []
            for label in RUNS:
                print(f"bench: {profile}: {label} run ...", file=sys.stderr, flush=True)
                config = tmp / "annexa.yaml"
                config.write_text(
                    "organization: Bench GmbH\n"
                    f"store: {db}\n"
                    "connectors:\n"
                    "  github:\n"
                    f"    organization: {ORG}\n"
                    "    token: ${GITHUB_TOKEN}\n"
                    f"    base_url: {stub.base_url}\n" + ("    recheck_hours: 0\n" if label == "recheck" else "")
                )
                mark = len(stub.log)
                wall, status, rss = annexa_run(config, env, log)
                if status != 0:
                    sys.stderr.write(log.read_text()[-3000:])
                    raise SystemExit(f"bench: annexa run exited {status}")
                requests_ = stub.log[mark:]
                cost = sum(charged(r) for r in requests_)
                size = store_size(db)
                per_endpoint[label] = {
                    "requests": Counter(endpoint(r.path, r.query) for r in requests_),
                    "charged": Counter(endpoint(r.path, r.query) for r in requests_ if charged(r)),
                }
                if label == "first":
                    first_urls = [stub.base_url + r.raw_path for r in requests_]
                runs[label] = {
                    "wall_s": round(wall, 2),
                    "requests": len(requests_),
                    "requests_per_repo": round(len(requests_) / n_repos, 2),
                    "rate_limit_cost": cost,
                    "not_modified_304": len(requests_) - cost,
                    "peak_rss_mib": round(rss, 1),
                    "store_bytes_added": size - bytes_before,
                }
                bytes_before = size
            conn = sqlite3.connect(db)
            rows = conn.execute(
                "select c.api_calls, c.duration_s, c.status, c.evidence_items from connector_runs c "
                "join runs r on r.id = c.run_id where c.connector = 'github' order by r.seq"
            ).fetchall()
            conn.close()
            for run, (api_calls, duration, status_, items) in zip(runs.values(), rows, strict=True):
                run.update(store_api_calls=api_calls, connector_duration_s=round(duration, 2))
                run.update(connector_status=status_, evidence_items=items)
            print(f"bench: {profile}: bare HTTP replay of the first run's URLs ...", file=sys.stderr, flush=True)
            baseline = replay(first_urls, tmp)
    finally:
        stub.stop()

    first = runs["first"]
    out: dict[str, Any] = {
        "repositories": n_repos,
        "archived": sum(r.archived for r in estate.repos),
        "members": len(estate.members),
        "outside_collaborators": len(estate.outside_collaborators),
        "open_dependabot_alerts": sum(len(r.alerts) for r in estate.repos),
    }
    for label, run in runs.items():
        for key, value in run.items():
            out[f"{label}_{key}"] = value
    out["first_bare_http_replay_s"] = round(baseline, 2)
    out["first_wall_vs_bare_http_replay"] = round(first["wall_s"] / baseline, 2)
    for label in ("rerun", "recheck"):
        out[f"{label}_cost_pct_of_first"] = round(100 * runs[label]["rate_limit_cost"] / first["rate_limit_cost"], 1)
    out["rerun_store_growth_ratio"] = round(runs["rerun"]["store_bytes_added"] / first["store_bytes_added"], 4)
    out["goal_first_requests_per_repo_le_3"] = first["requests_per_repo"] <= GOAL_REQUESTS_PER_REPO
    out["goal_rerun_cost_le_10pct"] = out["rerun_cost_pct_of_first"] <= GOAL_RERUN_COST_PCT
    names = sorted(set().union(*(per_endpoint[label]["requests"] for label in RUNS)))
    out["endpoints"] = {
        name: {f"{label}_{what}": per_endpoint[label][what][name] for label in RUNS for what in ("requests", "charged")}
        for name in names
    }
    return out


def print_profile(profile: str, out: dict[str, Any], endpoints: bool) -> None:
    shown = dict(out)
    table = shown.pop("endpoints")
    shown["goal_first_requests_per_repo_le_3"] = (
        f"{'MET' if out['goal_first_requests_per_repo_le_3'] else 'NOT MET'} "
        f"({out['first_requests_per_repo']} requests/repo, goal <= {GOAL_REQUESTS_PER_REPO:g})"
    )
    shown["goal_rerun_cost_le_10pct"] = (
        f"{'MET' if out['goal_rerun_cost_le_10pct'] else 'NOT MET'} "
        f"({out['rerun_cost_pct_of_first']}% of the first run's rate-limit cost, goal <= {GOAL_RERUN_COST_PCT:g}%)"
    )
    print(f"== profile {profile}")
    width = max(map(len, shown))
    for key, value in shown.items():
        print(f"{key.ljust(width)}  {value}")
    if endpoints:
        print()
        width = max(map(len, table))
        head = ("first", "charged", "rerun", "charged", "recheck", "charged")
        print(f"{'endpoint'.ljust(width)}  " + "  ".join(h.rjust(7) for h in head))
        for name, counts in table.items():
            print(f"{name.ljust(width)}  " + "  ".join(str(v).rjust(7) for v in counts.values()))
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repos", type=int, default=500, help="repositories in the organization (default 500)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 50 repositories")
    parser.add_argument(
        "--profile", choices=[*PROFILES, "all"], default="all", help="organization profile (default all)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--endpoints", action="store_true", help="also print requests per endpoint and run")
    args = parser.parse_args()
    n_repos = 50 if args.quick else args.repos
    profiles = list(PROFILES) if args.profile == "all" else [args.profile]
    results = {profile: bench_profile(profile, n_repos) for profile in profiles}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for profile, out in results.items():
        print_profile(profile, out, args.endpoints)
    print("summary: first-sweep requests/repo, unchanged re-run cost, re-run with every 404 re-asked (recheck)")
    for profile, out in results.items():
        print(
            f"  {profile.ljust(12)} {out['first_requests_per_repo']:>5} req/repo   "
            f"rerun {out['rerun_cost_pct_of_first']:>5}%   recheck {out['recheck_cost_pct_of_first']:>5}%"
        )


if __name__ == "__main__":
    main()
