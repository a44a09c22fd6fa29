"""Draw a ``Report`` as an .xlsx workbook with openpyxl: cover, notice, tables, charts, print setup.

Column widths and row heights come from the text written (``documents.layout``): every cell
goes through ``documents.sheet.Page.put``, which also hands its text to the sheet's layout
grid. Zip entry times and document properties are pinned so that the same report, run id and
generation time give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.utils import get_column_letter
from openpyxl.workbook.properties import CalcProperties
from openpyxl.worksheet.table import Table as ExcelTable
from openpyxl.worksheet.table import TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from dagster_project.atomic import write_bytes
from dagster_project.documents.dates import PARIS_LABEL, paris
from dagster_project.documents.sheet import Page, print_setup, register_styles
from dagster_project.documents.workbook import new_workbook
from dagster_project.private_api.openpyxl_writer import write_workbook
from dagster_project.trames.model import SUM, TEMPLATE_VERSION, TEXT, Ratio, Report, Sheet, Table

TEXT_CAP = 40.0  # widest a text column grows before wrapping, unless its Column says otherwise
CHART_ROWS = 16  # rows a chart covers (7 cm high), left free below the tables


# Pinned so that identical content gives identical bytes (zip entries carry a timestamp).
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


class _StableZipFile(zipfile.ZipFile):
    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=ZIP_DATE)
            zinfo_or_arcname.compress_type = zipfile.ZIP_DEFLATED
            zinfo_or_arcname.external_attr = 0o600 << 16
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        # openpyxl's own writer adds each worksheet from a temporary file, whose time stamp
        # the entry would carry
        self.writestr(arcname or str(filename), Path(filename).read_bytes())


def _bailleur(report: Report) -> str:
    return f"bailleur {report.bailleur}" if report.bailleur.isdigit() else report.bailleur.lower()


def _header_footer(ws: Worksheet, report: Report, landscape: bool) -> None:
    print_setup(ws, f"Bilan {report.annee} – {_bailleur(report)}", landscape)


def _caps(tables: tuple[Table, ...]) -> dict[int, float]:
    """Per column, the widest cap any stacked table gives it (text columns wrap beyond)."""
    caps: dict[int, float] = {}
    for table in tables:
        for col, column in enumerate(table.columns, start=1):
            cap = column.cap or (TEXT_CAP if column.fmt == TEXT else None)
            if cap:
                caps[col] = max(caps.get(col, 0.0), cap)
    return caps


def _subtotal(table: Table, col: int, first: int, last: int):
    """The total of a filterable table's column as a formula that follows the filter."""
    rule = table.columns[col - 1].total if table.columns[col - 1].fmt != TEXT else None

    def over(header: str) -> str:
        letter = get_column_letter(1 + [c.header for c in table.columns].index(header))
        return f"SUBTOTAL(109,{letter}{first}:{letter}{last})"

    if rule == SUM:
        return f"={over(table.columns[col - 1].header)}"
    if isinstance(rule, Ratio):
        whole = over(rule.denominator)
        return f'=IF({whole}=0,"",{over(rule.numerator)}/{whole})'
    return None


def _write_table(
    page: Page, table: Table, top: int, span: int, name: str
) -> tuple[int, int, BarChart | None]:
    """Write ``table`` from row ``top``; return (header row, next free row, its chart)."""
    ws = page.ws
    page.put(top, 1, table.title, "titre tableau", span=span)
    header = top + 1
    for col, column in enumerate(table.columns, start=1):
        page.put(header, col, column.header, "en-tête")
    row = header + 1
    formats = [column.fmt for column in table.columns]
    for values in table.rows:
        for col, value in enumerate(values, start=1):
            page.put(row, col, value, f"cellule {formats[col - 1]}")
        row += 1
    first_data, last_data = header + 1, row - 1
    filtered = table.filterable and table.rows
    if filtered:
        excel_table = ExcelTable(displayName=name, ref=f"A{header}:{get_column_letter(len(table.columns))}{last_data}")
        excel_table.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=False)
        ws.add_table(excel_table)
    if table.total:
        for col, value in enumerate(table.total, start=1):
            formula = _subtotal(table, col, first_data, last_data) if filtered and col > 1 else None
            style = f"total {formats[col - 1]}"
            if formula:
                page.put(row, col, formula, style, shown=value)
            else:
                page.put(row, col, value, style)
        row += 1
    if table.note:
        page.put(row, 1, table.note, "note", span=span)
        row += 1
    chart = None
    if table.chart and table.rows:
        headers = [c.header for c in table.columns]
        chart = BarChart()
        chart.type, chart.grouping, chart.title = "col", "clustered", table.chart.title
        chart.y_axis.title, chart.y_axis.majorGridlines = "Logements", None
        chart.height, chart.width = 7, 14
        for series in table.chart.series:
            index = headers.index(series) + 1
            data = Reference(ws, min_col=index, min_row=header, max_row=last_data)
            chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=first_data, max_row=last_data))
    return header, row + 1, chart


def _write_sheet(wb: Workbook, sheet: Sheet, report: Report, index: int) -> None:
    ws = wb.create_sheet(sheet.name[:31])
    page = Page(ws, _caps(sheet.tables))
    span = max(len(t.columns) for t in sheet.tables)
    page.put(1, 1, sheet.title, "titre", span=span)
    page.put(
        2, 1, f"{report.destinataire} – {_bailleur(report)} – {report.perimetre}", "sous-titre",
        span=span,
    )
    row, headers = 4, []
    charts = []
    for number, table in enumerate(sheet.tables, start=1):
        header, row, chart = _write_table(page, table, row, span, f"Tableau{index}_{number}")
        headers.append(header)
        charts += [chart] if chart else []
    # Charts go below the tables, not beside them: the page keeps the tables' width.
    for chart in charts:
        page.ws.add_chart(chart, f"A{row}")
        row += CHART_ROWS
    page.finish()
    # A single table keeps its header in view; stacked tables keep the sheet title.
    ws.freeze_panes = f"A{headers[0] + 1}" if len(headers) == 1 else "A3"
    ws.print_title_rows = f"1:{headers[0] if len(headers) == 1 else 2}"
    _header_footer(ws, report, sheet.landscape)


def _write_cover(wb: Workbook, report: Report, run_id: str, generated_at: dt.datetime) -> None:
    ws = wb.active
    ws.title = "Page de garde"
    page = Page(ws, {1: 36, 2: 70, 3: 24})
    page.put(1, 1, report.titre, "titre", span=3)
    lines = (
        ("Destinataire", report.destinataire),
        ("Code du destinataire", report.recipient_code),
        ("Courriel", report.email or "non communiqué"),
        ("Bailleur (SIREN)", report.bailleur),
        ("Année du bilan", str(report.annee)),
        ("Périmètre", report.perimetre),
        (f"Date de génération ({PARIS_LABEL})", paris(generated_at)),
        ("Exécution qui a généré ce fichier", run_id),
        ("Version de la trame", TEMPLATE_VERSION),
        ("Empreinte du contenu", report.fingerprint),
    )
    for row, (label, value) in enumerate(lines, start=3):
        page.put(row, 1, label, "libellé")
        page.put(row, 2, value, "texte")
    row = 3 + len(lines)
    page.put(
        row,
        1,
        "Ce fichier n'est réécrit que lorsque ses chiffres changent : la date et l'exécution "
        "indiquées sont celles de sa dernière génération.",
        "note",
        span=3,
    )
    row += 2
    if not report.sources:  # regional trames: the sources are each bailleur's
        page.put(row, 1, "Fichiers à l'origine des chiffres", "titre tableau", span=3)
        page.put(
            row + 1,
            1,
            "Consolidation de plusieurs bailleurs : les fichiers déposés sont indiqués sur la "
            "page de garde des trames de chaque bailleur.",
            "note",
            span=3,
        )
    else:
        page.put(row, 1, "Fichiers déposés par le bailleur à l'origine des chiffres", "titre tableau",
                 span=3)
        row += 1
        for col, header in enumerate(("Fichier", "Empreinte SHA-256", f"Déposé le ({PARIS_LABEL})"),
                                     start=1):
            page.put(row, col, header, "en-tête")
        for source in report.sources:
            row += 1
            for col, value in enumerate(source, start=1):
                page.put(row, col, value, "cellule text")
    page.finish()
    _header_footer(ws, report, landscape=True)


def _write_notice(wb: Workbook, report: Report) -> None:
    ws = wb.create_sheet("Notice")
    page = Page(ws, {1: 28, 2: 95})
    page.put(1, 1, "Notice : comment lire ce document", "titre", span=2)
    for col, header in enumerate(("Indicateur", "Définition"), start=1):
        page.put(3, col, header, "en-tête")
    for row, (label, explanation) in enumerate(report.notice, start=4):
        page.put(row, 1, label, "libellé")
        page.put(row, 2, explanation, "texte")
    page.finish()
    ws.freeze_panes = "A4"
    ws.print_title_rows = "3:3"
    _header_footer(ws, report, landscape=True)


def build_workbook(report: Report, run_id: str, generated_at: dt.datetime) -> Workbook:
    """The report drawn as an openpyxl workbook, not serialised yet."""
    wb = new_workbook()
    register_styles(wb)
    _write_cover(wb, report, run_id, generated_at)
    for index, sheet in enumerate(report.sheets, start=1):
        _write_sheet(wb, sheet, report, index)
    _write_notice(wb, report)
    wb.properties.creator = "Pipeline gestion en flux"
    wb.properties.title = report.titre
    wb.properties.created = wb.properties.modified = generated_at.replace(
        tzinfo=None, microsecond=0
    )
    # Totals of filterable tables are formulas written without a cached value: computed on load.
    filterable = any(t.filterable for sheet in report.sheets for t in sheet.tables)
    wb.calculation = CalcProperties(fullCalcOnLoad=filterable)
    return wb


def serialise(wb: Workbook, stock_writer: bool | None = None) -> bytes:
    """The workbook's .xlsx bytes (openpyxl's own writer when ``stock_writer``)."""
    buffer = io.BytesIO()
    with _StableZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        write_workbook(wb, archive, stock_writer)
    return buffer.getvalue()


def render(report: Report, run_id: str, generated_at: dt.datetime) -> bytes:
    """The workbook's bytes: deterministic for a given (report, run_id, generated_at)."""
    return serialise(build_workbook(report, run_id, generated_at))


RenderTask = tuple[Report, Path, str, dt.datetime]  # (report, target file, run id, generation time)


def write_report(task: RenderTask) -> tuple[str, str]:
    """Render and write one workbook; return (relative path, SHA-256). Runs in pool workers."""
    report, path, run_id, generated_at = task
    data = render(report, run_id, generated_at)
    write_bytes(path, data)
    return report.relpath, hashlib.sha256(data).hexdigest()
