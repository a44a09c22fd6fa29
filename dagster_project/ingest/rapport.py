"""Rapport de contrôle of one dropped file: an .xlsx for people and a .csv for machines.

The workbook is written for the bailleur who must fix the file: a summary first (the verdict,
what blocks, then one line per rule × sheet × column with its count, example rows, an example
value and the fix), then the detail, one line per anomaly. Widths and heights come from the
text (``documents.layout``), headers stay in view, the detail has filters, both print on A4
landscape with their titles repeated, and row numbers are numbers.

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

from dagster_project.atomic import write_bytes
from dagster_project.documents.sheet import INT, TEXT, Page, print_setup, register_styles
from dagster_project.documents.workbook import new_workbook
from dagster_project.ingest.naming import safe_file_name

COLUMNS = ["Fichier", "Feuille", "Ligne", "Colonne", "Valeur", "Règle", "Gravité", "Message", "Conseil"]
SOURCE_COLUMNS = ["chemin", "feuille", "ligne", "colonne", "valeur", "regle", "gravite", "message", "conseil"]
MAX_XLSX_LINES = 20_000
EXAMPLES = 5  # example rows per line of the summary
_DANGEROUS = re.compile(r"^([=+@\t\r]|-(?!\d+([.,]\d+)?$))")

VERDICTS = {
    "ACCEPTE": "Fichier accepté",
    "ACCEPTE_AVEC_AVERTISSEMENTS": "Fichier accepté avec avertissements",
    "REJETE": "Fichier rejeté",
}
GRAVITES = {"ERREUR": "Erreur (bloquante)", "AVERTISSEMENT": "Avertissement"}

# The detail's columns: (header, source column, format, widest before wrapping).
DETAIL = (
    ("Feuille", "feuille", TEXT, 16),
    ("Ligne", "ligne", INT, None),
    ("Colonne", "colonne", TEXT, 24),
    ("Valeur", "valeur", TEXT, 30),
    ("Règle", "regle", TEXT, 30),
    ("Gravité", "gravite", TEXT, 20),
    ("Message", "message", TEXT, 60),
    ("Conseil", "conseil", TEXT, 60),
)
SUMMARY = (
    ("Gravité", TEXT, 20),
    ("Feuille", TEXT, 16),
    ("Colonne", TEXT, 24),
    ("Règle", TEXT, 30),
    ("Nombre", INT, None),
    ("Lignes (exemples)", TEXT, 22),
    ("Valeur (exemple)", TEXT, 24),
    ("Message (exemple)", TEXT, 50),
    ("Conseil", TEXT, 50),
)


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
    write_bytes(xlsx, xlsx_bytes(header, rows))
    write_bytes(csv_path, _csv_bytes(rows))
    return xlsx, csv_path


def _text(value) -> str:
    return "" if value is None else str(value)


def _line(value: str) -> int | str:
    """Row numbers as numbers (sortable, filterable); anything else as the text it is."""
    return int(value) if value.isdigit() else value


def summary_lines(rows: list[list[str]]) -> list[tuple]:
    """One line per (gravité, sheet, column, rule): errors first, then the most frequent."""
    groups: dict[tuple[str, str, str, str], list[list[str]]] = {}
    for row in rows:
        _, feuille, _, colonne, _, regle, gravite, _, _ = row
        groups.setdefault((gravite, feuille, colonne, regle), []).append(row)
    ordered = sorted(groups.items(), key=lambda item: (item[0][0] != "ERREUR", -len(item[1]), item[0]))
    lines = []
    for (gravite, feuille, colonne, regle), members in ordered:
        numbers = [m[2] for m in members[:EXAMPLES] if m[2]]
        more = " …" if len(members) > EXAMPLES else ""
        first = members[0]
        lines.append((
            GRAVITES.get(gravite, gravite), feuille, colonne, regle, len(members),
            ", ".join(numbers) + more, first[4], first[7], first[8],
        ))
    return lines


def _what_blocks(header: dict[str, str], rows: list[list[str]]) -> str:
    errors = sum(r[6] == "ERREUR" for r in rows)
    warnings = len(rows) - errors
    if errors:
        return (
            f"Ce qui bloque : {errors} erreur(s). Le fichier n'est pas pris en compte tant qu'elles "
            "ne sont pas corrigées : corrigez-les (voir le conseil de chaque ligne ci-dessous) puis "
            "redéposez le fichier complet."
            + (f" Les {warnings} avertissement(s) ne bloquent pas." if warnings else "")
        )
    if warnings:
        return (
            f"Rien ne bloque : le fichier est pris en compte. {warnings} avertissement(s) signalent "
            "des valeurs à vérifier ; corrigez-les au prochain dépôt si elles sont erronées."
        )
    return "Rien ne bloque : le fichier est pris en compte."


def xlsx_bytes(header: dict[str, str], rows: list[list[str]]) -> bytes:
    wb = new_workbook()
    register_styles(wb)
    title = f"Rapport de contrôle – {header.get('Rapport de contrôle', '')}"
    footer = title[:80]
    _write_summary(wb.active, header, rows, title, footer)
    _write_detail(wb.create_sheet("Détail"), rows, footer)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _write_summary(ws, header: dict[str, str], rows: list[list[str]], title: str, footer: str) -> None:
    ws.title = "Synthèse"
    page = Page(ws, {col: cap for col, (_, _, cap) in enumerate(SUMMARY, start=1) if cap})
    span = len(SUMMARY)
    page.put(1, 1, title, "titre", span=span)
    row = 3
    for label, value in header.items():  # labels over three columns, values over the rest
        page.put(row, 1, label, "libellé", span=3)
        page.put(row, 4, value, "libellé" if label == "Verdict" else "texte", span=span - 3)
        row += 1
    row += 1
    page.put(row, 1, _what_blocks(header, rows), "libellé", span=span)
    row += 2
    page.put(row, 1, "Anomalies par règle, feuille et colonne", "titre tableau", span=span)
    row += 1
    header_row = row
    for col, (name, _, _) in enumerate(SUMMARY, start=1):
        page.put(row, col, name, "en-tête")
    for line in summary_lines(rows):
        row += 1
        for col, ((_, fmt, _), value) in enumerate(zip(SUMMARY, line, strict=True), start=1):
            page.put(row, col, value, f"cellule {fmt}")
    if not rows:
        row += 1
        page.put(row, 1, "Aucune anomalie.", "texte", span=span)
    page.put(row + 2, 1, "Le détail, une ligne par anomalie, est dans l'onglet « Détail » "
             "(et dans le fichier .csv de même nom).", "note", span=span)
    page.finish()
    ws.freeze_panes = f"A{header_row + 1}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    print_setup(ws, footer, landscape=True)


def _write_detail(ws, rows: list[list[str]], footer: str) -> None:
    page = Page(ws, {col: cap for col, (_, _, _, cap) in enumerate(DETAIL, start=1) if cap})
    for col, (name, _, _, _) in enumerate(DETAIL, start=1):
        page.put(1, col, name, "en-tête")
    index = {name: i for i, name in enumerate(SOURCE_COLUMNS)}
    # In the file's order: sheet, then row, then column (the bailleur fixes it top to bottom).
    ordered = sorted(rows, key=lambda r: (r[1], not r[2].isdigit(), int(r[2]) if r[2].isdigit() else 0, r[3]))
    for row, values in enumerate(ordered[:MAX_XLSX_LINES], start=2):
        for col, (_, source, fmt, _) in enumerate(DETAIL, start=1):
            value = values[index[source]]
            if source == "ligne":
                value = _line(value)
            elif source == "gravite":
                value = GRAVITES.get(value, value)
            page.put(row, col, value, f"cellule {fmt}")
    last = 1 + min(len(rows), MAX_XLSX_LINES)
    if not rows:
        page.put(2, 1, "Aucune anomalie.", "texte", span=len(DETAIL))
    elif len(rows) > MAX_XLSX_LINES:
        page.put(last + 1, 1, f"… {len(rows) - MAX_XLSX_LINES} autres anomalies : voir le fichier .csv.",
                 "note", span=len(DETAIL))
    page.finish()
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:H{last}"
    ws.print_title_rows = "1:1"
    print_setup(ws, footer, landscape=True)


def _csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["'" + v if _DANGEROUS.match(v) else v for v in row])
    return out.getvalue().encode("utf-8-sig")  # BOM: Excel opens French text correctly
