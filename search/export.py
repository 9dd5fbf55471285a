"""CSV export of a whole result set, one row at a time, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

COLUMNS = (
    "id",
    "headline",
    "date",
    "source",
    "lang",
    "url",
    "author",
    "person",
    "organization",
    "place",
    "cluster",
)
# A cell starting with one of these is a formula to Excel, LibreOffice and Sheets
# (CSV injection); a leading quote makes it text. Tab and CR are on OWASP's list too.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_lines(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The header, then one line per record; list values are joined with "; "."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: Iterable[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(cell) for cell in cells])
        return buffer.getvalue()

    yield line(COLUMNS)
    for record in records:
        yield line(
            "; ".join(value) if isinstance(value, list) else value
            for value in (record.get(column) for column in COLUMNS)
        )
