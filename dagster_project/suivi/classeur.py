"""The French tracking workbook ``suivi_campagne_<annee>.xlsx``: one row per bailleur, a tab
per département, the files nobody could be attributed, the deadlines and the legend.

Widths and heights come from the shared layout function (``documents/layout.py``), so no
text is cut in Excel or LibreOffice; dates are real dates in Paris time.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from dagster_project import status
from dagster_project.atomic import write_bytes
from dagster_project.documents.layout import (
    FONT,
    Grid,
    points_in,
    row_height,
    text_width,
    width_for,
)
from dagster_project.suivi import echeances as ech
from dagster_project.documents.dates import paris, paris_wall_time
from dagster_project.documents.workbook import new_workbook
from dagster_project.suivi.tableau import STATUTS, Suivi
from dagster_project.trames.categories import departements

HEADER_ROW = 4
FEUILLES = {"previsionnel": "prévisionnel"}  # sheet codes as French words
DATE_FORMAT = "DD/MM/YYYY HH:MM"
STATUT_COULEURS = {  # background of the status cell
    "absent": "F4CCCC", "rejeté": "F9CB9C", "incomplet": "FFF2CC", "bloqué": "D9D2E9",
    "complet": "CFE2F3", "publié": "D9EAD3",
}
DELAI_COULEURS = {ech.A_L_HEURE: "D9EAD3", ech.DANS_LA_TOLERANCE: "FFF2CC",
                  ech.EN_RETARD: "F9CB9C", ech.MANQUANT: "F4CCCC", ech.EN_ATTENTE: "FFFFFF"}
STATUT_SENS = {
    "absent": "attendu (référentiel) et aucun fichier déposé",
    "rejeté": "une feuille obligatoire n'a qu'une version rejetée : à redéposer",
    "incomplet": "une feuille obligatoire n'a jamais été déposée",
    "bloqué": "complet, mais un contrôle qualité bloquant a échoué : pas de trames",
    "complet": "toutes les feuilles obligatoires acceptées, contrôles qualité pas encore passés",
    "publié": "complet et contrôlé : trames écrites, compté dans les consolidations régionales",
}


@dataclass(frozen=True)
class Colonne:
    titre: str
    valeur: Callable[[dict], object]
    date: bool = False
    large: bool = False  # wrapped text, width capped
    nombre: bool = False


def _feuille(nom: str) -> Callable[[dict], str]:
    def valeur(r: dict) -> str:
        verdict = status.VERDICT_LIBELLES.get(r[f"{nom}_verdict"], r[f"{nom}_verdict"])
        depot = paris(r[f"{nom}_depot"])
        return f"{verdict} ({depot[:10]})" if depot else verdict
    return valeur


def _paris(key: str) -> Callable[[dict], object]:
    return lambda r: paris_wall_time(r[key]) if r[key] else None


COLONNES = [
    Colonne("SIREN", lambda r: r["bailleur_siren"]),
    Colonne("Bailleur", lambda r: r["bailleur_nom"]),
    Colonne("Départements", lambda r: r["departements"].replace(",", ", ")),
    Colonne("Statut", lambda r: r["statut_libelle"]),
    Colonne("Délai", lambda r: r["delai"]),
    Colonne("Complet le", _paris("depot_complet"), date=True),
    Colonne("Premier dépôt", _paris("premier_depot"), date=True),
    Colonne("Dernier dépôt", _paris("dernier_depot"), date=True),
    *(Colonne(f"Feuille {FEUILLES.get(f, f)}", _feuille(f)) for f in status.all_sheets()),
    Colonne("Fichiers", lambda r: r["nb_fichiers"], nombre=True),
    Colonne("Dernier fichier", lambda r: r["dernier_fichier"]),
    Colonne("Erreurs (dernier fichier)", lambda r: r["nb_erreurs"], nombre=True),
    Colonne("Avertissements (dernier fichier)", lambda r: r["nb_avertissements"], nombre=True),
    Colonne("Trames", lambda r: r["nb_trames"], nombre=True),
    Colonne("Trames écrites le", lambda r: paris(r["trames_le"])),
    Colonne("Motif", lambda r: r["motif"], large=True),
    Colonne("Courriels", lambda r: r["courriels"].replace(",", ", ")),
]
NON_ATTRIBUES = [
    Colonne("Fichier déposé", lambda r: r["chemin"]),
    Colonne("SIREN lu", lambda r: r["bailleur_siren"] or ""),
    Colonne("Déposé le", _paris("apparu_le"), date=True),
    Colonne("Motif", lambda r: r["motif"], large=True),
    Colonne("Rapport de contrôle", lambda r: r["rapport"]),
]


def _fill(color: str) -> PatternFill:
    return PatternFill("solid", start_color=color, end_color=color)


def _title(ws: Worksheet, lines: list[str]) -> None:
    """Title lines above the table: unwrapped, they spill over the empty cells beside them."""
    for i, line in enumerate(lines, start=1):
        ws.cell(i, 1, line).font = Font(name=FONT, size=12 if i == 1 else 10, bold=i == 1)
    ws.row_dimensions[1].height = row_height(1, 12)


def _table(ws: Worksheet, colonnes: list[Colonne], rows: list[dict], grid: Grid) -> None:
    bold = Font(name=FONT, size=10, bold=True)
    regular = Font(name=FONT, size=10)
    for c, col in enumerate(colonnes, start=1):
        cell = ws.cell(HEADER_ROW, c, col.titre)
        cell.font, cell.alignment = bold, Alignment(wrap_text=True, vertical="top")
        cell.fill = _fill("E7E6E6")
        grid.add(HEADER_ROW, c, col.titre, bold=True, wrap=True, max_lines=2)
        grid.caps[c] = 50 if col.large else 10  # headers wrap on two lines rather than widen
    for r, row in enumerate(rows, start=HEADER_ROW + 1):
        for c, col in enumerate(colonnes, start=1):
            value = col.valeur(row)
            cell = ws.cell(r, c, value)
            cell.font = regular
            centred = col.date or col.nombre
            cell.alignment = Alignment(wrap_text=col.large, vertical="top",
                                       horizontal="center" if centred else None)
            if col.date and value is not None:
                cell.number_format = DATE_FORMAT
                # sized for the ISO text the shared checker measures, a little wider than shown
                grid.add(r, c, str(value))
            elif value is not None:
                grid.add(r, c, str(value), wrap=col.large)
            if col.titre == "Statut":
                cell.fill = _fill(STATUT_COULEURS[value])
            elif col.titre == "Délai":
                cell.fill = _fill(DELAI_COULEURS[value])
    last = get_column_letter(len(colonnes))
    ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + max(len(rows), 1)}"
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 3 if colonnes is COLONNES else 1)


def _size(ws: Worksheet, grid: Grid, titles: list[str] = ()) -> None:
    widths = grid.widths()
    # a title spills over the table's empty cells: the table must be as wide as its titles
    need = max((text_width(t, 12 if i == 0 else 10, i == 0) for i, t in enumerate(titles)), default=0)
    total = sum(points_in(w) for w in widths.values())
    if widths and need > total:
        last = max(widths)
        widths[last] = width_for(points_in(widths[last]) + need - total)
    for c, w in widths.items():
        ws.column_dimensions[get_column_letter(c)].width = w
    for r, h in grid.heights(widths).items():
        ws.row_dimensions[r].height = h
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    # two pages wide, SIREN and name repeated: one page would print too small to read
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 2, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_title_cols = "A:B"


def _sheet(wb: Workbook, titre: str, lines: list[str], colonnes: list[Colonne],
           rows: list[dict]) -> Worksheet:
    ws = wb.create_sheet(titre)
    grid = Grid()
    _title(ws, lines)
    _table(ws, colonnes, rows, grid)
    _size(ws, grid, lines)
    return ws


def _echeances_lines(s: Suivi) -> list[str]:
    e = s.echeances
    return [
        f"Date légale : {paris(e.date_legale)} ; tolérance : {paris(e.date_tolerance)} ; "
        f"relance des absents à partir du {paris(e.date_relance)}. "
        f"Situation au {paris(s.evalue_le)} (heure de Paris).",
    ]


def _legende(wb: Workbook, s: Suivi) -> None:
    ws = wb.create_sheet("Légende")
    grid = Grid()
    rows = [("Statut", "Signification")] + [(lib, STATUT_SENS[lib]) for lib in STATUTS.values()]
    rows += [("", ""), ("Délai", "Signification"),
             (ech.A_L_HEURE, f"complet au plus tard le {paris(s.echeances.date_legale)}"),
             (ech.DANS_LA_TOLERANCE, f"complet au plus tard le {paris(s.echeances.date_tolerance)}"),
             (ech.EN_RETARD, f"complet après le {paris(s.echeances.date_tolerance)}"),
             (ech.MANQUANT, "pas encore complet, date légale passée"),
             (ech.EN_ATTENTE, "pas encore complet, date légale à venir")]
    if s.problemes_referentiel:
        rows += [("", ""), ("Référentiel", "Lignes ignorées de ref_bailleurs.csv")]
        rows += [("", p) for p in s.problemes_referentiel]
    for r, (a, b) in enumerate(rows, start=1):
        head = b == "Signification" or b.startswith("Lignes ignorées")
        for c, v in ((1, a), (2, b)):
            cell = ws.cell(r, c, v or None)
            cell.font = Font(name=FONT, size=10, bold=head)
            grid.add(r, c, v, bold=head)
        color = STATUT_COULEURS.get(a) or (DELAI_COULEURS.get(a) if a in ech.DELAIS else None)
        if color:
            ws.cell(r, 1).fill = _fill(color)
    _size(ws, grid)


def workbook_bytes(s: Suivi) -> bytes:
    wb = new_workbook()
    wb.remove(wb.active)
    rows = s.lignes.to_dicts()
    title = f"Suivi de la campagne des bilans {s.annee}"
    counts = ", ".join(f"{lib} : {s.count(code)}" for code, lib in STATUTS.items())
    _sheet(wb, "Tous les bailleurs",
           [title, *_echeances_lines(s), f"{len(rows)} bailleurs — {counts}."], COLONNES, rows)
    noms = departements()
    for dep in sorted(noms):
        mine = [r for r in rows if dep in r["departements"].split(",")]
        _sheet(wb, f"Dép. {dep}", [f"{title} — {noms[dep]} ({dep})", *_echeances_lines(s),
                                   f"{len(mine)} bailleur(s) ayant des logements dans le département."],
               COLONNES, mine)
    files = s.non_attribues.to_dicts()
    _sheet(wb, "Fichiers non attribués",
           [f"{title} — fichiers non attribués", f"{len(files)} fichier(s) déposé(s) sans bailleur "
            "attendu reconnu : nom sans SIREN ou sans année, ou SIREN absent du référentiel."],
           NON_ATTRIBUES, files)
    _legende(wb, s)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def workbook_path(folder: Path, annee: int) -> Path:
    return folder / f"suivi_campagne_{annee}.xlsx"


def write_workbook(folder: Path, s: Suivi) -> Path:
    target = workbook_path(folder, s.annee)
    write_bytes(target, workbook_bytes(s))
    return target
