"""Read the tables of a trame back from its .xlsx, the way a person would find them."""

from __future__ import annotations

from pathlib import Path

import openpyxl

HEADER_FILL = "001F3864"


def _is_header(row) -> bool:
    return row[0].value is not None and (row[0].fill.fgColor.rgb or "") == HEADER_FILL


def read_tables(path: Path) -> dict[str, dict[str, list[dict]]]:
    """sheet → table title → rows as {header: value} (total row included, as written)."""
    workbook = openpyxl.load_workbook(path)
    out: dict[str, dict[str, list[dict]]] = {}
    for ws in workbook.worksheets:
        rows = list(ws.iter_rows())
        tables: dict[str, list[dict]] = {}
        for i, row in enumerate(rows):
            if not _is_header(row) or i == 0:
                continue
            headers = [c.value for c in row if c.value is not None]
            title = rows[i - 1][0].value
            body = []
            for data in rows[i + 1 :]:
                cells = data[: len(headers)]
                if all(c.value is None for c in cells) or (cells[0].font.i and cells[0].value):
                    break
                body.append({h: c.value for h, c in zip(headers, cells, strict=True)})
            tables[title] = body
        out[ws.title] = tables
    return out


def by_first_column(table: list[dict]) -> dict:
    """Rows keyed by their first column's value."""
    return {next(iter(row.values())): row for row in table}


def all_text(path: Path) -> str:
    workbook = openpyxl.load_workbook(path)
    return "\n".join(
        str(c.value)
        for ws in workbook.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    )
