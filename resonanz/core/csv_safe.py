"""CSV cells that spreadsheets cannot execute (CSV/formula injection, OWASP guidance).

Texts, handles and topics in our exports come from public posts: a cell such as ``=HYPERLINK(...)``,
``+cmd|' /C calc'!A0``, ``-2+3`` or ``@SUM(1,2)`` would run as a formula when an analyst opens the
file in Excel or LibreOffice. Every text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return (also after leading white space) gets a leading apostrophe, which spreadsheets show as
text and strip from the display. Numbers stay numbers (``-0.25`` as a float is written unchanged).
Every CSV the application writes goes through :func:`csv_writer` or :func:`csv_dict_writer`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` as a safe cell: text starting with a formula prefix gets a leading apostrophe."""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose rows are neutralised cell by cell."""

    def __init__(self, out: TextIO, **kwargs: Any) -> None:
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralise(v) for v in row])


class SafeDictWriter:
    """``csv.DictWriter`` whose values are neutralised (the header is ours and written as is)."""

    def __init__(self, out: TextIO, fieldnames: Sequence[str], **kwargs: Any) -> None:
        self._writer = csv.DictWriter(out, fieldnames=list(fieldnames), **kwargs)

    def writeheader(self) -> None:
        self._writer.writeheader()

    def writerow(self, row: Mapping[str, Any]) -> None:
        self._writer.writerow({k: neutralise(v) for k, v in row.items()})


def csv_writer(out: TextIO, **kwargs: Any) -> SafeWriter:
    return SafeWriter(out, **kwargs)


def csv_dict_writer(out: TextIO, fieldnames: Sequence[str], **kwargs: Any) -> SafeDictWriter:
    return SafeDictWriter(out, fieldnames, **kwargs)
