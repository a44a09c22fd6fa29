"""Prévisionnel: dwellings a bailleur expects to subtract from the flux in N+1.

The grain follows ``mart_recipients``: a recipient whose code is one of the bailleur's
réservataires gets the forecast of its départements and only its own indicative droits; any
other recipient (a département code) gets the département with every réservataire's droits.
The État trame embeds the département version (``departement_tables``).
"""

from __future__ import annotations

import polars as pl

from dagster_project.trames import categories
from dagster_project.trames.common import bailleur_report, departement_label, split_departements
from dagster_project.trames.loader import BailleurMarts
from dagster_project.trames.model import PCT, TEXT, Field, Report, Sheet, Table, table
from dagster_project.trames.reservataire import PERIMETRES
from dagster_project.trames.tables import as_int, round_half_up, sorted_rows, text


def forecast_table(
    previsionnel: pl.DataFrame, soustraits: pl.DataFrame, annee: int, dep: str
) -> Table:
    forecast = {row["categorie_operation"]: row for row in previsionnel.iter_rows(named=True)}
    realised = {row["categorie_operation"]: row for row in soustraits.iter_rows(named=True)}
    records = [
        (label, forecast.get(code, {}), realised.get(code, {}))
        for code, label in categories.categories_operation()
    ]
    return table(
        f"{departement_label(dep)} : logements soustraits du flux, prévus en {annee + 1} et réalisés en {annee}",
        (
            Field("Catégorie d'opération", lambda r: r[0], TEXT, cap=56),
            Field(f"Prévus en {annee + 1}", lambda r: as_int(r[1].get("nb_logements_prevus"))),
            Field(
                f"Soustraits en {annee}",
                lambda r: as_int(r[2].get("soustraits", r[1].get("soustraits_n"))),
            ),
            Field(
                f"Attributions de relogement {annee}",
                lambda r: as_int(
                    r[2].get("attributions_relogement", r[1].get("attributions_relogement_n"))
                ),
            ),
            Field("Commentaire du bailleur", lambda r: text(r[1].get("commentaire")), TEXT),
        ),
        records,
    )


def droits_table(droits: pl.DataFrame, names: dict[str, str], annee: int, dep: str) -> Table:
    order = [
        c for c in ("reservataire_code", "perimetre_type", "perimetre_code") if c in droits.columns
    ]
    return table(
        f"{departement_label(dep)} : flux et droits indicatifs {annee + 1}",
        (  # label, figures, codes: the columns of the forecast table stacked above
            Field(
                "Réservataire",
                lambda r: text(names.get(r["reservataire_code"])) or text(r["reservataire_code"]),
                TEXT,
            ),
            Field("Taux conventionnel", lambda r: (r["taux_flux"] or 0) / 100, PCT),
            Field(
                f"Flux net indicatif {annee + 1} (arrondi)",
                lambda r: round_half_up(r["flux_net_indicatif_n_plus_1"]),
            ),
            Field(
                f"Droit indicatif {annee + 1} (arrondi)",
                lambda r: round_half_up(r["droit_indicatif_n_plus_1"]),
            ),
            Field(
                "Périmètre",
                lambda r: PERIMETRES.get(text(r.get("perimetre_type")), text(r.get("perimetre_type"))),
                TEXT,
            ),
            Field("Code du périmètre", lambda r: text(r.get("perimetre_code")), TEXT),
            Field("Code", lambda r: text(r["reservataire_code"]), TEXT),
        ),
        sorted_rows(droits, *order),
        total=None,
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
    return bailleur_report(
        b,
        recipient,
        kind="PREVISIONNEL",
        folder="previsionnel",
        titre=f"Prévisionnel {b.annee + 1} des logements soustraits du flux",
        destinataire=nom,
        perimetre=", ".join(departement_label(dep) for dep in departements),
        departement=",".join(departements),
        notice_keys=(
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
