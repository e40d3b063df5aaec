"""JSON written in pieces: a document whose big lists are produced while it is written.

:func:`dumps_streamed` encodes a value with ``json.dumps``, each :class:`Streamed` in it standing as a
placeholder, and yields the text with every placeholder replaced by what its ``Streamed`` produces. The
producer gets the indentation of the line the placeholder stands on, so it can write its list exactly
as ``json.dumps`` would have written it there: the output is the same bytes, without the list ever
being held (the gap report's populations, a control's findings, the pack's manifest).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_PLACEHOLDER = re.compile(r'"\\u0000streamed:(\d+)\\u0000"')  # JSON escapes the NULs, whatever the options


class Streamed:
    """Stands for a list; ``pieces(indent)`` writes it (indent: the spaces opening its line)."""

    def __init__(self, pieces: Callable[[int], Iterable[str]]) -> None:
        self.pieces = pieces


def dumps_streamed(
    value: Any, *, convert: Callable[[Any], Streamed | None] = lambda _: None, **options: Any
) -> Iterator[str]:
    """``json.dumps(value, **options)`` in pieces. ``convert`` turns other objects json cannot encode
    (a report's rows read from the store) into ``Streamed``; anything else is the usual TypeError."""
    streamed: list[Streamed] = []

    def placeholder(obj: Any) -> str:
        stream = obj if isinstance(obj, Streamed) else convert(obj)
        if stream is None:
            raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")
        streamed.append(stream)
        return f"\x00streamed:{len(streamed) - 1}\x00"

    pieces = _PLACEHOLDER.split(json.dumps(value, default=placeholder, **options))
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            yield piece
            continue
        line = pieces[i - 1][pieces[i - 1].rfind("\n") + 1 :]
        yield from streamed[int(piece)].pieces(len(line) - len(line.lstrip(" ")))


def joined(items: Iterable[str]) -> Iterator[str]:
    """A compact JSON list (``json.dumps``' default separators) of already encoded items."""
    yield "["
    for n, item in enumerate(items):
        yield (", " if n else "") + item
    yield "]"
