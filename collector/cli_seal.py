"""`annexa verify` and `annexa keygen`: prove that nothing in the store changed after a run was published."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .cli import PROG, _table, cli, config_option, format_option
from .exit_codes import VERIFY_FAILED


@cli.command()
@click.argument("pack", required=False, type=click.Path(dir_okay=False, path_type=Path))
@config_option
@click.option("--run", "run_ref", metavar="ID", help="Verify this run (and the chain up to it) only.")
@click.option("--all", "all_runs", is_flag=True, help="Verify every published run (the default).")
@click.option(
    "--public-key",
    "public_key",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also check every seal's Ed25519 signature with this public key (PEM).",
)
@format_option(("table", "json"), "table")
def verify(
    pack: Path | None, config: str | None, run_ref: str | None, all_runs: bool, public_key: Path | None, fmt: str
) -> None:
    """Recompute every run's seal from the stored evidence bodies, results and manual evidence files, and
    the chain between runs; exit 5 at the first run that does not match (docs/verify.md). With PACK (an
    auditor pack ZIP), check that pack offline instead: its files, manifest, seal and signature."""
    from .operations import open_store_for_reading
    from .signing import load_public_key
    from .verify import verify as verify_store
    from .yamlload import InputError

    if run_ref and all_runs:
        raise InputError("--run", None, "", "give --run ID or --all, not both")
    key = load_public_key(public_key) if public_key else None
    if pack is not None:
        _verify_pack(pack, key, fmt)
        return
    with open_store_for_reading(config) as store:
        if not store.has_seals() and not store.readonly:
            store.acquire_lock()  # the migration seals the runs of an older store, once, after the fact
            store.release_lock()
        try:
            result = verify_store(store, run_ref, key)
        except LookupError as exc:
            raise InputError(str(store.path), None, "", str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps(result.as_json(), indent=2))
    else:
        rows = [
            [
                v.run,
                v.seq,
                (v.sealed_at or "-") + (" (after the fact)" if v.after_the_fact else ""),
                v.signed_by or "-",
                "ok" if v.ok else v.problems[0],
            ]
            for v in result.runs
        ]
        click.echo(_table(["run", "seq", "sealed", "signed by", "result"], rows))
    failure = result.first_failure
    if failure is not None:
        more = f" (and {len(failure.problems) - 1} more in that run)" if len(failure.problems) > 1 else ""
        click.echo(
            f"{PROG}: verification failed at run {failure.run} (seq {failure.seq}): {failure.problems[0]}{more}",
            err=True,
        )
        sys.exit(VERIFY_FAILED)
    after = sum(1 for v in result.runs if v.after_the_fact)
    note = f"; {after} sealed after the fact, when this release first opened the store" if after else ""
    signed = f", signatures checked with key {result.public_key}" if result.public_key else ""
    if fmt == "table":
        click.echo(f"{len(result.runs)} run(s) verified: every seal and the chain match{signed}{note}")


def _verify_pack(pack: Path, key: Any, fmt: str) -> None:
    from .export.verify_pack import PackUnreadable, verify_pack

    try:
        result = verify_pack(pack, key)
    except PackUnreadable as exc:
        click.echo(f"{PROG}: {exc}", err=True)
        sys.exit(VERIFY_FAILED)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
    if not result["ok"]:
        for problem in result["problems"][:20]:
            click.echo(f"{PROG}: {pack}: {problem}", err=True)
        sys.exit(VERIFY_FAILED)
    if fmt == "table":
        signed = f"; signed by key {result['signed_by']}" if result["signed_by"] else ""
        if result["signed"] and not result["signed_by"]:
            signed = "; signed (give --public-key FILE to check the signature)"
        click.echo(f"{pack}: {result['files']} files match the manifest, run {result['run']}, seal intact{signed}")


@cli.command()
@click.option(
    "--out",
    "out",
    default="annexa-seal",
    show_default=True,
    metavar="PATH",
    help="Writes PATH.pem (the private key, mode 600) and PATH.pub.pem.",
)
def keygen(out: str) -> None:
    """Write an Ed25519 key pair for signing seals; never overwrites a key."""
    from .signing import write_key_pair

    private, public = Path(out + ".pem"), Path(out + ".pub.pem")
    key_id = write_key_pair(private, public)
    click.echo(f"wrote {private} (private: keep it secret) and {public} (public: give it to your auditor)")
    click.echo(f"key {key_id}; sign seals with  seal: {{signing_key: ${{ANNEXA_SIGNING_KEY}}}}")
    click.echo(f'  export ANNEXA_SIGNING_KEY="$(cat {private})"')
