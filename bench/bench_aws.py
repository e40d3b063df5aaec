"""AWS connector benchmark: `annexa run` over a seeded moto estate of about 1,000 resources, run twice.

A moto server (ThreadedMotoServer on 127.0.0.1, in this process) is seeded through boto3 over HTTP with
the mixed estate of tests/providers/aws_estate.py plus bulk resources in two regions: IAM users (access
keys on all, console passwords on half, a virtual MFA device on a third), S3 buckets, security groups,
KMS keys and RDS instances. `annexa run` (a subprocess, `python -m collector run -c ...`, aws connector,
fake credentials, AWS_ENDPOINT_URL at moto, regions limited to the seeded two) then runs twice over one
store. Reports, for each run: wall time, API calls (``connector_runs.api_calls`` in the store, and the
requests moto received, counted by the WSGI middleware of tests/providers/aws_moto.py), peak RSS of the
annexa process; and the bytes the unchanged second run adds to the store.

With ``--prowler PATH`` (a `prowler` executable in its own venv) the same estate, on the same moto
server, is scanned by ``prowler aws --compliance iso27001_2022_aws -f <regions>
--aws-retries-max-attempts 0``, measured the same way, and the ratios are printed (issue 3's goal:
Annexa at least 5x faster, at most a third of Prowler's peak memory).

Run: python bench/bench_aws.py [--resources 1000 | --quick] [--prowler /tmp/prowler-venv/bin/prowler] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "providers"), str(REPO)]

# moto reads these when its EC2 backend is imported: no AMI catalogue (issue 3's Prowler setup).
_AMIS = Path(tempfile.mkdtemp(prefix="bench-aws-amis-")) / "amis.json"
_AMIS.write_text("[]")
os.environ["MOTO_AMIS_PATH"] = str(_AMIS)
os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
# Fake credentials only; nothing may pick up a developer's real AWS configuration.
for _key in [k for k in os.environ if k.startswith("AWS_")]:
    del os.environ[_key]
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
)

import boto3  # noqa: E402
from aws_estate import BAD, GOOD, Estate, access_analyzer, seed_compute, seed_iam, seed_logging, seed_s3  # noqa: E402
from aws_moto import FaultyMoto  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402
from stub import Stub  # noqa: E402

REGIONS = (GOOD, BAD)
# Shares of the bulk resources (they add up to 1).
SHARES = {"users": 0.30, "buckets": 0.25, "security_groups": 0.25, "kms_keys": 0.15, "rds_instances": 0.05}
TIME_BIN = "/usr/bin/time"
# moto prints a line to stdout for every request to a service it lacks (Prowler sends some): main()
# sends stdout here while the server runs, keeping the table and the JSON clean; the lines are counted.
MOTO_STDOUT = io.StringIO()
UNSUPPORTED = "Unable to find appropriate backend for "


# --------------------------------------------------------------------------- seeding


def seed_bulk(total: int) -> dict[str, int]:
    """About ``total`` resources on top of the mixed estate, spread over both regions."""
    counts = {kind: max(1, round(total * share)) for kind, share in SHARES.items()}
    iam = boto3.client("iam", region_name=GOOD)
    for i in range(counts["users"]):
        name = f"bench-user-{i:04d}"
        iam.create_user(UserName=name)
        iam.create_access_key(UserName=name)
        if i % 2 == 0:
            iam.create_login_profile(UserName=name, Password="Correct-Horse-9")
        if i % 3 == 0:
            serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{name}-mfa")["VirtualMFADevice"][
                "SerialNumber"
            ]
            iam.enable_mfa_device(
                UserName=name, SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
            )
    s3 = {r: boto3.client("s3", region_name=r) for r in REGIONS}
    for i in range(counts["buckets"]):
        region = REGIONS[i % 2]
        name = f"bench-bucket-{i:04d}"
        kwargs: dict[str, Any] = (
            {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        s3[region].create_bucket(Bucket=name, **kwargs)
        if i % 2 == 0:
            s3[region].put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if i % 3 == 0:
            s3[region].put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
            )
    ec2 = {r: boto3.client("ec2", region_name=r) for r in REGIONS}
    ports = (22, 443, 3389, 5432, 8080)
    for i in range(counts["security_groups"]):
        region = REGIONS[i % 2]
        group = ec2[region].create_security_group(GroupName=f"bench-sg-{i:04d}", Description="bench")["GroupId"]
        cidr = "0.0.0.0/0" if i % 4 == 0 else "10.0.0.0/8"
        port = ports[i % len(ports)]
        ec2[region].authorize_security_group_ingress(
            GroupId=group,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr}]}],
        )
    kms = {r: boto3.client("kms", region_name=r) for r in REGIONS}
    for i in range(counts["kms_keys"]):
        region = REGIONS[i % 2]
        key = kms[region].create_key(Description=f"bench-key-{i:04d}")["KeyMetadata"]["KeyId"]
        if i % 2 == 0:
            kms[region].enable_key_rotation(KeyId=key)
    rds = {r: boto3.client("rds", region_name=r) for r in REGIONS}
    for i in range(counts["rds_instances"]):
        region = REGIONS[i % 2]
        rds[region].create_db_instance(
            DBInstanceIdentifier=f"bench-db-{i:04d}",
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            MasterUsername="admin",
            MasterUserPassword="password123",
            AllocatedStorage=20,
            StorageEncrypted=i % 2 == 0,
            BackupRetentionPeriod=7 if i % 3 else 1,
            PubliclyAccessible=i % 5 == 0,
        )
    return counts


def seed(total: int) -> dict[str, int]:
    estate = Estate()
    seed_iam(estate)  # the mixed estate of the tests: trails, Config, GuardDuty, flow logs, ...
    seed_s3(estate)
    seed_logging(estate)
    seed_compute(estate)
    counts = seed_bulk(total)
    counts["mixed_estate"] = len(estate.ids)
    return counts


# --------------------------------------------------------------------------- measuring


def measured(cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> dict[str, Any]:
    """Runs ``cmd``; wall time, peak RSS of the process (GNU time -v, else getrusage) and exit status."""
    wrapped = [TIME_BIN, "-v", *cmd] if os.path.exists(TIME_BIN) else cmd
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.run(wrapped, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, timeout=3600)
    wall = time.perf_counter() - start
    text = log.read_text(errors="replace")
    peak_kib = None
    if wrapped[0] == TIME_BIN:
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
        peak_kib = int(match.group(1)) if match else None
    if peak_kib is None:
        # ru_maxrss of children is a high-water mark over every child so far: only exact if this one is the largest.
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        peak_kib = after if after > before else None
    return {
        "wall_s": round(wall, 2),
        "peak_rss_mib": round(peak_kib / 1024, 1) if peak_kib else None,
        "exit": proc.returncode,
    }


def store_bytes(db: Path) -> int:
    conn = sqlite3.connect(db)
    conn.execute("pragma wal_checkpoint(truncate)")
    conn.close()
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if not p.name.endswith(".lock"))


def connector_run(db: Path) -> dict[str, Any]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    row = conn.execute(
        "select c.* from connector_runs c join runs r on r.id = c.run_id where c.connector = 'aws' "
        "order by r.rowid desc limit 1"
    ).fetchone()
    conn.close()
    return dict(row)


def requests_seen(front: FaultyMoto, analyzer: Stub) -> int:
    with analyzer.lock:
        return len(front.calls()) + len(analyzer.log)


def clear_requests(front: FaultyMoto, analyzer: Stub) -> None:
    front.clear_calls()
    with analyzer.lock:
        analyzer.log.clear()


def annexa_runs(env: dict[str, str], front: FaultyMoto, analyzer: Stub, work: Path) -> dict[str, Any]:
    config = work / "annexa.yaml"
    db = work / "annexa.db"
    config.write_text(f"organization: Bench\nstore: {db}\nconnectors:\n  aws:\n    regions: [{', '.join(REGIONS)}]\n")
    env = {**env, "PYTHONPATH": str(REPO), "HOME": str(work)}
    out: dict[str, Any] = {}
    previous = 0
    for n in (1, 2):
        clear_requests(front, analyzer)
        result = measured(
            [sys.executable, "-m", "collector", "run", "-c", str(config)], env, work, work / f"annexa-{n}.log"
        )
        requests = requests_seen(front, analyzer)
        row = connector_run(db)
        size = store_bytes(db)
        kinds = json.loads(row["kinds"] or "{}")
        errors = [f"{kind}: {e}" for kind, v in sorted(kinds.items()) for e in v["errors"]]
        out[f"run{n}"] = {
            **result,
            "status": row["status"],
            "evidence_items": row["evidence_items"],
            "api_calls": row["api_calls"],
            "server_requests": requests,
            "connector_duration_s": row["duration_s"],
            "kind_errors": len(errors),
            "store_bytes": size,
        }
        if n == 1:
            out["error_sample"] = [str(e)[:160] for e in errors[:3]]
        else:
            out["store_growth_unchanged_rerun_bytes"] = size - previous
            out["store_growth_ratio"] = round((size - previous) / previous, 4)
        previous = size
    return out


def prowler_run(prowler: str, env: dict[str, str], front: FaultyMoto, analyzer: Stub, work: Path) -> dict[str, Any]:
    home = work / "prowler-home"
    output = work / "prowler-output"
    home.mkdir()
    env = {
        **env,
        "HOME": str(home),
        "PATH": f"{Path(prowler).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("PYTHONPATH", None)
    cmd = [
        prowler,
        "aws",
        "--compliance",
        "iso27001_2022_aws",
        "-f",
        *REGIONS,
        "--aws-retries-max-attempts",
        "0",
        "--no-banner",
        "-o",
        str(output),
    ]
    clear_requests(front, analyzer)
    unsupported_before = MOTO_STDOUT.getvalue().count(UNSUPPORTED)
    result = measured(cmd, env, work, work / "prowler.log")
    result["requests_to_services_moto_lacks"] = MOTO_STDOUT.getvalue().count(UNSUPPORTED) - unsupported_before
    calls = front.calls()
    result["server_requests"] = requests_seen(front, analyzer)
    result["top_operations"] = Counter(c.operation for c in calls).most_common(5)
    result["log_tail"] = (work / "prowler.log").read_text(errors="replace").splitlines()[-25:]
    findings = sorted(output.rglob("*.csv"))
    result["output_files"] = len(findings)
    return result


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--resources", type=int, default=1000, help="bulk resources to seed (default 1000)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 100 resources")
    parser.add_argument("--prowler", help="path of a `prowler` executable (its own venv) to compare against")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, store, Prowler output)")
    args = parser.parse_args()
    total = 100 if args.quick else args.resources

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"  # seeding goes straight to ThreadedMotoServer
    front = FaultyMoto()  # same process-wide moto backends; counts every request the measured tools send
    # moto has no Access Analyzer: both tools read it from the tests' imitation (an analyzer, one finding).
    analyzer = Stub()
    analyzer.start()
    env = {**os.environ, "AWS_ENDPOINT_URL": front.url, "AWS_ENDPOINT_URL_ACCESSANALYZER": access_analyzer(analyzer)}

    work = Path(tempfile.mkdtemp(prefix="bench-aws-"))
    out: dict[str, Any] = {"regions": list(REGIONS)}
    real_stdout, sys.stdout = sys.stdout, MOTO_STDOUT
    try:
        start = time.perf_counter()
        counts = seed(total)
        out["seeded"] = counts
        out["seeded_resources"] = sum(v for k, v in counts.items() if k != "mixed_estate") + counts["mixed_estate"]
        out["seed_s"] = round(time.perf_counter() - start, 1)
        seed_requests = len(front.calls())  # none: seeding used the other front door
        assert seed_requests == 0, seed_requests
        out["annexa"] = annexa_runs(env, front, analyzer, work)
        if args.prowler:
            out["prowler"] = prowler_run(args.prowler, env, front, analyzer, work)
            a, p = out["annexa"]["run1"], out["prowler"]
            out["comparison"] = {
                "annexa_faster_x": round(p["wall_s"] / a["wall_s"], 2) if a["wall_s"] else None,
                "annexa_memory_share_of_prowler": (
                    round(a["peak_rss_mib"] / p["peak_rss_mib"], 3) if a["peak_rss_mib"] and p["peak_rss_mib"] else None
                ),
                "prowler_vs_annexa_requests_x": (
                    round(p["server_requests"] / a["server_requests"], 2) if a["server_requests"] else None
                ),
                "goal": "annexa_faster_x >= 5 and annexa_memory_share_of_prowler <= 0.333",
            }
    finally:
        sys.stdout = real_stdout
        analyzer.stop()
        front.stop()
        server.stop()
        if args.keep:
            out["work_dir"] = str(work)
        else:
            shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(_AMIS.parent, ignore_errors=True)

    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print_table(out)
    return 0


def print_table(out: dict[str, Any]) -> None:
    rows: list[tuple[str, Any]] = [
        ("regions", ", ".join(out["regions"])),
        ("seeded_resources", out["seeded_resources"]),
        ("seeded", " ".join(f"{k}={v}" for k, v in out["seeded"].items())),
        ("seed_s", out["seed_s"]),
    ]
    a = out["annexa"]
    for n in ("run1", "run2"):
        r = a[n]
        label = "annexa first run" if n == "run1" else "annexa unchanged re-run"
        rows += [
            (f"{label}: wall_s", r["wall_s"]),
            (f"{label}: connector_duration_s", r["connector_duration_s"]),
            (f"{label}: api_calls (store)", r["api_calls"]),
            (f"{label}: server_requests", r["server_requests"]),
            (f"{label}: peak_rss_mib", r["peak_rss_mib"]),
            (f"{label}: evidence_items", r["evidence_items"]),
            (f"{label}: status / kind errors / exit", f"{r['status']} / {r['kind_errors']} / {r['exit']}"),
        ]
    rows += [
        ("store_first_run_bytes", a["run1"]["store_bytes"]),
        ("store_growth_unchanged_rerun_bytes", a["store_growth_unchanged_rerun_bytes"]),
        ("store_growth_ratio", a["store_growth_ratio"]),
    ]
    for line in a.get("error_sample", []):
        rows.append(("annexa kind error", line))
    if "prowler" in out:
        p = out["prowler"]
        rows += [
            ("prowler: wall_s", p["wall_s"]),
            ("prowler: server_requests", p["server_requests"]),
            ("prowler: requests to services moto lacks", p["requests_to_services_moto_lacks"]),
            ("prowler: peak_rss_mib", p["peak_rss_mib"]),
            ("prowler: exit / output csv files", f"{p['exit']} / {p['output_files']}"),
        ]
        c = out["comparison"]
        rows += [
            ("annexa faster than prowler (x)", c["annexa_faster_x"]),
            ("annexa peak memory / prowler's", c["annexa_memory_share_of_prowler"]),
            ("prowler requests / annexa's", c["prowler_vs_annexa_requests_x"]),
            ("goal", c["goal"]),
        ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")
    if "prowler" in out and out["prowler"]["exit"] not in (0, 3):
        print("\nprowler log tail:")
        print("\n".join(out["prowler"]["log_tail"]))


if __name__ == "__main__":
    sys.exit(main())
