"""A new workbook's default font, which openpyxl offers no setter for.

Private API of openpyxl 3.1.5 (``Workbook._fonts``, ``Workbook._named_styles``). openpyxl
bootstraps its font list and the "Normal" style with Calibri 11; both spreadsheets convert a
column width (counted in digits of the default font) to points with it. This is not a speed
measure: without it the widths computed by ``documents.layout`` (in Arial) mean other points
in LibreOffice on a machine without Calibri (``documents/workbook.py``).
"""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Font

from dagster_project.private_api import written_for

written_for("openpyxl", "3.1.5")

from openpyxl.utils.indexed_list import IndexedList  # noqa: E402


def set_default_font(wb: Workbook, font: Font) -> None:
    """Make ``font`` the workbook's default (font 0 and the "Normal" style's), before any cell
    is styled."""
    wb._fonts = IndexedList([font])
    wb._named_styles["Normal"].font = font
