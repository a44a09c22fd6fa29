"""Trame réservataire: the bilan of one réservataire of one bailleur (one workbook).

A réservataire with several convention perimeters gets one workbook: its figures are counted
once per dwelling across perimeters (domain §3) and the perimeters are listed with their droit.
"""

from __future__ import annotations

import polars as pl

from dagster_project.trames import categories, evolution
from dagster_project.trames.common import bailleur_report, split_departements
from dagster_project.trames.loader import BailleurMarts
from dagster_project.trames.model import PCT, TEXT, Field, Ratio, Report, Sheet, Table, table
from dagster_project.trames.tables import (
    as_int,
    ecart_affiche,
    breakdown_tables,
    key_figures,
    round_half_up,
    share,
    sorted_rows,
    soustraits_table,
    text,
)

PERIMETRES = {"DEPARTEMENT": "Département", "EPCI": "EPCI", "EPT": "EPT", "COMMUNE": "Commune"}

_TOURS = {
    "ATTRIBUE": "tours_attribue",
    "ECHEC_CARENCE": "tours_echec_carence",
    "ECHEC_REFUS_CANDIDAT": "tours_echec_refus_candidat",
    "ECHEC_REFUS_CALEOL": "tours_echec_refus_caleol",
    "ECHEC_AUTRE": "tours_echec_autre",
    "EN_COURS": "tours_en_cours",
}


def perimetres_table(perimetres: pl.DataFrame) -> Table:
    return table(
        "Vos conventions de réservation et vos droits sur le flux",
        (
            Field("Périmètre", lambda r: PERIMETRES.get(text(r["perimetre_type"]), text(r["perimetre_type"])), TEXT),
            Field("Code", lambda r: text(r["perimetre_code"]), TEXT),
            Field("Taux conventionnel", lambda r: (r["taux_flux"] or 0) / 100, PCT),
            Field("Flux net du périmètre", lambda r: as_int(r["flux_net_perimetre"])),
            Field("Droit (arrondi)", lambda r: round_half_up(r["droit"])),
        ),
        sorted_rows(perimetres, "perimetre_type", "perimetre_code"),
        total=None,
        note="Le droit total est arrondi après addition des droits non arrondis des conventions.",
    )


def bilan_table(bilan: dict) -> Table:
    flux = bilan["flux_net_perimetre"]
    droit = round_half_up(bilan["droit"])
    realise = as_int(bilan["realise"])
    return key_figures(
        "Bilan de l'année",
        (
            ("Flux net du périmètre de vos conventions", as_int(flux), None),
            ("Droit (arrondi)", droit, share(droit, flux)),
            ("Logements proposés", as_int(bilan["proposes"]), share(bilan["proposes"], flux)),
            ("Logements attribués", as_int(bilan["attribues"]), share(bilan["attribues"], flux)),
            ("dont proposés l'année précédente (report N-1)", as_int(bilan["report_n_1"]), None),
            (
                "Logements repris par le bailleur après carence",
                as_int(bilan["repris"]),
                share(bilan["repris"], flux),
            ),
            ("Réalisé (attribués + repris imputés)", realise, bilan["part_du_flux"]),
            ("Écart réalisé − droit", ecart_affiche(realise, droit), None),
        ),
    )


def tours_table(bilan: dict) -> Table:
    total = as_int(bilan["tours"])
    # The total counts every tour of the mart, whatever its issue, not only the issues listed.
    return table(
        "Tours de commercialisation par issue (échecs par motif)",
        (
            Field("Issue", lambda r: r[1], TEXT),
            Field("Nombre de tours", lambda r: as_int(bilan[_TOURS[r[0]]])),
            Field(
                "Part des tours",
                lambda r: share(as_int(bilan[_TOURS[r[0]]]), total),
                PCT,
                Ratio("Nombre de tours", "Nombre de tours"),
            ),
        ),
        (issue for issue in categories.issues() if issue[0] in _TOURS),
        sums={"Nombre de tours": total},
    )


def build(b: BailleurMarts, recipient: dict) -> Report | None:
    """The trame of one réservataire, or None when the marts hold no bilan for it."""
    code = recipient["recipient_code"]
    bilans = b.rows_of("mart_bilan_reservataire", "reservataire_code", code)
    if bilans.is_empty():
        return None
    bilan = bilans.row(0, named=True)
    departements = split_departements(bilan.get("departements")) or split_departements(
        recipient.get("departement")
    )
    nom = text(recipient.get("recipient_nom")) or text(bilan.get("reservataire_nom")) or code
    sheets = (
        Sheet(
            "Bilan",
            f"Bilan {b.annee} – {nom}",
            (
                bilan_table(bilan),
                *evolution.present(evolution.evolution_table(
                    evolution.of(b.rows_of("mart_evolution", "code", code), evolution.RESERVATAIRE),
                    b.annee,
                    evolution.RESERVATAIRE,
                )),
                perimetres_table(b.rows_of("mart_flux_perimetre", "reservataire_code", code)),
                tours_table(bilan),
            ),
        ),
        Sheet(
            "Ventilations",
            "Logements proposés et attribués : les cinq ventilations réglementaires",
            breakdown_tables(b.rows_of("mart_bilan_ventilation", "reservataire_code", code)),
        ),
        Sheet(
            "Soustraits du flux",
            f"Logements soustraits du flux en {b.annee} et relogements",
            (soustraits_table(b["mart_soustraits"], departements),),
        ),
    )
    return bailleur_report(
        b,
        recipient,
        kind="RESERVATAIRE",
        folder="reservataires",
        titre=f"Bilan {b.annee} de la gestion en flux – trame réservataire",
        destinataire=nom,
        perimetre=", ".join(departements),
        departement=",".join(departements),
        email=text(recipient.get("email")) or text(bilan.get("email")),
        notice_keys=(
            "flux_net",
            "taux",
            "droit",
            "proposes",
            "attribues",
            "report_n_1",
            "repris",
            "realise",
            "ecart",
            "part_du_flux",
            "tours",
            "ventilations",
            "soustraits",
            "relogements",
            *evolution.notice_keys(sheets),
            "sources",
        ),
        sheets=sheets,
    )
