"""Okta connector benchmark: a 10,000-user organization on the local imitation, `annexa run` twice.

The organization (tests/providers/okta_estate.py ``bulk_org`` plus more groups, admin role holders,
second and pending factors and System Log history) is served by the local Okta imitation
(tests/providers/okta_imitation.py) on 127.0.0.1. The real connector is driven the way a run does:
``python -m collector run -c annexa.yaml`` in a subprocess, token from the environment, twice over one
store, nothing changed in between. Reported per run: wall time, API calls (the store's
``connector_runs.api_calls`` and the requests the imitation answered), factor calls, 429s, peak RSS; the
unchanged re-run's calls as a share of the first run's (issue 5 goal: at most 5%), the store growth of
the re-run, and the time both runs would take at Okta's published per-minute rate limits.

Rate-limit headers: the imitation as shipped sends a fixed ``X-Rate-Limit-Remaining`` (it never goes
down), so the connector never has to pace. Unless ``--rate-window 0``, this benchmark wraps each API
route in a per-endpoint bucket that behaves like Okta's: ``X-Rate-Limit-Limit`` is the published
per-minute limit of that endpoint (times the token's share), ``Remaining`` counts down, ``Reset`` is
the end of the current window, and an exhausted bucket answers 429 E0000047. To finish in minutes, one
window lasts ``--rate-window`` seconds instead of 60 (time compressed accordingly).

Run: python bench/bench_okta.py [--users 10000] [--quick] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "providers"), str(ROOT)]

from providers.okta_estate import bulk_org, role  # noqa: E402
from providers.okta_imitation import RATE_LIMITED, TOKEN, OktaImitation, OktaOrg, factor  # noqa: E402
from stub import Request, Stub  # noqa: E402

ESTATE_USERS = 10  # build_org's own users; bulk_org adds the rest
FACTORS = r"/api/v1/users/[^/]+/factors"

# Okta's published management rate limits, requests per minute, column "Enterprise" of
# https://developer.okta.com/docs/reference/rl-global-mgmt/ (as read for this benchmark; check your org's
# rate limit dashboard). ASSUMPTION: /users/{id}/factors, /users/{id}/roles, /iam/assignees/users,
# /policies* and /authenticators have no row of their own there and fall under "Most other API actions:
# /api/v1", each endpoint with its own bucket.
PUBLISHED_LIMITS: list[tuple[str, str, int]] = [
    # (bucket, path regex, requests per minute)
    ("GET /api/v1/users (list)", r"/api/v1/users", 600),
    ("GET /api/v1/users/{id}", r"/api/v1/users/[^/]+", 1000),
    ("GET /api/v1/users/{id}/factors", FACTORS, 600),
    ("GET /api/v1/users/{id}/roles", r"/api/v1/users/[^/]+/roles", 600),
    ("GET /api/v1/iam/assignees/users", r"/api/v1/iam/assignees/users", 600),
    ("GET /api/v1/groups", r"/api/v1/groups", 600),
    ("GET /api/v1/policies", r"/api/v1/policies", 600),
    ("GET /api/v1/policies/{id}/rules", r"/api/v1/policies/[^/]+/rules", 600),
    ("GET /api/v1/authenticators", r"/api/v1/authenticators", 600),
    ("GET /api/v1/apps", r"/api/v1/apps", 100),
    ("GET /api/v1/logs", r"/api/v1/logs", 50),
]
# ASSUMPTION: Okta gives an API token created in the Admin Console 50% of each endpoint's limit by default.
DEFAULT_TOKEN_SHARE = 0.5
OTHER = ("other /api/v1", r"/api/v1/.*", 600)
_COMPILED = [(name, re.compile(rx + "$"), limit) for name, rx, limit in [*PUBLISHED_LIMITS, OTHER]]


def bucket_of(path: str) -> tuple[str, int]:
    for name, rx, limit in _COMPILED:
        if rx.match(path):
            return name, limit
    return OTHER[0], OTHER[2]


class RateLimitedImitation(OktaImitation):
    """The imitation with one Okta-like rate-limit bucket per endpoint; a window lasts ``window`` seconds."""

    def __init__(self, stub: Stub, org: OktaOrg, window: int, share: float) -> None:
        self.window, self.share = window, share
        self.buckets: dict[str, tuple[int, int]] = {}  # bucket -> (window start, requests in it)
        self.refused = 0
        self._rate_lock = threading.Lock()
        super().__init__(stub, org)

    def _guard(self, handler: Any) -> Any:
        inner = super()._guard(handler)

        def wrapped(req: Request, **groups: str) -> Any:
            name, per_minute = bucket_of(req.path)
            limit = max(1, int(per_minute * self.share))
            now = time.time()
            start = int(now // self.window) * self.window
            with self._rate_lock:
                begun, used = self.buckets.get(name, (start, 0))
                used = used + 1 if begun == start else 1
                self.buckets[name] = (start, used)
            headers = {
                "X-Rate-Limit-Limit": str(limit),
                "X-Rate-Limit-Remaining": str(max(0, limit - used)),
                "X-Rate-Limit-Reset": str(start + self.window),
            }
            if used > limit:
                with self._rate_lock:
                    self.refused += 1
                return 429, headers, RATE_LIMITED
            out = inner(req, **groups)
            status, answer_headers, body = out if isinstance(out, tuple) else (200, {}, out)
            return status, {**answer_headers, **headers}, body

        return wrapped


def build_estate(now: datetime, users: int) -> OktaOrg:
    """``bulk_org`` grown into a plausible organization of ``users`` users (at least build_org's 10)."""
    bulk = max(0, users - ESTATE_USERS)
    org = bulk_org(now, bulk)
    for n in range(bulk):
        uid = f"00u2bulk{n:010d}"
        if n % 5 == 0:  # a second, phishing-resistant factor
            org.factors[uid].append(factor(f"fbulkw{n}", "webauthn", provider="FIDO"))
        if n % 50 == 7:  # an enrolment never finished
            org.factors[uid].append(factor(f"fbulkp{n}", "sms", status="PENDING_ACTIVATION"))
        if n % 500 == 3:  # about 0.2% of users hold an admin role
            kind = ("ORG_ADMIN", "HELP_DESK_ADMIN", "READ_ONLY_ADMIN", "APP_ADMIN")[(n // 500) % 4]
            org.role_assignments[uid] = [role(f"rab{n}", kind, kind.replace("_", " ").title())]
    for g in range(max(1, users // 50)):
        org.groups.append(
            {
                "id": f"00g2bulk{g:011d}",
                "type": "OKTA_GROUP",
                "created": "2024-02-01T00:00:00.000Z",
                "lastMembershipUpdated": "2026-01-01T00:00:00.000Z",
                "profile": {"name": f"team-{g:04d}", "description": None},
                "_links": {},
            }
        )
    # System Log history from before the first run: sign-ins and factor enrolments, older than any re-run window.
    for n in range(max(1, users // 10)):
        uid = org.users[n % len(org.users)]["id"]
        kind = "user.mfa.factor.activate" if n % 4 == 0 else "user.session.start"
        org.log_event(kind, uid, now - timedelta(days=2, minutes=n % 1440))
    return org


def size_of(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if not p.name.endswith(".lock"))


def checkpoint(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        conn.execute("pragma wal_checkpoint(truncate)")
    finally:
        conn.close()


def at_published_limits(counts: dict[str, int], share: float) -> tuple[float, str]:
    """Minutes the requests need at the published per-minute limits: calls / limit per bucket, buckets
    consumed one after the other (the connector reads them phase by phase); the dominant bucket."""
    limits = {name: limit for name, _, limit in [*PUBLISHED_LIMITS, OTHER]}
    minutes = {name: n / max(1, int(limits[name] * share)) for name, n in counts.items()}
    top = max(minutes, key=lambda name: minutes[name]) if minutes else "-"
    return sum(minutes.values()), top


def run_annexa(config: Path, env: dict[str, str], workdir: Path, label: str) -> dict[str, Any]:
    rss_file = workdir / f"rss-{label}.txt"
    command = [sys.executable, "-m", "collector", "run", "-c", str(config)]
    timer = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    if timer:
        command = [timer, "-f", "%M", "-o", str(rss_file), *command]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: the run completed with failing checks
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"annexa run ({label}) exited with {done.returncode}")
    if timer and rss_file.exists():
        rss_kib = int(rss_file.read_text().split()[-1])
    else:
        rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        rss_kib = rss_kib if rss_kib > before else 0
    if TOKEN in done.stdout or TOKEN in done.stderr:
        raise SystemExit(f"the token appeared in the output of annexa run ({label})")
    return {"wall_s": wall, "rss_kib": rss_kib, "stdout": done.stdout, "stderr": done.stderr, "rc": done.returncode}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000, help="users in the organization (default 10000)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: --users 1000")
    parser.add_argument(
        "--rate-window",
        type=int,
        default=1,
        help="seconds that stand for Okta's one-minute rate-limit window at the imitation (0: the imitation's "
        "own fixed headers, no limiting)",
    )
    parser.add_argument(
        "--token-share",
        type=float,
        default=DEFAULT_TOKEN_SHARE,
        help="share of each endpoint's limit the API token gets (Okta's default for new tokens: 0.5)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (store, config)")
    args = parser.parse_args()
    users = 1000 if args.quick else args.users

    now = datetime.now(UTC)
    org = build_estate(now, users)
    stub = Stub()
    if args.rate_window > 0:
        imitation: OktaImitation = RateLimitedImitation(stub, org, args.rate_window, args.token_share)
    else:
        imitation = OktaImitation(stub, org)
    stub.start()
    tmp = Path(tempfile.mkdtemp(prefix="bench-okta-"))
    out: dict[str, Any] = {
        "users": len(org.users),
        "users_with_factor_calls": sum(1 for u in org.users if u["status"] != "DEPROVISIONED"),
        "groups": len(org.groups),
        "admin_role_holders": len(org.role_assignments),
        "system_log_events": len(org.logs),
        "rate_limits_at_imitation": (
            f"per endpoint, Okta Enterprise limits x {args.token_share:g}, 1 min = {args.rate_window} s"
            if args.rate_window > 0
            else "imitation default (fixed headers, never limits)"
        ),
    }
    try:
        db = tmp / "annexa.db"
        config = tmp / "annexa.yaml"
        config.write_text(
            "organization: Bench GmbH\n"
            f"store: {db}\n"
            "connectors:\n"
            "  okta:\n"
            f"    org_url: {stub.base_url}\n"
            "    token: ${OKTA_API_TOKEN}\n"
        )
        env = {**os.environ, "OKTA_API_TOKEN": TOKEN, "NO_COLOR": "1"}
        env.pop("ANNEXA_CONFIG", None)
        runs: list[dict[str, Any]] = []
        sizes = [0]
        for label in ("first", "rerun"):
            if label == "rerun":
                # Sign-ins happen between the runs, but nothing that touches factors or lifecycles.
                for n in range(min(50, len(org.users))):
                    org.log_event("user.session.start", org.users[n]["id"], datetime.now(UTC))
            seen = len(stub.log)
            refused = getattr(imitation, "refused", 0)
            result = run_annexa(config, env, tmp, label)
            requests = [r for r in stub.log[seen:] if r.path.startswith("/api/v1/")]
            result["imitation_requests"] = len(requests)
            result["factor_calls"] = sum(1 for r in requests if re.fullmatch(FACTORS, r.path))
            result["log_calls"] = sum(1 for r in requests if r.path == "/api/v1/logs")
            result["answered_429"] = getattr(imitation, "refused", 0) - refused
            counts: dict[str, int] = {}
            for r in requests:
                name = bucket_of(r.path)[0]
                counts[name] = counts.get(name, 0) + 1
            result["by_bucket"] = counts
            checkpoint(db)
            sizes.append(size_of(db))
            runs.append(result)
        conn = sqlite3.connect(db)
        rows = conn.execute(
            "select c.api_calls, c.duration_s, c.status, c.evidence_items from connector_runs c "
            "join runs r on r.id = c.run_id where c.connector = 'okta' order by r.seq"
        ).fetchall()
        # After the re-run: where each current user item's factors came from (fresh, carried_over, ...).
        sources = {
            str(source): count
            for source, count in conn.execute(
                "select json_extract(b.data, '$.factors_source'), count(*) from evidence e "
                "join blobs b on b.hash = e.hash where e.kind = 'okta.user' and e.valid_to is null group by 1"
            )
        }
        conn.close()
        if len(rows) != 2:
            raise SystemExit(f"expected two okta connector runs in the store, found {len(rows)}")
    finally:
        stub.stop()
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    first, rerun = runs
    for label, run, (calls, duration, status, items) in zip(("first", "rerun"), runs, rows, strict=True):
        out[f"{label}_status"] = status
        out[f"{label}_wall_s"] = round(run["wall_s"], 2)
        out[f"{label}_connector_duration_s"] = round(duration, 2)
        out[f"{label}_api_calls_store"] = calls
        out[f"{label}_requests_at_imitation"] = run["imitation_requests"]
        out[f"{label}_factor_calls"] = run["factor_calls"]
        out[f"{label}_system_log_calls"] = run["log_calls"]
        out[f"{label}_answered_429"] = run["answered_429"]
        out[f"{label}_evidence_items"] = items
        out[f"{label}_peak_rss_mib"] = round(run["rss_kib"] / 1024, 1)
    out["rerun_calls_vs_first_pct"] = round(100 * rows[1][0] / rows[0][0], 2)
    out["rerun_calls_goal_pct"] = 5
    out["rerun_factor_calls_vs_first_pct"] = round(100 * rerun["factor_calls"] / max(1, first["factor_calls"]), 2)
    out["rerun_wall_vs_first_pct"] = round(100 * rerun["wall_s"] / first["wall_s"], 1)
    if sources:
        out["rerun_user_factors_by_source"] = sources
    out["store_first_run_bytes"] = sizes[1]
    out["store_growth_rerun_bytes"] = sizes[2] - sizes[1]
    out["store_growth_rerun_pct"] = round(100 * (sizes[2] - sizes[1]) / sizes[1], 2)
    out["store_growth_note"] = (
        "the first re-run after a full sweep changes every user item once (factors_source fresh -> carried_over)"
    )
    # What the same requests would cost against a real org at Okta's published limits.
    out["assumed_limits_per_min"] = {name: limit for name, _, limit in PUBLISHED_LIMITS}
    out["assumed_limits_note"] = (
        "ASSUMPTIONS: Okta 'Enterprise' per-minute limits (developer.okta.com/docs/reference/rl-global-mgmt); "
        "/users/{id}/factors, /roles, /iam/assignees, /policies, /authenticators under 'Most other API actions' "
        "(600/min, Workforce Identity orgs: 1,200); API token at 50% of each limit (Okta's default for new "
        "tokens); estimate = sum over endpoints of calls / (limit x share), no concurrency limit, no local time"
    )
    for share in (args.token_share, 1.0) if args.token_share != 1.0 else (1.0,):
        tag = f"token_{round(share * 100)}pct"
        first_min, top = at_published_limits(first["by_bucket"], share)
        rerun_min, _ = at_published_limits(rerun["by_bucket"], share)
        out[f"first_sweep_at_published_limits_min_{tag}"] = round(first_min, 1)
        out[f"rerun_at_published_limits_min_{tag}"] = round(rerun_min, 2)
        out[f"first_sweep_dominant_bucket_{tag}"] = top
    out["first_requests_by_bucket"] = first["by_bucket"]
    out["rerun_requests_by_bucket"] = rerun["by_bucket"]

    if args.json:
        print(json.dumps(out, indent=2))
        return
    width = max(map(len, out))
    for key, value in out.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        print(f"{key.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
