"""The README's command reference, generated from the CLI itself (cogapp), so it cannot drift.

README.md holds a `[[[cog ...]]]` block that calls :func:`command_table`; the test suite runs cog in
check mode and fails when the README and the commands disagree. Regenerate with
``cog -r README.md``.
"""

from __future__ import annotations

import click

from .cli import cli

# The order a newcomer meets the commands in; commands not listed follow alphabetically.
ORDER = (
    "init",
    "validate",
    "run",
    "report",
    "runs",
    "diff",
    "controls",
    "checks",
    "schedule",
    "health",
    "check-store",
    "backup",
    "demo",
)
_SKIPPED = frozenset({"config", "help"})


def synopsis(name: str, command: click.Command) -> str:
    parts = [f"annexa {name}"]
    for param in command.params:
        if param.name in _SKIPPED:
            continue
        if isinstance(param, click.Argument):
            parts.append(param.human_readable_name.upper())
            continue
        assert isinstance(param, click.Option)
        flag = max(param.opts, key=len)
        if param.is_flag:
            parts.append(f"[{flag}]")
            continue
        if isinstance(param.type, click.Choice):
            value = "\\|".join(str(c) for c in param.type.choices)
        else:
            value = param.metavar or param.type.name.upper()
        parts.append(f"[{flag} {value}]" + ("..." if param.multiple else ""))
    return " ".join(parts)


def summary(command: click.Command) -> str:
    """The first paragraph of the command's help, on one line."""
    text = (command.help or "").strip().split("\n\n")[0]
    return " ".join(line.strip() for line in text.splitlines()).replace("|", "\\|")


def command_table() -> str:
    commands = dict(cli.commands)
    names = [n for n in ORDER if n in commands] + sorted(set(commands) - set(ORDER))
    rows = ["| command | what it does |", "| --- | --- |"]
    for name in names:
        command = commands[name]
        if command.hidden:
            continue
        if isinstance(command, click.Group):  # each subcommand is a row: `export pack`, `evidence add`
            for sub_name, sub in sorted(command.commands.items()):
                if not sub.hidden:
                    rows.append(f"| `{synopsis(f'{name} {sub_name}', sub)}` | {summary(sub)} |")
            continue
        rows.append(f"| `{synopsis(name, command)}` | {summary(command)} |")
    return "\n".join(rows) + "\n"


def coverage_table() -> str:
    """Controls with at least one primary automated check, per connector and in all (the shipped checks),
    and the controls that only supporting checks touch: the README's coverage table."""
    from .operations import controls_document

    document = controls_document(None)
    per_connector: dict[str, set[str]] = {}
    for control in document["controls"]:
        for check_id, strength in control["strengths"].items():
            if strength == "primary":
                per_connector.setdefault(check_id.split(".")[0], set()).add(control["id"])
    covered = [c["id"] for c in document["controls"] if c["primary_checks"]]
    supporting = [c["id"] for c in document["controls"] if c["checks"] and not c["primary_checks"]]
    rows = ["| connector | controls with a primary check |", "| --- | --- |"]
    for name, ids in sorted(per_connector.items()):
        rows.append(f"| {name} | {len(ids)} |")
    rows.append(f"| **all five** | **{len(covered)} of {len(document['controls'])}** |")
    rows.append("")
    rows.append(
        f"Supporting checks only (shown beside the control, which stays `manual`): {', '.join(supporting) or 'none'}."
    )
    return "\n".join(rows) + "\n"
