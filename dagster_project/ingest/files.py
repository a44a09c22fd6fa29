"""Checking one dropped file on its own: name, size, container, sheets, then every sheet."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dagster_project.ingest.contract import sheets
from dagster_project.ingest.copies import EarlierDrop
from dagster_project.ingest.dropped import DroppedFile, open_inside
from dagster_project.ingest.naming import SUPPORTED_EXTENSIONS, plausible_year, siren_checksum_ok
from dagster_project.ingest.reader import ReadResult, read_csv, read_xlsx
from dagster_project.ingest.rejection import Rejection
from dagster_project.ingest.validate import SheetResult, anomalies_frame, validate_sheet


@dataclass
class CheckedFile:
    """The file and what its own content says (before cross-file references)."""

    file: DroppedFile
    sheets: dict[str, SheetResult] = field(default_factory=dict)
    notes: list[dict] = field(default_factory=list)  # file- and sheet-level anomaly rows
    extra: list[pl.DataFrame] = field(default_factory=list)  # cross-file anomaly rows

    def anomalies(self) -> pl.DataFrame:
        parts = [anomalies_frame(self.notes), *self.extra, *(s.anomalies for s in self.sheets.values())]
        return pl.concat(parts)


def check_file(file: DroppedFile, max_bytes: int, earlier: EarlierDrop | None = None) -> CheckedFile:
    """What the file says on its own. ``earlier``: the first drop of the same bytes elsewhere."""
    checked = CheckedFile(file)
    name = file.name

    def note(rule: str, **fields) -> None:
        checked.notes.append({"regle": rule, **fields})

    if file.refused is not None:
        note("FICHIER_LIEN", detail=file.refused)
        return checked
    if earlier is not None:
        checked.notes.append(earlier.rule(name.siren))
    if not name.identified:
        note("FICHIER_NOM", valeur=name.name)
    elif not plausible_year(name.annee):
        note("FICHIER_ANNEE", valeur=str(name.annee))
    if name.siren and not siren_checksum_ok(name.siren):
        note("FICHIER_SIREN_CLE", valeur=name.siren)
    folder = Path(file.chemin).parent.name
    if name.siren and len(folder) == 9 and folder.isdigit() and folder != name.siren:
        note("FICHIER_DOSSIER_SIREN", valeur=folder)
    if name.extension not in SUPPORTED_EXTENSIONS:
        note("FICHIER_EXTENSION", valeur=name.extension or "sans extension")
    elif file.size == 0:
        note("FICHIER_VIDE")
    elif file.size > max_bytes:
        note("FICHIER_TROP_GROS", detail=f"{file.size / 1024**2:.0f} Mo pour {max_bytes / 1024**2:.0f} Mo au plus")
    elif name.extension == ".csv" and name.identified and name.sheet is None:
        note("FICHIER_FEUILLE_INCONNUE", valeur=name.suffix)
    if any(n["regle"] in _BLOCKING_BEFORE_READ for n in checked.notes):
        return checked

    try:
        with open_inside(file.path, file.landing) as fh:
            result = read_xlsx(fh) if name.extension == ".xlsx" else read_csv(fh, name)
    except Rejection as rejection:
        note(rejection.code, detail=rejection.detail, valeur=rejection.valeur or None)
        return checked
    checked.notes.extend(result.notes)
    _check_sheets(checked, result, note)
    return checked


_BLOCKING_BEFORE_READ = {
    "FICHIER_NOM", "FICHIER_ANNEE", "FICHIER_EXTENSION", "FICHIER_VIDE", "FICHIER_TROP_GROS",
    "FICHIER_FEUILLE_INCONNUE", "FICHIER_COPIE_AUTRE_BAILLEUR",
}


def _check_sheets(checked: CheckedFile, result: ReadResult, note) -> None:
    workbook = checked.file.name.extension == ".xlsx"
    seen: dict[str, list[str]] = {}
    for raw in result.sheets:
        checked.notes.extend({"feuille": raw.sheet or raw.name, **n} for n in raw.notes)
        if raw.sheet is None:
            note("FEUILLE_INCONNUE", feuille=raw.name, valeur=raw.name)
            continue
        seen.setdefault(raw.sheet, []).append(raw.name)
        if len(seen[raw.sheet]) > 1:
            note("FEUILLE_EN_DOUBLE", feuille=raw.name, valeur=raw.sheet,
                 detail=", ".join(f"« {n} »" for n in seen[raw.sheet]))
            continue
        checked.sheets[raw.sheet] = validate_sheet(raw, checked.file.name.annee)
    if workbook:
        for spec in sheets().values():
            if spec.name not in seen:
                rule = "FEUILLE_MANQUANTE" if spec.required else "FEUILLE_FACULTATIVE_MANQUANTE"
                note(rule, feuille=spec.name, valeur=spec.name)
    if not any(s.typed.height for s in checked.sheets.values()):
        note("FICHIER_SANS_DONNEES")
        return
    for result_sheet in checked.sheets.values():
        if result_sheet.typed.height == 0:
            note("FEUILLE_VIDE", feuille=result_sheet.sheet)
