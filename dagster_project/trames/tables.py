"""Table builders shared by several trame kinds (pure: mart rows in, ``Table`` out)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import polars as pl

from dagster_project.trames import categories
from dagster_project.trames.model import PCT, TEXT, Chart, Field, Ratio, Table, Value, table


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


PROPOSES, ATTRIBUES = "Logements proposés", "Logements attribués"


def counts(get=lambda r: r) -> tuple[Field, Field]:
    """The two counts of every consolidation, read from ``get(record)``'s keys."""
    return (
        Field(PROPOSES, lambda r: as_int(get(r).get("proposes"))),
        Field(ATTRIBUES, lambda r: as_int(get(r).get("attribues"))),
    )


def breakdown_table(dimension: str, title: str, cells: list[dict]) -> Table:
    """One legal breakdown: proposés and attribués per category, with shares and a total."""
    rows = [
        dict(code=code, label=label, proposes=p, attribues=a)
        for code, label, p, a in _breakdown_rows(dimension, cells)
    ]
    total_p = sum(r["proposes"] for r in rows)
    total_a = sum(r["attribues"] for r in rows)
    # The commune's INSEE code goes last: the five breakdowns, stacked on one sheet, keep the
    # same columns (label, counts, shares) and so the same widths.
    code = (Field("Code INSEE", lambda r: r["code"], TEXT),) if dimension == "commune" else ()
    fields = (
        Field(title, lambda r: r["label"], TEXT),
        *counts(),
        Field("Part des proposés", lambda r: share(r["proposes"], total_p), PCT, Ratio(PROPOSES, PROPOSES)),
        Field("Part des attribués", lambda r: share(r["attribues"], total_a), PCT, Ratio(ATTRIBUES, ATTRIBUES)),
        *code,
    )
    chart = Chart(f"Logements proposés et attribués – {title}", (PROPOSES, ATTRIBUES))
    return table(
        f"Ventilation : {title}",
        fields,
        rows,
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


SOUSTRAITS = "Logements soustraits du flux"
RELOGEMENTS = "Attributions au titre des relogements"


def soustraits_table(soustraits: pl.DataFrame, departements: Iterable[str]) -> Table:
    """Dwellings subtracted from the flux and rehousing attributions, by catégorie d'opération."""
    labels = categories.departements()
    records = []
    for dep in sorted(set(departements)):
        cells = {
            row["categorie_operation"]: row
            for row in soustraits.filter(pl.col("departement") == dep).iter_rows(named=True)
        }
        for code, label in categories.categories_operation():
            records.append((f"{dep} – {labels.get(dep, dep)}", label, cells.get(code, {})))
    return table(
        "Logements soustraits du flux et attributions au titre des relogements",
        (
            Field("Département", lambda r: r[0], TEXT, cap=24),
            Field("Catégorie d'opération", lambda r: r[1], TEXT, cap=56),
            Field(SOUSTRAITS, lambda r: as_int(r[2].get("soustraits"))),
            Field(RELOGEMENTS, lambda r: as_int(r[2].get("attributions_relogement"))),
        ),
        records,
    )


BAILLEUR_LABEL = "Contingent du bailleur (non réservé, repris)"
HORS_FLUX = "HORS_FLUX"
DETAIL_TOTAL = "Total des lignes"


def detail_table(detail: list[dict]) -> Table:
    """Per-destination detail of a territorial consolidation (hors flux apart)."""
    labels = categories.categories_reservataire()

    def own(r: dict) -> str:
        return BAILLEUR_LABEL if r["reservataire_code"] == "BAILLEUR" else ""

    # Label first, counts next, codes last: the tables stacked above and below (labelled
    # figures) share their first three columns, and so their widths, with this one.
    return table(
        "Détail par réservataire",
        (
            Field("Réservataire", lambda r: text(r.get("reservataire_nom")) or own(r), TEXT),
            *counts(),
            Field(
                "Catégorie",
                lambda r: labels.get(text(r.get("reservataire_categorie")), own(r)),
                TEXT,
            ),
            Field("Code", lambda r: text(r["reservataire_code"]), TEXT),
        ),
        detail,
        total=DETAIL_TOTAL,
    )


def reconciliation_table(consolidated: dict, detail: list[dict]) -> Table:
    """From the detail's total to the consolidated figures, line by line: a dwelling proposed to
    several destinations in turn counts once for each in the detail, once in the consolidation."""
    lines = {p: sum(as_int(r.get(p)) for r in detail) for p in ("proposes", "attribues")}
    distinct = {p: as_int(consolidated.get(p)) for p in ("proposes", "attribues")}
    return table(
        "Rapprochement du détail et du bilan consolidé",
        (Field("Ligne", lambda r: r[0], TEXT, cap=56), *counts(lambda r: r[1])),
        (
            (f"{DETAIL_TOTAL} du détail par réservataire", lines),
            (
                "moins : logements comptés pour plusieurs destinataires (proposés à l'un "
                "puis à un autre)",
                {p: distinct[p] - lines[p] for p in lines},
            ),
            ("= logements distincts du bilan consolidé", distinct),
            (
                "Logements soustraits du flux (hors flux), comptés à part",
                {p: as_int(consolidated.get(f"hors_flux_{p}")) for p in lines},
            ),
        ),
        total=None,
    )


def key_figures(
    title: str,
    figures: Iterable[tuple[str, Value, Value]],
    share_header: str = "Part du flux net",
    note: str | None = None,
) -> Table:
    """Labelled figures: (indicator, number, share) rows."""
    return table(
        title,
        (
            Field("Indicateur", lambda r: r[0], TEXT, cap=56),
            Field("Nombre", lambda r: r[1]),
            Field(share_header, lambda r: r[2], PCT),
        ),
        figures,
        total=None,
        note=note,
    )
