"""openpyxl's workbook writer, minus the temporary file it writes per worksheet.

Private API of openpyxl 3.1.5: a copy of ``ExcelWriter.write_worksheet`` (``ws._drawing``,
``ws._charts``, ``ws._images``, ``ws._rels``, ``openpyxl.worksheet._writer.WorksheetWriter``)
that serialises each worksheet into memory. The stock writer writes it to a temporary file
and copies that file into the archive (with the file's own time stamp). Measured gain, on the
same workbooks: docs/benchmark.md, "Private API".
"""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook

from dagster_project.private_api import disabled, written_for

written_for("openpyxl", "3.1.5")

from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing  # noqa: E402
from openpyxl.worksheet._writer import WorksheetWriter  # noqa: E402
from openpyxl.writer.excel import ExcelWriter  # noqa: E402

NAME = "openpyxl_writer"


class InMemoryExcelWriter(ExcelWriter):
    def write_worksheet(self, ws):
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = WorksheetWriter(ws, out=io.BytesIO())
        writer.write()
        ws._rels = writer._rels
        self._archive.writestr(ws.path[1:], writer.read())
        self.manifest.append(ws)


def write_workbook(wb: Workbook, archive: zipfile.ZipFile, stock: bool | None = None) -> None:
    """Serialise ``wb`` into ``archive`` (openpyxl's own writer when ``stock``, or when the
    benchmark turned this module off)."""
    stock = disabled(NAME) if stock is None else stock
    (ExcelWriter if stock else InMemoryExcelWriter)(wb, archive).write_data()
