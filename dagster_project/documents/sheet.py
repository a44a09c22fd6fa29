"""What every workbook we write shares: Arial styles registered once, cells written through
a ``Page`` that feeds the layout grid, and the A4 print setup.

Styles are module-level objects shared by every cell and workbook (openpyxl indexes them per
workbook; creating them per cell is what makes it slow). Every text is written as plain text,
so a bailleur's "=HYPERLINK(…)" stays a string and never becomes a formula.
"""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.merge import MergedCellRange
from openpyxl.worksheet.worksheet import Worksheet

from dagster_project.documents import layout

# Cell formats.
TEXT, INT, DEC, PCT = "text", "int", "dec", "pct"

NAVY = "1F3864"
THIN = Side(style="thin", color="BFBFBF")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
TOP = Alignment(vertical="top")
WRAP = Alignment(vertical="top", wrap_text=True)
NUMBER_FORMATS = {INT: "#,##0", DEC: "#,##0.0", PCT: "0.0%", TEXT: "@"}
# Font sizes and weights of the styles, as the layout measures them: (size, bold).
SIZES = {"titre": (14, True), "sous-titre": (10, False), "titre tableau": (11, True),
         "en-tête": (10, True), "note": (9, False), "libellé": (10, True), "texte": (10, False)}
HEADER_LINES = 3  # a header wraps on at most this many lines: numeric columns stay narrow


def _font(size: float, bold: bool = False, **kwargs) -> Font:
    return Font(name=layout.FONT, size=size, bold=bold, **kwargs)


# Named styles: assigning a registered name to a cell is cheap, whereas assigning Font/Fill
# objects makes openpyxl hash them for every cell (the main cost of a naive renderer).
_STYLES: dict[str, dict] = {
    "titre": dict(font=_font(14, True, color=NAVY), alignment=WRAP),
    "sous-titre": dict(font=_font(10, italic=True, color="595959"), alignment=WRAP),
    "titre tableau": dict(font=_font(11, True, color=NAVY), alignment=WRAP),
    "en-tête": dict(
        font=_font(10, True, color="FFFFFF"),
        fill=PatternFill("solid", fgColor=NAVY),
        alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
        border=GRID,
    ),
    "note": dict(font=_font(9, italic=True, color="595959"), alignment=WRAP),
    "libellé": dict(font=_font(10, True), alignment=WRAP),
    "texte": dict(font=_font(10), alignment=WRAP),
    **{
        f"cellule {fmt}": dict(
            font=_font(10), border=GRID, number_format=code, alignment=WRAP if fmt == TEXT else TOP
        )
        for fmt, code in NUMBER_FORMATS.items()
    },
    **{
        f"total {fmt}": dict(
            font=_font(10, True),
            fill=PatternFill("solid", fgColor="D9E1F2"),
            border=GRID,
            number_format=code,
            alignment=WRAP if fmt == TEXT else TOP,
        )
        for fmt, code in NUMBER_FORMATS.items()
    },
}
for _fmt in NUMBER_FORMATS:
    SIZES[f"cellule {_fmt}"] = (10, False)
    SIZES[f"total {_fmt}"] = (10, True)


def register_styles(wb: Workbook) -> None:
    for name, attributes in _STYLES.items():
        wb.add_named_style(NamedStyle(name=name, **attributes))


# Per style, what the layout measures: (size, bold, wrapped, number format, most header lines).
_MEASURED = {
    name: (
        *SIZES[name],
        bool(style.get("alignment", TOP).wrap_text),
        NUMBER_FORMATS.get(name.rsplit(" ", 1)[-1], "General"),
        HEADER_LINES if name == "en-tête" else None,
    )
    for name, style in _STYLES.items()
}
DEFAULT_ROW_HEIGHT = layout.row_height(1, 10)


class Page:
    """One worksheet being written: each text also goes to the layout grid, whose widths and
    heights are applied at the end (``finish``)."""

    def __init__(self, ws: Worksheet, caps: dict[int, float] | None = None) -> None:
        self.ws = ws
        self.grid = layout.Grid(caps=caps or {})

    def put(self, row: int, col: int, value, style: str = "texte", *, span: int = 1,
            shown=None) -> None:
        """Write ``value``; ``shown`` is what the cell displays when it differs (a formula)."""
        cell = self.ws.cell(row=row, column=col)
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "f" if shown is not None else "s"  # bailleurs' text is never a formula
        cell.style = style
        if span > 1:
            # Registered as a range only: ``Worksheet.merge_cells`` also restyles every covered
            # cell, which cost more than the rest of the rendering.
            last = get_column_letter(col + span - 1)
            self.ws.merged_cells.add(
                MergedCellRange(self.ws, f"{get_column_letter(col)}{row}:{last}{row}")
            )
        size, bold, wrap, fmt, max_lines = _MEASURED[style]
        text = layout.displayed(value if shown is None else shown, fmt)
        if text:
            self.grid.texts.append(layout.Text(row, col, text, size, bold, wrap, span, max_lines))

    def finish(self) -> None:
        widths = self.grid.widths()
        for col, width in widths.items():
            self.ws.column_dimensions[get_column_letter(col)].width = width
        # Rows of one line of 10 pt keep the default height: a RowDimension per row costs.
        self.ws.sheet_format.defaultRowHeight = DEFAULT_ROW_HEIGHT
        for row, height in self.grid.heights(widths).items():
            if height > DEFAULT_ROW_HEIGHT:
                self.ws.row_dimensions[row].height = height


def print_setup(ws: Worksheet, footer: str, landscape: bool) -> None:
    """A4, fitted to the page's width, footer on the left and page numbers on the right."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.oddFooter.left.text = footer.replace("&", "&&")
    ws.oddFooter.left.size = 8
    ws.oddFooter.right.text = "Page &P / &N"
    ws.oddFooter.right.size = 8
