"""Draw a ``Report`` as an .xlsx workbook with openpyxl: cover, notice, tables, charts, print setup.

Styles are module-level objects shared by every cell and workbook (openpyxl indexes them per
workbook; creating them per cell is what makes it slow). Every text cell is written as plain
text, so a bailleur's "=HYPERLINK(…)" stays a string and never becomes a formula. Zip entry
times and document properties are pinned so that the same report, run id and generation time
give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.properties import CalcProperties
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from dagster_project.atomic import write_bytes
from dagster_project.trames.model import DEC, INT, PCT, TEMPLATE_VERSION, TEXT, Report, Sheet, Table

NAVY = "1F3864"
THIN = Side(style="thin", color="BFBFBF")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(vertical="top", wrap_text=True)
NUMBER_FORMATS = {INT: "#,##0", DEC: "#,##0.0", PCT: "0.0%", TEXT: "@"}

# Named styles: assigning a registered name to a cell is cheap, whereas assigning Font/Fill
# objects makes openpyxl hash them for every cell (the main cost of a naive renderer).
_STYLES: dict[str, dict] = {
    "titre": dict(font=Font(name="Calibri", size=14, bold=True, color=NAVY)),
    "sous-titre": dict(font=Font(name="Calibri", size=10, italic=True, color="595959")),
    "titre tableau": dict(font=Font(name="Calibri", size=11, bold=True, color=NAVY)),
    "en-tête": dict(
        font=Font(name="Calibri", size=10, bold=True, color="FFFFFF"),
        fill=PatternFill("solid", fgColor=NAVY),
        alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
        border=GRID,
    ),
    "note": dict(font=Font(name="Calibri", size=9, italic=True, color="595959")),
    "libellé": dict(font=Font(name="Calibri", size=10, bold=True), alignment=WRAP),
    "texte": dict(font=Font(name="Calibri", size=10), alignment=WRAP),
    **{
        f"cellule {fmt}": dict(font=Font(name="Calibri", size=10), border=GRID, number_format=code)
        for fmt, code in NUMBER_FORMATS.items()
    },
    **{
        f"total {fmt}": dict(
            font=Font(name="Calibri", size=10, bold=True),
            fill=PatternFill("solid", fgColor="D9E1F2"),
            border=GRID,
            number_format=code,
        )
        for fmt, code in NUMBER_FORMATS.items()
    },
}


def _register_styles(wb: Workbook) -> None:
    for name, attributes in _STYLES.items():
        wb.add_named_style(NamedStyle(name=name, **attributes))


# Pinned so that identical content gives identical bytes (zip entries carry a timestamp).
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


class _StableZipFile(zipfile.ZipFile):
    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=ZIP_DATE)
            zinfo_or_arcname.compress_type = zipfile.ZIP_DEFLATED
            zinfo_or_arcname.external_attr = 0o600 << 16
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)


class _InMemoryExcelWriter(ExcelWriter):
    """openpyxl's writer, minus the temporary file per worksheet (disk I/O dominated the time).

    Mirrors ``ExcelWriter.write_worksheet`` of openpyxl 3.1 (pinned < 3.2 in pyproject).
    """

    def write_worksheet(self, ws):
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = WorksheetWriter(ws, out=io.BytesIO())
        writer.write()
        ws._rels = writer._rels
        self._archive.writestr(ws.path[1:], writer.read())
        self.manifest.append(ws)


def _put(ws: Worksheet, row: int, col: int, value, style: str = "texte") -> None:
    cell = ws.cell(row=row, column=col)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # plain text even when it starts with "=", "+", "-" or "@"
    cell.style = style


def _bailleur(report: Report) -> str:
    return f"bailleur {report.bailleur}" if report.bailleur.isdigit() else report.bailleur.lower()


def _header_footer(ws: Worksheet, report: Report, landscape: bool) -> None:
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    footer = f"Bilan {report.annee} – {_bailleur(report)}".replace("&", "&&")
    ws.oddFooter.left.text = footer
    ws.oddFooter.left.size = 8
    ws.oddFooter.right.text = "Page &P / &N"
    ws.oddFooter.right.size = 8


def _widths(ws: Worksheet, widths: dict[int, int]) -> None:
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width


def _write_table(ws: Worksheet, table: Table, top: int, widths: dict[int, int]) -> tuple[int, int]:
    """Write ``table`` from row ``top``; return (header row, next free row)."""
    _put(ws, top, 1, table.title, "titre tableau")
    header = top + 1
    for col, column in enumerate(table.columns, start=1):
        _put(ws, header, col, column.header, "en-tête")
        widths[col] = max(widths.get(col, 0), column.width)
    row = header + 1
    formats = [column.fmt for column in table.columns]
    for values in table.rows:
        for col, value in enumerate(values, start=1):
            _put(ws, row, col, value, f"cellule {formats[col - 1]}")
        row += 1
    first_data, last_data = header + 1, row - 1
    if table.total:
        for col, value in enumerate(table.total, start=1):
            _put(ws, row, col, value, f"total {formats[col - 1]}")
        row += 1
    if table.note:
        _put(ws, row, 1, table.note, "note")
        row += 1
    if table.chart and table.rows:
        chart = BarChart()
        chart.type, chart.grouping, chart.title = "col", "clustered", table.chart.title
        chart.y_axis.title, chart.y_axis.majorGridlines = "Logements", None
        chart.height, chart.width = 7, 14
        for index in table.chart.series:
            data = Reference(ws, min_col=index + 1, min_row=header, max_row=last_data)
            chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=first_data, max_row=last_data))
        ws.add_chart(chart, f"{get_column_letter(len(table.columns) + 2)}{top}")
    return header, row + 1


def _write_sheet(wb: Workbook, sheet: Sheet, report: Report) -> None:
    ws = wb.create_sheet(sheet.name[:31])
    _put(ws, 1, 1, sheet.title, "titre")
    _put(
        ws,
        2,
        1,
        f"{report.destinataire} – {_bailleur(report)} – {report.perimetre}",
        "sous-titre",
    )
    widths: dict[int, int] = {}
    row, headers = 4, []
    for table in sheet.tables:
        header, row = _write_table(ws, table, row, widths)
        headers.append(header)
    _widths(ws, widths)
    # A single table keeps its header in view; stacked tables keep the sheet title.
    ws.freeze_panes = f"A{headers[0] + 1}" if len(headers) == 1 else "A3"
    ws.print_title_rows = f"1:{headers[0] if len(headers) == 1 else 2}"
    _header_footer(ws, report, sheet.landscape)


def _write_cover(wb: Workbook, report: Report, run_id: str, generated_at: dt.datetime) -> None:
    ws = wb.active
    ws.title = "Page de garde"
    _put(ws, 1, 1, report.titre, "titre")
    lines = (
        ("Destinataire", report.destinataire),
        ("Code du destinataire", report.recipient_code),
        ("Courriel", report.email or "non communiqué"),
        ("Bailleur (SIREN)", report.bailleur),
        ("Année du bilan", report.annee),
        ("Périmètre", report.perimetre),
        ("Date de génération", generated_at.strftime("%d/%m/%Y %H:%M")),
        ("Exécution qui a généré ce fichier", run_id),
        ("Version de la trame", TEMPLATE_VERSION),
        ("Empreinte du contenu", report.fingerprint),
    )
    for row, (label, value) in enumerate(lines, start=3):
        _put(ws, row, 1, label, "libellé")
        _put(ws, row, 2, value, "texte")
    row = 3 + len(lines)
    _put(
        ws,
        row,
        1,
        "Ce fichier n'est réécrit que lorsque ses chiffres changent : la date et l'exécution "
        "indiquées sont celles de sa dernière génération.",
        "note",
    )
    row += 2
    _put(ws, row, 1, "Fichiers déposés par le bailleur à l'origine des chiffres", "titre tableau")
    row += 1
    for col, header in enumerate(("Fichier", "Empreinte SHA-256", "Déposé le"), start=1):
        _put(ws, row, col, header, "en-tête")
    for source in report.sources:
        row += 1
        for col, value in enumerate(source, start=1):
            _put(ws, row, col, value, "cellule text")
    if not report.sources:
        _put(
            ws,
            row + 1,
            1,
            "Consolidation de plusieurs bailleurs : voir les trames de chaque bailleur.",
            "note",
        )
    _widths(ws, {1: 40, 2: 70, 3: 20})
    _header_footer(ws, report, landscape=True)


def _write_notice(wb: Workbook, report: Report) -> None:
    ws = wb.create_sheet("Notice")
    _put(ws, 1, 1, "Notice : comment lire ce document", "titre")
    for col, header in enumerate(("Indicateur", "Définition"), start=1):
        _put(ws, 3, col, header, "en-tête")
    for row, (label, explanation) in enumerate(report.notice, start=4):
        _put(ws, row, 1, label, "libellé")
        _put(ws, row, 2, explanation, "texte")
    _widths(ws, {1: 30, 2: 100})
    ws.freeze_panes = "A4"
    ws.print_title_rows = "3:3"
    _header_footer(ws, report, landscape=True)


def render(report: Report, run_id: str, generated_at: dt.datetime) -> bytes:
    """The workbook's bytes: deterministic for a given (report, run_id, generated_at)."""
    wb = Workbook()
    _register_styles(wb)
    _write_cover(wb, report, run_id, generated_at)
    for sheet in report.sheets:
        _write_sheet(wb, sheet, report)
    _write_notice(wb, report)
    wb.properties.creator = "Pipeline gestion en flux"
    wb.properties.title = report.titre
    wb.properties.created = wb.properties.modified = generated_at.replace(
        tzinfo=None, microsecond=0
    )
    wb.calculation = CalcProperties(fullCalcOnLoad=False)
    buffer = io.BytesIO()
    with _StableZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        _InMemoryExcelWriter(wb, archive).write_data()
    return buffer.getvalue()


RenderTask = tuple[Report, Path, str, dt.datetime]  # (report, target file, run id, generation time)


def write_report(task: RenderTask) -> tuple[str, str]:
    """Render and write one workbook; return (relative path, SHA-256). Runs in pool workers."""
    report, path, run_id, generated_at = task
    data = render(report, run_id, generated_at)
    write_bytes(path, data)
    return report.relpath, hashlib.sha256(data).hexdigest()
