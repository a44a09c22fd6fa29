"""Other xlsx writers on the same workbooks: what a change of the trames' writer would gain.

Each trame is drawn once by the project (``render.build_workbook``) and read back into a
neutral list of what it contains (sheets; cells with their value and named style; column
widths, row heights, merged ranges, frozen panes, filterable tables). That content is then
written, timed, by each writer from scratch (creating the cells, then serialising), so the
writers are compared on the same work:

- ``openpyxl``: the project's writer (a normal workbook, serialised by ``render.serialise``);
- ``openpyxl_write_only``: openpyxl's streaming mode (rows appended in order; merged cells
  and tables are not available in that mode, so it writes a little less);
- ``xlsxwriter``: XlsxWriter, in memory.

Charts are left out of every writer (one or two per workbook, the same for all). This is a
measure, not a second renderer: the project's documents are written by ``trames/render.py``.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field

import xlsxwriter
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.table import Table as ExcelTable

from dagster_project.documents.sheet import _STYLES, register_styles
from dagster_project.documents.workbook import new_workbook
from dagster_project.trames.render import serialise

WRITERS = ("openpyxl", "openpyxl_write_only", "xlsxwriter")


@dataclass
class SheetContent:
    title: str
    rows: list[list[tuple[int, object, str]]] = field(default_factory=list)  # (col, value, style)
    widths: dict[int, float] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r0, c0, r1, c1
    freeze: str | None = None
    tables: list[tuple[str, str, list[str]]] = field(default_factory=list)  # name, ref, headers


def content(wb: Workbook) -> list[SheetContent]:
    sheets = []
    for ws in wb.worksheets:
        sheet = SheetContent(ws.title, freeze=ws.freeze_panes)
        for row in ws.iter_rows():
            cells = [(c.column, c.value, c.style) for c in row if c.value is not None]
            while len(sheet.rows) < row[0].row - 1:
                sheet.rows.append([])
            sheet.rows.append(cells)
        sheet.widths = {column_index_from_string(k): d.width
                        for k, d in ws.column_dimensions.items() if d.width}
        sheet.heights = {r: d.height for r, d in ws.row_dimensions.items() if d.height}
        sheet.merged = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
        for table in ws.tables.values():
            headers = [c.name for c in table.tableColumns]
            sheet.tables.append((table.displayName, table.ref, headers))
        sheets.append(sheet)
    return sheets


def with_openpyxl(sheets: list[SheetContent]) -> bytes:
    wb = new_workbook()
    register_styles(wb)
    wb.remove(wb.active)
    for s in sheets:
        ws = wb.create_sheet(s.title)
        for r, cells in enumerate(s.rows, start=1):
            for col, value, style in cells:
                ws.cell(r, col, value).style = style
        for col, width in s.widths.items():
            ws.column_dimensions[get_column_letter(col)].width = width
        for r, height in s.heights.items():
            ws.row_dimensions[r].height = height
        for r0, c0, r1, c1 in s.merged:
            ws.merge_cells(start_row=r0, start_column=c0, end_row=r1, end_column=c1)
        ws.freeze_panes = s.freeze
        for name, ref, _ in s.tables:
            ws.add_table(ExcelTable(displayName=name, ref=ref))
    return serialise(wb)


def with_openpyxl_write_only(sheets: list[SheetContent]) -> bytes:
    wb = new_workbook(write_only=True)
    register_styles(wb)
    for s in sheets:
        ws = wb.create_sheet(s.title)
        for col, width in s.widths.items():
            ws.column_dimensions[get_column_letter(col)].width = width
        ws.freeze_panes = s.freeze
        for cells in s.rows:
            row: list = []
            for col, value, style in cells:
                row.extend([None] * (col - 1 - len(row)))
                cell = WriteOnlyCell(ws, value)
                cell.style = style
                row.append(cell)
            ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _xlsxwriter_formats(book) -> dict[str, object]:
    formats = {}
    for name, attributes in _STYLES.items():
        spec: dict = {"font_name": attributes["font"].name, "font_size": attributes["font"].sz,
                      "bold": bool(attributes["font"].b), "italic": bool(attributes["font"].i)}
        if attributes["font"].color is not None:
            spec["font_color"] = "#" + str(attributes["font"].color.rgb)[-6:]
        if "fill" in attributes:
            spec["bg_color"] = "#" + str(attributes["fill"].fgColor.rgb)[-6:]
        if "border" in attributes:
            spec |= {"border": 1, "border_color": "#BFBFBF"}
        if "number_format" in attributes:
            spec["num_format"] = attributes["number_format"]
        alignment = attributes.get("alignment")
        if alignment is not None:
            spec |= {"text_wrap": bool(alignment.wrap_text), "valign": alignment.vertical or "top"}
            if alignment.horizontal:
                spec["align"] = alignment.horizontal
        formats[name] = book.add_format(spec)
    return formats


def with_xlsxwriter(sheets: list[SheetContent]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_numbers": False, "strings_to_urls": False})
    formats = _xlsxwriter_formats(book)
    for s in sheets:
        ws = book.add_worksheet(s.title)
        for col, width in s.widths.items():
            ws.set_column(col - 1, col - 1, width)
        for r, height in s.heights.items():
            ws.set_row(r - 1, height)
        merged = {(r0, c0): (r1, c1) for r0, c0, r1, c1 in s.merged}
        for r, cells in enumerate(s.rows, start=1):
            for col, value, style in cells:
                fmt = formats.get(style)
                if (r, col) in merged:
                    r1, c1 = merged[(r, col)]
                    ws.merge_range(r - 1, col - 1, r1 - 1, c1 - 1, value, fmt)
                elif isinstance(value, str) and value.startswith("="):
                    ws.write_formula(r - 1, col - 1, value, fmt)
                else:
                    ws.write(r - 1, col - 1, value, fmt)
        if s.freeze:
            ws.freeze_panes(s.freeze)
        for _, ref, headers in s.tables:
            ws.add_table(ref, {"columns": [{"header": h} for h in headers],
                               "style": "Table Style Light 1"})
    book.close()
    return buffer.getvalue()


WRITE = {"openpyxl": with_openpyxl, "openpyxl_write_only": with_openpyxl_write_only,
          "xlsxwriter": with_xlsxwriter}


def time_writers(wb: Workbook) -> dict[str, tuple[float, int]]:
    """Seconds and bytes of each writer writing the content of ``wb``."""
    sheets = content(wb)
    out = {}
    for name in WRITERS:
        started = time.perf_counter()
        data = WRITE[name](sheets)
        out[name] = (time.perf_counter() - started, len(data))
    return out
