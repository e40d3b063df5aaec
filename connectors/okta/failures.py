"""Facts joined onto items that could not be read: marked unknown on each item, reported once per cause.

``null`` already means something in these kinds ("no admin roles", "no rules"), so an unreadable
detail is never written as null: the field is left out of the item and its reason recorded
(``EvidenceItem.mark_unknown``), and one ``CollectionError`` per endpoint and reason names the fields
and the first few items, instead of one error per user on a 10,000-user org.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.base import CollectionError, EvidenceItem

from .client import OktaApiError

NAMED = 3  # items named in a message; the error's ``items`` lists them all


@dataclass
class Unreadable:
    """The items of one kind whose ``fields`` could not be read, grouped by endpoint and reason."""

    kind: str
    org: str
    what: str  # what could not be read, e.g. "factors"
    fields: tuple[str, ...]
    noun: tuple[str, str] = ("user", "users")  # singular, plural of the items concerned
    groups: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)

    def mark(self, item: EvidenceItem, exc: OktaApiError, label: str | None = None) -> None:
        """Leave ``fields`` of ``item`` unknown because of ``exc``; ``label`` names the item in messages."""
        for name in self.fields:
            item.mark_unknown(name, exc.reason)
        # A failed OAuth token request is not the endpoint's failure: keep its own reason whole.
        key = (exc.endpoint, exc.detail) if exc.endpoint and not exc.token else ("", exc.reason)
        self.groups.setdefault(key, []).append((item.id, label or item.id))

    def __len__(self) -> int:
        return sum(len(members) for members in self.groups.values())

    def errors(self) -> list[CollectionError]:
        out = []
        for (endpoint, detail), members in self.groups.items():
            names = ", ".join(label for _, label in members[:NAMED])
            if len(members) > NAMED:
                names += f" and {len(members) - NAMED} more"
            count = f"{len(members)} {self.noun[0] if len(members) == 1 else self.noun[1]}"
            cause = f"GET {endpoint}: {detail}" if endpoint else detail
            out.append(
                CollectionError(
                    self.kind,
                    f"{self.org}: {self.what} of {count} ({names}): {cause}",
                    fields=self.fields,
                    items=tuple(item_id for item_id, _ in members),
                )
            )
        return out
