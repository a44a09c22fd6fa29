"""Column widths and row heights computed from the text a worksheet holds.

Excel and LibreOffice never size a column to its content when they open a file, and they only
size a row to wrapped text in some cases: a workbook we write must carry widths and heights that
fit its text, or labels are cut and wrapped lines print on top of each other. This module
measures text with the advance widths of Liberation Sans, which are those of Arial (the font of
every document we write: LibreOffice substitutes Liberation Sans for it, Excel has it), so that
one measurement holds in both. It is pure (no openpyxl): the renderers give it the texts they
write and apply the widths and heights it returns; ``clipped`` reads a finished worksheet back
and lists every text that does not fit, which is what the tests assert on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from dagster_project.documents import metrics

FONT = "Arial"
# Points of content in one unit of Excel column width: the width counts characters of the
# default font's digit (7 px at 96 dpi, i.e. 5.25 pt) and includes the cell's padding.
POINTS_PER_WIDTH = 5.25
CELL_PADDING = 5.0  # points, both sides, kept free of text
SAFETY = 1.06  # rendering rounds glyph positions to pixels: never size to the exact point
LINE_FACTOR = 1.275  # line height / font size (12.75 pt for 10 pt, as Excel sizes Arial)
ROW_PADDING = 2.0  # points above and below the lines of a wrapped cell
UNKNOWN_GLYPH = 1000  # 1/1000 em: a character outside the table measures as wide as "W"
MAX_WIDTH = 255.0  # Excel's limit for a column width


@lru_cache(maxsize=65536)
def text_width(text: str, size: float = 10, bold: bool = False) -> float:
    """Width in points of ``text`` on one line (the widest line if it holds line breaks)."""
    table, extra = (metrics.BOLD, metrics.BOLD_EXTRA) if bold else (metrics.REGULAR, metrics.REGULAR_EXTRA)
    widest = 0
    for line in text.split("\n"):
        units = 0
        for char in line:
            index = ord(char) - metrics.FIRST
            advance = table[index] if 0 <= index < len(table) else extra.get(ord(char), 0)
            units += advance or UNKNOWN_GLYPH
        widest = max(widest, units)
    return widest * size / 1000 * SAFETY


def width_for(points: float) -> float:
    """The Excel column width that shows ``points`` of text."""
    return min(MAX_WIDTH, round((points + CELL_PADDING) / POINTS_PER_WIDTH + 0.05, 1))


def points_in(width: float) -> float:
    """Points of text that a column of Excel width ``width`` shows."""
    return width * POINTS_PER_WIDTH - CELL_PADDING


def line_height(size: float = 10) -> float:
    return size * LINE_FACTOR


def row_height(lines: int, size: float = 10) -> float:
    """Height in points of a row showing ``lines`` lines of text of ``size`` points."""
    if lines <= 1:
        return round(line_height(size), 2)
    return round(lines * line_height(size) + ROW_PADDING, 2)


def wrap(text: str, points: float, size: float = 10, bold: bool = False) -> list[str]:
    """The lines ``text`` takes in a wrapped cell ``points`` wide (greedy, at spaces, like both
    spreadsheets; a word longer than the line is cut where it overflows)."""
    if "\n" not in text and text_width(text, size, bold) <= points:
        return [text]
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            candidate = f"{current} {word}" if current else word
            if text_width(candidate, size, bold) <= points or not current:
                current = candidate
            else:
                lines.append(current)
                current = word
            while text_width(current, size, bold) > points and len(current) > 1:
                cut = _longest_prefix(current, points, size, bold)
                lines.append(current[:cut])
                current = current[cut:]
        lines.append(current)
    return lines


def _longest_prefix(word: str, points: float, size: float, bold: bool) -> int:
    cut = 1
    while cut < len(word) and text_width(word[: cut + 1], size, bold) <= points:
        cut += 1
    return cut


@lru_cache(maxsize=8192)
def longest_word(text: str, size: float = 10, bold: bool = False) -> float:
    return max((text_width(w, size, bold) for w in text.replace("\n", " ").split(" ")), default=0)


@lru_cache(maxsize=4096)
def narrowest(text: str, max_lines: int, size: float = 10, bold: bool = False) -> float:
    """The narrowest width in points at which ``text`` wraps into at most ``max_lines`` lines
    without cutting a word."""
    low, high = longest_word(text, size, bold), text_width(text, size, bold)
    if len(wrap(text, low, size, bold)) <= max_lines:
        return low
    for _ in range(12):  # bisection to a fraction of a point
        middle = (low + high) / 2
        if len(wrap(text, middle, size, bold)) <= max_lines:
            high = middle
        else:
            low = middle
    return high


class Text(NamedTuple):
    """One text as a worksheet shows it."""

    row: int
    col: int
    text: str
    size: float = 10
    bold: bool = False
    wrap: bool = False
    span: int = 1  # columns the cell covers (merged), from ``col``
    max_lines: int | None = None  # a wrapped text that should not take more lines (headers)


@dataclass
class Grid:
    """The texts of one worksheet; widths and heights follow from them.

    A column is as wide as its widest unwrapped text, the narrowest width that keeps its
    headers within ``max_lines``, and its wrapped texts' longest word or, up to the column's cap,
    their full width. Texts spanning several columns (titles, notes) wrap within the span. A row is as
    high as its tallest wrapped text.
    """

    texts: list[Text] = field(default_factory=list)
    caps: dict[int, float] = field(default_factory=dict)  # column → widest width for wrapped text
    minimum: float = 8.0

    def add(self, row: int, col: int, text: str, **style) -> None:
        if text:
            self.texts.append(Text(row, col, text, **style))

    def widths(self) -> dict[int, float]:
        need: dict[int, float] = {}
        for t in self.texts:
            if t.span != 1:
                continue
            if not t.wrap:
                points = text_width(t.text, t.size, t.bold)
            elif t.max_lines:  # a header: as narrow as its lines allow, the data decides
                points = narrowest(t.text, t.max_lines, t.size, t.bold)
            else:
                full = text_width(t.text, t.size, t.bold)
                cap = points_in(self.caps[t.col]) if t.col in self.caps else full
                points = max(longest_word(t.text, t.size, t.bold), min(full, cap))
            need[t.col] = max(need.get(t.col, 0.0), points)
        widths = {col: max(self.minimum, width_for(points)) for col, points in need.items()}
        for t in self.texts:  # a spanning text wraps, but its longest word must fit the span
            if t.span > 1:
                last = t.col + t.span - 1
                spanned = sum(widths.get(c, self.minimum) for c in range(t.col, last + 1))
                missing = width_for(longest_word(t.text, t.size, t.bold)) - spanned
                if missing > 0:
                    widths[last] = widths.get(last, self.minimum) + missing
        return widths

    def heights(self, widths: dict[int, float]) -> dict[int, float]:
        out: dict[int, float] = {}
        for t in self.texts:
            if t.wrap or t.span != 1:
                span = sum(widths.get(c, self.minimum) for c in range(t.col, t.col + t.span))
                lines = len(wrap(t.text, points_in(span), t.size, t.bold))
            else:
                lines = 1
            out[t.row] = max(out.get(t.row, 0.0), row_height(lines, t.size))
        return out


def displayed(value: object, number_format: str = "General") -> str:
    """The text a spreadsheet shows for ``value`` (French separators, a little wider than any
    locale's: a narrow no-break space for thousands, a space before %)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if "%" in number_format:
        decimals = _decimals(number_format)
        return f"{value * 100:,.{decimals}f}\u202f%".replace(",", "\u202f")
    if number_format in ("General", "@"):
        return f"{value:,}".replace(",", "\u202f") if isinstance(value, int) else f"{value:,.2f}"
    return f"{value:,.{_decimals(number_format)}f}".replace(",", "\u202f")


def _decimals(number_format: str) -> int:
    return len(number_format.split(".", 1)[1].rstrip("%")) if "." in number_format else 0


def clipped(ws) -> list[str]:
    """Every text of an openpyxl worksheet that its cell does not show whole: a number wider
    than its column, an unwrapped text wider than its column and the empty cells it may spill
    into, a wrapped text with more lines than its row is high. Empty list: nothing is cut."""
    from openpyxl.utils import get_column_letter

    default_width = ws.sheet_format.defaultColWidth or 8.43
    default_height = ws.sheet_format.defaultRowHeight or row_height(1, 10)

    def width(col: int) -> float:
        dimension = ws.column_dimensions.get(get_column_letter(col))
        return dimension.width if dimension is not None and dimension.width else default_width

    merged = {}
    for cells in ws.merged_cells.ranges:
        merged[(cells.min_row, cells.min_col)] = (cells.max_row, cells.max_col)
    heights = {r: d.height for r, d in ws.row_dimensions.items() if d.height}
    problems = []
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is None or type(cell).__name__ == "MergedCell":
                continue
            if isinstance(cell.value, str) and cell.value.startswith("=") and cell.data_type == "f":
                continue  # our own totals: measured from their values by the renderer's tests
            text = displayed(cell.value, cell.number_format)
            size, bold = float(cell.font.sz or 11), bool(cell.font.b)
            last_row, last_col = merged.get((cell.row, cell.column), (cell.row, cell.column))
            points = points_in(sum(width(c) for c in range(cell.column, last_col + 1)))
            height = sum(heights.get(r, default_height) for r in range(cell.row, last_row + 1))
            if cell.alignment.wrap_text:
                lines = wrap(text, points, size, bold)
                cut_word = any(text_width(w, size, bold) > points for w in text.split())
                if row_height(len(lines), size) > height + 0.01 or cut_word:
                    problems.append(f"{ws.title}!{cell.coordinate} ({len(lines)} lignes) : {text[:40]}")
                continue
            if isinstance(cell.value, str) and last_col == cell.column:
                col = cell.column + 1  # an unwrapped text spills into empty cells on its right
                while col <= ws.max_column and ws.cell(cell.row, col).value is None:
                    points += width(col) * POINTS_PER_WIDTH
                    col += 1
            if text_width(text, size, bold) > points or row_height(1, size) > height + 0.01:
                problems.append(f"{ws.title}!{cell.coordinate} : {text[:40]}")
    return problems
