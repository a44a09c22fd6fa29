"""Prévisionnel: dwellings a bailleur expects to subtract from the flux in N+1.

The grain follows ``mart_recipients``: a recipient whose code is one of the bailleur's
réservataires gets the forecast of its départements and only its own indicative droits; any
other recipient (a département code) gets the département with every réservataire's droits.
The État trame embeds the département version (``departement_tables``).
"""

from __future__ import annotations

import polars as pl

from dagster_project.trames import categories
from dagster_project.trames.common import departement_label, safe_stem, sources, split_departements
from dagster_project.trames.loader import BailleurMarts
from dagster_project.trames.model import PCT, TEXT, Column, Report, Sheet, Table
from dagster_project.trames.notice import notice
from dagster_project.trames.reservataire import PERIMETRES
from dagster_project.trames.tables import as_int, round_half_up, sorted_rows, text


def forecast_table(
    previsionnel: pl.DataFrame, soustraits: pl.DataFrame, annee: int, dep: str
) -> Table:
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
                as_int(fait.get("soustraits", prevu.get("soustraits_n"))),
                as_int(fait.get("attributions_relogement", prevu.get("attributions_relogement_n"))),
                text(prevu.get("commentaire")),
            )
        )
    return Table(
        title=f"{departement_label(dep)} : logements soustraits du flux, prévus en {annee + 1} et réalisés en {annee}",
        columns=(
            Column("Catégorie d'opération", TEXT, 50),
            Column(f"Prévus en {annee + 1}"),
            Column(f"Soustraits en {annee}"),
            Column(f"Attributions de relogement {annee}"),
            Column("Commentaire du bailleur", TEXT, 40),
        ),
        rows=tuple(rows),
        total=(
            "Total",
            sum(r[1] for r in rows),
            sum(r[2] for r in rows),
            sum(r[3] for r in rows),
            "",
        ),
    )


def droits_table(droits: pl.DataFrame, names: dict[str, str], annee: int, dep: str) -> Table:
    order = [
        c for c in ("reservataire_code", "perimetre_type", "perimetre_code") if c in droits.columns
    ]
    rows = tuple(
        (
            text(row["reservataire_code"]),
            text(names.get(row["reservataire_code"])),
            PERIMETRES.get(text(row.get("perimetre_type")), text(row.get("perimetre_type"))),
            text(row.get("perimetre_code")),
            (row["taux_flux"] or 0) / 100,
            round_half_up(row["flux_net_indicatif_n_plus_1"]),
            round_half_up(row["droit_indicatif_n_plus_1"]),
        )
        for row in sorted_rows(droits, *order)
    )
    return Table(
        title=f"{departement_label(dep)} : flux et droits indicatifs {annee + 1}",
        columns=(
            Column("Code", TEXT, 14),
            Column("Réservataire", TEXT, 36),
            Column("Périmètre", TEXT, 14),
            Column("Code du périmètre", TEXT, 14),
            Column("Taux conventionnel", PCT),
            Column(f"Flux net indicatif {annee + 1} (arrondi)"),
            Column(f"Droit indicatif {annee + 1} (arrondi)"),
        ),
        rows=rows,
    )


def departement_tables(
    b: BailleurMarts, dep: str, reservataire_code: str | None = None
) -> tuple[Table, Table]:
    """Forecast by catégorie and indicative droits of one département (of one réservataire if given)."""
    droits = b.rows_of("mart_previsionnel_droits", "departement", dep)
    if reservataire_code is not None and droits.height:
        droits = droits.filter(pl.col("reservataire_code") == reservataire_code)
    bilans = b["mart_bilan_reservataire"]
    names = (
        dict(zip(bilans["reservataire_code"], bilans["reservataire_nom"], strict=True))
        if bilans.height
        else {}
    )
    return (
        forecast_table(
            b.rows_of("mart_previsionnel", "departement", dep),
            b.rows_of("mart_soustraits", "departement", dep),
            b.annee,
            dep,
        ),
        droits_table(droits, names, b.annee, dep),
    )


def build(b: BailleurMarts, recipient: dict) -> Report | None:
    code = recipient["recipient_code"]
    bilans = b["mart_bilan_reservataire"]
    is_reservataire = bilans.height > 0 and code in set(bilans["reservataire_code"])
    departements = split_departements(recipient.get("departement")) or [code]
    if not is_reservataire and code not in departements:
        return None
    own = code if is_reservataire else None
    tables = tuple(t for dep in departements for t in departement_tables(b, dep, own))
    nom = text(recipient.get("recipient_nom")) or (
        code if is_reservataire else f"Réservataires du département {code}"
    )
    return Report(
        kind="PREVISIONNEL",
        relpath=f"{b.siren}/previsionnel/{safe_stem(code)}.xlsx",
        annee=b.annee,
        titre=f"Prévisionnel {b.annee + 1} des logements soustraits du flux",
        destinataire=nom,
        bailleur=b.siren,
        perimetre=", ".join(departement_label(dep) for dep in departements),
        recipient_code=code,
        departement=",".join(departements),
        email=text(recipient.get("email")),
        sources=sources(b),
        notice=notice(
            "previsionnel",
            "soustraits",
            "relogements",
            "flux_net",
            "taux",
            "droit_indicatif",
            "sources",
        ),
        sheets=(
            Sheet("Prévisionnel", f"Prévisionnel {b.annee + 1} – {nom}", tables, landscape=True),
        ),
    )
