"""Prévisionnel: dwellings a bailleur expects to subtract from the flux in N+1, per département."""

from __future__ import annotations

import polars as pl

from dagster_project.trames import categories
from dagster_project.trames.common import departement_label, sources
from dagster_project.trames.loader import BailleurMarts
from dagster_project.trames.model import PCT, TEXT, Column, Report, Sheet, Table
from dagster_project.trames.notice import notice
from dagster_project.trames.tables import as_int, round_half_up, text


def forecast_table(previsionnel: pl.DataFrame, soustraits: pl.DataFrame, annee: int) -> Table:
    forecast = {row["categorie_operation"]: row for row in previsionnel.iter_rows(named=True)}
    realised = {row["categorie_operation"]: row for row in soustraits.iter_rows(named=True)}
    rows = []
    for code, label in categories.categories_operation():
        prevu = forecast.get(code, {})
        fait = realised.get(code, {})
        rows.append(
            (
                label,
                as_int(prevu.get("nb_logements_prevus")),
                as_int(prevu.get("soustraits_n", fait.get("soustraits"))),
                as_int(prevu.get("attributions_relogement_n", fait.get("attributions_relogement"))),
                text(prevu.get("commentaire")),
            )
        )
    return Table(
        title=f"Logements soustraits du flux : prévu {annee + 1}, réalisé {annee}",
        columns=(
            Column("Catégorie d'opération", TEXT, 50),
            Column(f"Prévus en {annee + 1}"),
            Column(f"Soustraits en {annee}"),
            Column(f"Attributions de relogement {annee}"),
            Column("Commentaire du bailleur", TEXT, 40),
        ),
        rows=tuple(rows),
        total=("Total", sum(r[1] for r in rows), sum(r[2] for r in rows), sum(r[3] for r in rows), ""),
    )


def droits_table(droits: pl.DataFrame, bilans: pl.DataFrame, annee: int) -> Table:
    names = dict(zip(bilans["reservataire_code"], bilans["reservataire_nom"], strict=True)) if bilans.height else {}
    rows = tuple(
        (
            text(row["reservataire_code"]),
            text(names.get(row["reservataire_code"])),
            (row["taux_flux"] or 0) / 100,
            as_int(round_half_up(row["flux_net_indicatif_n_plus_1"])),
            round_half_up(row["droit_indicatif_n_plus_1"]),
        )
        for row in droits.sort("reservataire_code").iter_rows(named=True)
    )
    return Table(
        title=f"Flux et droits indicatifs {annee + 1} par réservataire",
        columns=(
            Column("Code", TEXT, 14),
            Column("Réservataire", TEXT, 36),
            Column("Taux conventionnel", PCT),
            Column(f"Flux net indicatif {annee + 1}"),
            Column(f"Droit indicatif {annee + 1} (arrondi)"),
        ),
        rows=rows,
    )


def build(b: BailleurMarts, recipient: dict) -> Report | None:
    dep = text(recipient.get("departement")) or recipient["recipient_code"]
    previsionnel = b["mart_previsionnel"].filter(pl.col("departement") == dep)
    droits = b["mart_previsionnel_droits"].filter(pl.col("departement") == dep)
    soustraits = b["mart_soustraits"].filter(pl.col("departement") == dep)
    if previsionnel.is_empty() and droits.is_empty() and soustraits.is_empty():
        return None
    return Report(
        kind="PREVISIONNEL",
        relpath=f"{b.siren}/previsionnel/{dep}.xlsx",
        annee=b.annee,
        titre=f"Prévisionnel {b.annee + 1} des logements soustraits du flux",
        destinataire=text(recipient.get("recipient_nom")) or f"Réservataires du département {dep}",
        bailleur=b.siren,
        perimetre=f"Département {departement_label(dep)}",
        recipient_code=recipient["recipient_code"],
        departement=dep,
        email=text(recipient.get("email")),
        sources=sources(b["mart_sources"]),
        notice=notice("previsionnel", "soustraits", "relogements", "flux_net", "taux", "droit_indicatif", "sources"),
        sheets=(
            Sheet(
                "Prévisionnel",
                f"Prévisionnel {b.annee + 1} – {departement_label(dep)}",
                (
                    forecast_table(previsionnel, soustraits, b.annee),
                    droits_table(droits, b["mart_bilan_reservataire"], b.annee),
                ),
                landscape=True,
            ),
        ),
    )
