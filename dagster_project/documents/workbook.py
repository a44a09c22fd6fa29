"""A new openpyxl workbook whose default font is the one the layout measures (Arial 10).

Both spreadsheets convert a column width (counted in digits of the default font) to points
with the workbook's default font: with openpyxl's default (Calibri 11), LibreOffice on a
machine without Calibri or Carlito measures digits of another font, and the widths computed by
``documents.layout`` no longer mean the same points in Excel and in LibreOffice.
"""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Font

from dagster_project.documents.layout import FONT
from dagster_project.private_api.openpyxl_default_font import set_default_font

DEFAULT_FONT = Font(name=FONT, size=10, family=2)


def new_workbook(write_only: bool = False) -> Workbook:
    wb = Workbook(write_only=write_only)
    set_default_font(wb, DEFAULT_FONT)
    return wb
