"""Trame réservataire: the bilan of one réservataire of one bailleur (one workbook).

A réservataire with several convention perimeters gets one workbook: its figures are counted
once per dwelling across perimeters (domain §3) and the perimeters are listed with their droit.
"""

from __future__ import annotations

import polars as pl

from dagster_project.trames import categories
from dagster_project.trames.common import safe_stem, sources, split_departements
from dagster_project.trames.loader import BailleurMarts
from dagster_project.trames.model import PCT, TEXT, Column, Report, Sheet, Table
from dagster_project.trames.notice import notice
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
    rows = tuple(
        (
            PERIMETRES.get(text(row["perimetre_type"]), text(row["perimetre_type"])),
            text(row["perimetre_code"]),
            (row["taux_flux"] or 0) / 100,
            as_int(row["flux_net_perimetre"]),
            round_half_up(row["droit"]),
        )
        for row in sorted_rows(perimetres, "perimetre_type", "perimetre_code")
    )
    return Table(
        title="Vos conventions de réservation et vos droits sur le flux",
        columns=(
            Column("Périmètre", TEXT, 16),
            Column("Code", TEXT, 14),
            Column("Taux conventionnel", PCT),
            Column("Flux net du périmètre"),
            Column("Droit (arrondi)"),
        ),
        rows=rows,
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
    rows = tuple(
        (label, as_int(bilan[_TOURS[code]]), share(as_int(bilan[_TOURS[code]]), total))
        for code, label in categories.issues()
        if code in _TOURS
    )
    return Table(
        title="Tours de commercialisation par issue (échecs par motif)",
        columns=(
            Column("Issue", TEXT, 40),
            Column("Nombre de tours"),
            Column("Part des tours", PCT),
        ),
        rows=rows,
        total=("Total", total, share(total, total)),
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
    return Report(
        kind="RESERVATAIRE",
        relpath=f"{b.siren}/reservataires/{safe_stem(code)}.xlsx",
        annee=b.annee,
        titre=f"Bilan {b.annee} de la gestion en flux – trame réservataire",
        destinataire=nom,
        bailleur=b.siren,
        perimetre=", ".join(departements),
        recipient_code=code,
        departement=",".join(departements),
        email=text(recipient.get("email")) or text(bilan.get("email")),
        sources=sources(b),
        notice=notice(
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
            "sources",
        ),
        sheets=(
            Sheet(
                "Bilan",
                f"Bilan {b.annee} – {nom}",
                (
                    bilan_table(bilan),
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
        ),
    )
