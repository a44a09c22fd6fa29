"""Rapport de contrôle of one dropped file: an .xlsx for people and a .csv for machines.

Every cell is written as plain text: a value like ``=HYPERLINK(…)`` from a bailleur's file
stays text in the workbook, and is prefixed with an apostrophe in the CSV.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

import polars as pl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from dagster_project.atomic import write_bytes
from dagster_project.ingest.naming import safe_file_name

COLUMNS = ["Fichier", "Feuille", "Ligne", "Colonne", "Valeur", "Règle", "Gravité", "Message", "Conseil"]
SOURCE_COLUMNS = ["chemin", "feuille", "ligne", "colonne", "valeur", "regle", "gravite", "message", "conseil"]
MAX_XLSX_LINES = 20_000
_DANGEROUS = re.compile(r"^([=+@\t\r]|-(?!\d+([.,]\d+)?$))")

VERDICTS = {
    "ACCEPTE": "Fichier accepté",
    "ACCEPTE_AVEC_AVERTISSEMENTS": "Fichier accepté avec avertissements",
    "REJETE": "Fichier rejeté",
}


def report_base(rapports: Path, siren: str | None, annee: int | None, safe_name: str, sha256: str) -> Path:
    """``rapports/<annee>/<siren>/<name>.<sha8>`` or ``rapports/inconnu/<name>.<sha8>``.

    ``siren`` and ``annee`` come from the file-name pattern (digits only), ``safe_name``
    from ``naming.safe_file_name``: nothing untrusted reaches the path.
    """
    folder = rapports / str(annee) / siren if siren and annee else rapports / "inconnu"
    return folder / f"{safe_name}.{sha256[:8]}.controle"


def version_report_base(rapports: Path, siren: str | None, annee: int | None, name: str,
                        version: str) -> Path:
    """The rapport of one file version (``dropped.version_id``): the key names the content
    *and* the place. Shared by ingestion, which writes it, and the tracking, which links it."""
    key = hashlib.sha256(version.encode()).hexdigest()
    return report_base(rapports, siren, annee, safe_file_name(name), key)


def write_report(base: Path, header: dict[str, str], anomalies: pl.DataFrame) -> tuple[Path, Path]:
    rows = [[_text(v) for v in r] for r in anomalies.select(SOURCE_COLUMNS).iter_rows()]
    xlsx, csv_path = base.with_name(base.name + ".xlsx"), base.with_name(base.name + ".csv")
    write_bytes(xlsx, _xlsx_bytes(header, rows))
    write_bytes(csv_path, _csv_bytes(rows))
    return xlsx, csv_path


def _text(value) -> str:
    return "" if value is None else str(value)


def _xlsx_bytes(header: dict[str, str], rows: list[list[str]]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Rapport de contrôle")
    bold = Font(bold=True)
    for key, value in header.items():
        ws.append([_cell(ws, key, bold), _cell(ws, value)])
    ws.append([])
    ws.append([_cell(ws, c, bold) for c in COLUMNS])
    if not rows:
        ws.append([_cell(ws, "Aucune anomalie.")])
    for row in rows[:MAX_XLSX_LINES]:
        ws.append([_cell(ws, v) for v in row])
    if len(rows) > MAX_XLSX_LINES:
        ws.append([_cell(ws, f"… {len(rows) - MAX_XLSX_LINES} autres anomalies : voir le fichier .csv.")])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _cell(ws, value: str, font: Font | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"  # never a formula, even when the text starts with "="
    if font is not None:
        cell.font = font
    return cell


def _csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["'" + v if _DANGEROUS.match(v) else v for v in row])
    return out.getvalue().encode("utf-8-sig")  # BOM: Excel opens French text correctly
