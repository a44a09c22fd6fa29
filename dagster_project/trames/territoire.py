"""Trame EPCI / EPT: one bailleur's bilan consolidated over all réservataires on a territory.

Only the rows of the territory are read (``mart_bilan_territoire*`` and
``mart_territoire_ventilation`` are restricted to its communes by dbt); the bailleur's
département-level figures are deliberately not shown, they would cover other communes.
"""

from __future__ import annotations

import polars as pl

from dagster_project.trames import evolution
from dagster_project.trames.common import bailleur_report
from dagster_project.trames.loader import BailleurMarts
from dagster_project.trames.model import Report, Sheet, Table
from dagster_project.trames.tables import (
    HORS_FLUX,
    as_int,
    breakdown_tables,
    detail_table,
    key_figures,
    reconciliation_table,
    share,
    sorted_rows,
    text,
)

TERRITOIRES = {"EPCI": "EPCI", "EPT": "EPT", "COMMUNE": "Commune", "DEPARTEMENT": "Département"}
# Territories of an EPCI_EPT recipient: EPCI "LEC", EPT, and Paris as a commune (contracts §3).
LOCAL_TYPES = ("EPCI", "EPT", "COMMUNE")


def territory_rows(b: BailleurMarts, mart: str, code: str, types: tuple[str, ...]) -> pl.DataFrame:
    rows = b.rows_of(mart, "territoire_code", code)
    if rows.height and not set(rows["territoire_type"].unique()) <= set(types):
        rows = rows.filter(pl.col("territoire_type").is_in(types))
    return rows


def consolidated_table(row: dict) -> Table:
    attribues = as_int(row.get("attribues"))
    return key_figures(
        "Bilan consolidé sur l'ensemble des réservataires",
        (
            (
                "Logements proposés (tous destinataires, hors flux exclu)",
                as_int(row.get("proposes")),
                None,
            ),
            (
                "Logements attribués (tous destinataires, hors flux exclu)",
                attribues,
                share(attribues, attribues),
            ),
            (
                "Logements soustraits du flux (hors flux) proposés",
                as_int(row.get("hors_flux_proposes")),
                None,
            ),
            (
                "Logements soustraits du flux (hors flux) attribués",
                as_int(row.get("hors_flux_attribues")),
                None,
            ),
            (
                "Attributions au titre de l'État – publics prioritaires",
                as_int(row.get("etat_prioritaires_attribues")),
                share(row.get("etat_prioritaires_attribues"), attribues),
            ),
            (
                "Attributions au titre de l'État – agents publics",
                as_int(row.get("etat_fonctionnaires_attribues")),
                share(row.get("etat_fonctionnaires_attribues"), attribues),
            ),
            (
                "Attributions hors QPV",
                as_int(row.get("attribues_hors_qpv")),
                row.get("part_hors_qpv"),
            ),
        ),
        share_header="Part des attributions",
    )


def consolidated_sheets(
    b: BailleurMarts, code: str, types: tuple[str, ...], row: dict
) -> tuple[Sheet, ...]:
    """The sheets an EPCI/EPT and the State share: consolidation, detail, breakdowns."""
    detail = [
        r
        for r in sorted_rows(
            territory_rows(b, "mart_bilan_territoire_detail", code, types), "reservataire_code"
        )
        if r["reservataire_code"] != HORS_FLUX
    ]
    ventilation = territory_rows(b, "mart_territoire_ventilation", code, types)
    return (
        Sheet(
            "Bilan consolidé",
            f"Bilan {b.annee} consolidé – {text(row.get('territoire_nom')) or code}",
            (consolidated_table(row), detail_table(detail), reconciliation_table(row, detail)),
        ),
        Sheet(
            "Ventilations",
            "Logements proposés et attribués (tous réservataires) : les cinq ventilations",
            breakdown_tables(ventilation),
        ),
    )


def evolution_sheet(b: BailleurMarts, code: str, row: dict) -> tuple[Sheet, ...]:
    """The territory's figures of N-1 beside N, on a sheet of their own (its columns are not
    those of the consolidation); none without N-1."""
    niveau = text(row.get("territoire_type"))
    change = evolution.evolution_table(
        evolution.of(b.rows_of("mart_evolution", "code", code), niveau), b.annee, niveau
    )
    if change is None:
        return ()
    nom = text(row.get("territoire_nom")) or code
    return (Sheet("Évolution", f"Évolution {b.annee - 1} – {b.annee} – {nom}", (change,)),)


def build(b: BailleurMarts, recipient: dict) -> Report | None:
    code = text(recipient.get("territoire_code")) or recipient["recipient_code"]
    types = (
        (text(recipient.get("territoire_type")),)
        if recipient.get("territoire_type")
        else LOCAL_TYPES
    )
    rows = territory_rows(b, "mart_bilan_territoire", code, types)
    if rows.is_empty():
        return None
    row = rows.row(0, named=True)
    nom = text(recipient.get("recipient_nom")) or text(row.get("territoire_nom")) or code
    kind = TERRITOIRES.get(text(row.get("territoire_type")), "")
    consolidated, ventilations = consolidated_sheets(b, code, types, row)
    sheets = (consolidated, *evolution_sheet(b, code, row), ventilations)
    return bailleur_report(
        b,
        recipient,
        kind="EPCI_EPT",
        folder="epci",
        code=code,
        recipient_code=code,
        titre=f"Bilan {b.annee} de la gestion en flux – trame {kind} (consolidation tous réservataires)",
        destinataire=nom,
        perimetre=f"{kind} {nom} ({code}) : logements situés dans les communes du territoire",
        territoire=code,
        notice_keys=(
            "territoire",
            "detail_reservataire",
            "part_etat",
            "hors_qpv",
            "ventilations",
            *evolution.notice_keys(sheets),
            "sources",
        ),
        sheets=sheets,
    )
