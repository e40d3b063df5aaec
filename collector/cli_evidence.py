"""`annexa evidence …`: the manual evidence register (documents and links no connector can collect)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .cli import _table, cli, config_option, follow_symlinks_option, format_option


@cli.group()
def evidence() -> None:
    """The manual evidence register (documents and links no connector can collect), per control or ISMS
    clause, content-addressed, with validity."""


@evidence.command("add")
@config_option
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--url", metavar="URL", help="Register a link instead of a file.")
@click.option("--control", "controls", multiple=True, metavar="ID", help="Annex A control it evidences (repeatable).")
@click.option("--clause", "clauses", multiple=True, metavar="N", help="ISMS clause item, e.g. 9.2 (repeatable).")
@click.option("--title", required=True, metavar="TEXT", help="What the document is.")
@click.option("--owner", metavar="NAME", help="Who is accountable for it.")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="The document's own date (default: today).")
@click.option("--valid-until", metavar="YYYY-MM-DD", help="The day it stops counting as current.")
@click.option("--review-every", metavar="PERIOD", help="Review period from its date, e.g. 12m, 6w, 90d, 1y.")
@click.option("--max-size", default="50MB", show_default=True, metavar="SIZE", help="Refuse larger files.")
def evidence_add(
    config: str | None,
    path: Path | None,
    url: str | None,
    controls: tuple[str, ...],
    clauses: tuple[str, ...],
    title: str,
    owner: str | None,
    day: str | None,
    valid_until: str | None,
    review_every: str | None,
    max_size: str,
) -> None:
    """Register a document (copied into the store, content-addressed by SHA-256) or a link."""
    from .operations import open_store_for_writing
    from .register import add_entry, human_size, parse_size, prepare_entry

    pending = prepare_entry(
        path=path,
        url=url,
        controls=controls,
        clauses=clauses,
        title=title,
        owner=owner,
        day=day,
        valid_until=valid_until,
        review_every=review_every,
        max_size=parse_size(max_size),
    )
    with open_store_for_writing(config) as (_, store):
        added = add_entry(store, pending)
    entry = added.entry
    if entry.sha256 is None:
        click.echo(f"added {entry.id}: {entry.title} (link {entry.location})")
        return
    stored = "stored" if added.stored_new_bytes else "already in the store: no new bytes"
    also = f"; the same file is {', '.join(added.shared_with)}" if added.shared_with else ""
    click.echo(
        f"added {entry.id}: {entry.title} (sha256 {entry.sha256}, {human_size(entry.size or 0)}, {stored}{also})"
    )


@evidence.command("list")
@config_option
@click.option("--control", metavar="ID", help="Only entries for this control.")
@click.option("--clause", metavar="N", help="Only entries for this clause item.")
@click.option("--expiring", metavar="PERIOD", help="Only entries that expire within PERIOD (e.g. 30d) or have.")
@click.option("--all", "show_all", is_flag=True, help="Include retired entries.")
@format_option(("table", "json"), "table")
def evidence_list(
    config: str | None, control: str | None, clause: str | None, expiring: str | None, show_all: bool, fmt: str
) -> None:
    """The register's entries with their state (current, expiring, expired, retired)."""
    from .operations import open_store_for_reading
    from .register import current_entries, parse_period, select
    from .timeutil import utcnow

    today = utcnow().date()
    within = None
    if expiring:
        count, unit = parse_period(expiring, "--expiring")
        within = count * {"d": 1, "w": 7, "m": 30, "y": 365}[unit]
    with open_store_for_reading(config) as store:
        chosen = select(current_entries(store), control=control, clause=clause, expiring_within=within, today=today)
    if not show_all:
        chosen = [e for e in chosen if not e.retired_at]
    rows = [e.summary(today) for e in chosen]
    if fmt == "json":
        click.echo(json.dumps({"schema": "annexa/manual-evidence@1", "evidence": rows}, indent=2))
        return
    table = [
        [r["id"], r["state"], r["valid_until"] or "", ",".join(r["controls"] + r["clauses"]), r["title"][:40]]
        for r in rows
    ]
    click.echo(_table(["id", "state", "valid until", "controls/clauses", "title"], table))


@evidence.command("show")
@config_option
@click.argument("evidence_id", metavar="ID")
@format_option(("text", "json"), "text")
def evidence_show(config: str | None, evidence_id: str, fmt: str) -> None:
    """One entry: metadata, hash and history."""
    from .operations import open_store_for_reading
    from .register import find
    from .timeutil import utcnow

    with open_store_for_reading(config) as store:
        entry = find(store, evidence_id)
        history = store.manual_history(entry.id)
    document = {**entry.record(), **entry.summary(utcnow().date()), "history": history}
    if fmt == "json":
        click.echo(json.dumps(document, indent=2))
        return
    for key in ("id", "title", "state", "location", "sha256", "size", "controls", "clauses", "owner", "date"):
        value = document[key]
        if value not in (None, [], ""):
            click.echo(f"{key + ':':12} {', '.join(value) if isinstance(value, list) else value}")
    click.echo(f"{'valid until:':12} {document['valid_until'] or 'no end date'}")
    if entry.retired_at:
        click.echo(f"{'retired:':12} {entry.retired_at} ({entry.retire_reason})")
    click.echo("history:")
    for event in history:
        click.echo(f"  {event['at']}  {event['action']}  {event['detail'] or ''}".rstrip())


@evidence.command("export")
@config_option
@click.argument("evidence_id", metavar="ID")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), metavar="FILE", help="Where to write.")
@follow_symlinks_option
def evidence_export(config: str | None, evidence_id: str, output: Path, follow_symlinks: bool) -> None:
    """The exact bytes of a registered file, its SHA-256 verified on the way out."""
    from .operations import open_store_for_reading
    from .outputs import check_destination, write_bytes
    from .register import export

    check_destination(output, follow_symlinks=follow_symlinks)
    with open_store_for_reading(config) as store:
        entry, data = export(store, evidence_id)
    write_bytes(output, data, follow_symlinks=follow_symlinks)
    click.echo(f"wrote {output} ({entry.id}, sha256 {entry.sha256} verified)")


@evidence.command("retire")
@config_option
@click.argument("evidence_id", metavar="ID")
@click.option("--reason", required=True, metavar="TEXT", help="Why it no longer counts (kept in its history).")
def evidence_retire(config: str | None, evidence_id: str, reason: str) -> None:
    """Take an entry out of current evidence; nothing is deleted and its history stays."""
    from .operations import open_store_for_writing
    from .register import retire

    with open_store_for_writing(config) as (_, store):
        entry = retire(store, evidence_id, reason)
    click.echo(f"retired {entry.id}: {entry.title} ({reason})")
