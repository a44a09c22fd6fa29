"""Table builders shared by several trame kinds (pure: mart rows in, ``Table`` out)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import polars as pl

from dagster_project.trames import categories
from dagster_project.trames.model import PCT, TEXT, Chart, Column, Table, Value


def round_half_up(value: float | None) -> int | None:
    """Rounding for display (droits): 22.5 → 23, not Python's banker's 22."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(math.floor(value + 0.5))


def ecart_affiche(realise: object, droit_arrondi: int | None) -> int | None:
    """Écart as printed: réalisé − droit arrondi, so the printed line adds up."""
    return None if droit_arrondi is None else as_int(realise) - droit_arrondi


def share(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return part / whole


def as_int(value: object) -> int:
    return int(value) if value is not None else 0


def text(value: object) -> str:
    return "" if value is None else str(value)


def sorted_rows(frame: pl.DataFrame, *columns: str) -> list[dict]:
    """Rows as dicts in a stable order; a mart not published yet has no rows (nor columns)."""
    return frame.sort(columns).to_dicts() if frame.height else []


def _breakdown_rows(dimension: str, cells: list[dict]) -> list[tuple[str, str, int, int]]:
    """(code, label, proposés, attribués) for every category, zeros included, seed order first."""
    values: dict[str, tuple[str, int, int]] = {}
    for row in sorted(
        cells, key=lambda r: (r.get("ordre") is None, r.get("ordre") or 0, text(r["valeur"]))
    ):
        code = text(row["valeur"])
        values[code] = (
            text(row.get("libelle")) or code,
            as_int(row["proposes"]),
            as_int(row["attribues"]),
        )
    rows = []
    for code, label in categories.dimension_categories(dimension):
        _, proposes, attribues = values.pop(code, (label, 0, 0))
        rows.append((code, label, proposes, attribues))
    # Values outside the reference list, in the mart's order, "non renseigné" last.
    for code, (label, proposes, attribues) in sorted(
        values.items(), key=lambda item: item[0] == categories.NON_RENSEIGNE
    ):
        if code == categories.NON_RENSEIGNE:
            label = categories.non_renseigne_label(dimension)
        elif dimension == "commune" and label == code:
            label = categories.communes().get(code, code)
        rows.append((code, label, proposes, attribues))
    return rows


def breakdown_table(dimension: str, title: str, cells: list[dict]) -> Table:
    """One legal breakdown: proposés and attribués per category, with shares and a total."""
    rows = _breakdown_rows(dimension, cells)
    total_p = sum(r[2] for r in rows)
    total_a = sum(r[3] for r in rows)
    with_code = dimension == "commune"
    head = (
        (Column("Code INSEE", TEXT, 12), Column("Commune", TEXT, 28))
        if with_code
        else (Column(title, TEXT, 28),)
    )
    columns = (
        *head,
        Column("Logements proposés"),
        Column("Logements attribués"),
        Column("Part des proposés", PCT),
        Column("Part des attribués", PCT),
    )
    body = tuple(
        ((code, label) if with_code else (label,)) + (p, a, share(p, total_p), share(a, total_a))
        for code, label, p, a in rows
    )
    total = (("Total", "") if with_code else ("Total",)) + (
        total_p,
        total_a,
        share(total_p, total_p),
        share(total_a, total_a),
    )
    chart = Chart(f"Logements proposés et attribués – {title}", (1, 2))
    return Table(
        title=f"Ventilation : {title}",
        columns=columns,
        rows=body,
        total=total,
        chart=chart if dimension == "typologie" else None,
    )


def breakdown_tables(cells: pl.DataFrame) -> tuple[Table, ...]:
    """The five legal breakdowns of one recipient's ventilation rows."""
    by_dimension: dict[str, list[dict]] = {}
    for row in cells.iter_rows(named=True):
        by_dimension.setdefault(row["dimension"], []).append(row)
    return tuple(
        breakdown_table(dimension, title, by_dimension.get(dimension, []))
        for dimension, title in categories.dimensions()
    )


def soustraits_table(soustraits: pl.DataFrame, departements: Iterable[str]) -> Table:
    """Dwellings subtracted from the flux and rehousing attributions, by catégorie d'opération."""
    labels = categories.departements()
    rows: list[tuple[Value, ...]] = []
    for dep in sorted(set(departements)):
        cells = {
            row["categorie_operation"]: row
            for row in soustraits.filter(pl.col("departement") == dep).iter_rows(named=True)
        }
        for code, label in categories.categories_operation():
            row = cells.get(code, {})
            rows.append(
                (
                    f"{dep} – {labels.get(dep, dep)}",
                    label,
                    as_int(row.get("soustraits")),
                    as_int(row.get("attributions_relogement")),
                )
            )
    return Table(
        title="Logements soustraits du flux et attributions au titre des relogements",
        columns=(
            Column("Département", TEXT, 24),
            Column("Catégorie d'opération", TEXT, 50),
            Column("Logements soustraits du flux"),
            Column("Attributions au titre des relogements"),
        ),
        rows=tuple(rows),
        total=("Total", "", sum(r[2] for r in rows), sum(r[3] for r in rows)),
    )


def detail_table(detail: pl.DataFrame) -> Table:
    """Per-destination detail of a territorial consolidation."""
    labels = categories.categories_reservataire()
    special = {"BAILLEUR": "Contingent du bailleur (non réservé, repris)", "HORS_FLUX": "Hors flux"}
    rows = tuple(
        (
            text(row["reservataire_code"]),
            text(row.get("reservataire_nom")) or special.get(row["reservataire_code"], ""),
            labels.get(
                text(row.get("reservataire_categorie")), special.get(row["reservataire_code"], "")
            ),
            as_int(row["proposes"]),
            as_int(row["attribues"]),
        )
        for row in sorted_rows(detail, "reservataire_code")
    )
    return Table(
        title="Détail par réservataire",
        columns=(
            Column("Code", TEXT, 14),
            Column("Réservataire", TEXT, 36),
            Column("Catégorie", TEXT, 30),
            Column("Logements proposés"),
            Column("Logements attribués"),
        ),
        rows=rows,
        total=("Total", "", "", sum(r[3] for r in rows), sum(r[4] for r in rows)),
        note="« Hors flux » : logements soustraits du flux, hors consolidation.",
    )


def key_figures(
    title: str,
    figures: Iterable[tuple[str, Value, Value]],
    share_header: str = "Part du flux net",
    note: str | None = None,
) -> Table:
    """Labelled figures: (indicator, number, share) rows."""
    return Table(
        title=title,
        columns=(Column("Indicateur", TEXT, 56), Column("Nombre"), Column(share_header, PCT)),
        rows=tuple(figures),
        note=note,
    )
