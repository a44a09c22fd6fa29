"""Trame État: one bailleur's bilan in one département, consolidated, plus the State's own part."""

from __future__ import annotations

import polars as pl

from dagster_project.trames import categories, evolution, previsionnel
from dagster_project.trames.common import bailleur_report, departement_label, split_departements
from dagster_project.trames.loader import BailleurMarts
from dagster_project.trames.model import PCT, TEXT, Field, Report, Sheet, Table, table
from dagster_project.trames.options import Options
from dagster_project.trames.tables import (
    as_int,
    counts,
    ecart_affiche,
    key_figures,
    round_half_up,
    share,
    soustraits_table,
    text,
)
from dagster_project.trames.territoire import consolidated_sheets, evolution_sheet, territory_rows


def flux_table(flux: pl.DataFrame) -> Table:
    row = flux.row(0, named=True) if flux.height else {}
    return key_figures(
        "Flux de l'année dans le département",
        (
            ("Flux brut", as_int(row.get("flux_brut")), None),
            (
                "Logements soustraits du flux",
                as_int(row.get("soustraits")),
                share(row.get("soustraits"), row.get("flux_brut")),
            ),
            (
                "Flux net",
                as_int(row.get("flux_net")),
                share(row.get("flux_net"), row.get("flux_brut")),
            ),
        ),
        share_header="Part du flux brut",
    )


def state_reservataires(b: BailleurMarts, dep: str) -> pl.DataFrame:
    """The bailleur's ETAT_* réservataires whose conventions cover ``dep``."""
    bilans = b["mart_bilan_reservataire"]
    if bilans.is_empty():
        return bilans
    states = bilans.filter(
        pl.col("reservataire_categorie").is_in(sorted(categories.categories_etat()))
    )
    covers = [dep in split_departements(deps) for deps in states["departements"]]
    return states.filter(pl.Series(covers, dtype=pl.Boolean)).sort(
        "reservataire_categorie", "reservataire_code"
    )


def state_part_table(states: pl.DataFrame) -> Table:
    def droit(r: dict) -> int | None:
        return round_half_up(r["droit"])

    return table(
        "Bilan des contingents de l'État",
        (
            Field("Réservataire", lambda r: text(r["reservataire_nom"]), TEXT),
            *counts(),
            Field("Logements repris", lambda r: as_int(r["repris"])),
            Field("Réalisé", lambda r: as_int(r["realise"])),
            Field("Droit (arrondi)", droit),
            Field("Écart", lambda r: ecart_affiche(as_int(r["realise"]), droit(r))),
            Field("Part du flux", lambda r: r["part_du_flux"], PCT),
            Field(
                "Contingent",
                lambda r: categories.categorie_reservataire_label(text(r["reservataire_categorie"])),
                TEXT,
            ),
            Field("Code", lambda r: text(r["reservataire_code"]), TEXT),
        ),
        states.iter_rows(named=True),
        total=None,
    )


def caps_table(b: BailleurMarts, states: pl.DataFrame, dep: str, options: Options) -> Table:
    """The State's conventional rates in the département against the legal caps."""
    perimetres = b["mart_flux_perimetre"].filter(
        pl.col("reservataire_code").is_in(states["reservataire_code"].to_list())
        & (pl.col("perimetre_type") == "DEPARTEMENT")
        & (pl.col("perimetre_code") == dep)
    )
    by_code = dict(zip(states["reservataire_code"], states["reservataire_categorie"], strict=True))
    taux = {"ETAT_PRIORITAIRES": 0.0, "ETAT_FONCTIONNAIRES": 0.0}
    for row in perimetres.iter_rows(named=True):
        categorie = by_code[row["reservataire_code"]]
        taux[categorie] = taux.get(categorie, 0.0) + (row["taux_flux"] or 0) / 100
    total = sum(taux.values())
    fonctionnaires = taux["ETAT_FONCTIONNAIRES"]
    return table(
        "Taux conventionnels de l'État et plafonds réglementaires (R441-5-2 du CCH)",
        (
            Field("Contingent", lambda r: r[0], TEXT),
            Field("Taux conventionnel", lambda r: r[1], PCT),
            Field("Plafond", lambda r: r[2], PCT),
            Field("Respect du plafond", lambda r: r[3], TEXT),
        ),
        (
            (
                "Ensemble de l'État",
                total,
                options.plafond_etat,
                _oui_non(total <= options.plafond_etat + 1e-9),
            ),
            (
                "dont agents publics",
                fonctionnaires,
                options.plafond_fonctionnaires,
                _oui_non(fonctionnaires <= options.plafond_fonctionnaires + 1e-9),
            ),
        ),
        total=None,
    )


def hors_qpv_table(row: dict, options: Options) -> Table:
    """The share of attributions outside QPV, and only that: the legal target concerns
    first-quartile applicants, whose quartile the bailleurs' files do not carry, so whether the
    target is met cannot be measured and is not said."""
    return table(
        "Attributions hors quartiers prioritaires (QPV)",
        (
            Field("Indicateur", lambda r: r[0], TEXT, cap=56),
            Field("Attributions", lambda r: r[1]),
            Field("Part des attributions", lambda r: r[2], PCT),
        ),
        (
            (
                "Attributions hors QPV, tous réservataires, tous ménages",
                as_int(row.get("attribues_hors_qpv")),
                row.get("part_hors_qpv"),
            ),
        ),
        total=None,
        note=(
            f"Repère : l'article L441-1 du CCH fixe au moins {options.seuil_hors_qpv:.0%} des "
            "attributions hors QPV aux demandeurs du premier quartile de revenus. Le quartile "
            "des ménages n'étant pas transmis, cette part porte sur tous les ménages et ne dit "
            "pas si l'objectif est atteint."
        ).replace("%", " %"),
    )


def _oui_non(flag: bool) -> str:
    return "oui" if flag else "non"


def build(b: BailleurMarts, recipient: dict, options: Options) -> Report | None:
    dep = (
        text(recipient.get("territoire_code"))
        or text(recipient.get("departement"))
        or recipient["recipient_code"]
    )
    rows = territory_rows(b, "mart_bilan_territoire", dep, ("DEPARTEMENT",))
    if rows.is_empty():
        return None
    row = rows.row(0, named=True)
    states = state_reservataires(b, dep)
    nom = text(recipient.get("recipient_nom")) or categories.services_etat().get(dep, "État")
    consolidated, ventilations = consolidated_sheets(b, dep, ("DEPARTEMENT",), row)
    forecast = evolution.forecast_table(
        evolution.forecast_of(b["mart_previsionnel_realise"], dep), b.annee, dep
    )
    sheets = (
        Sheet(
            consolidated.name,
            consolidated.title,
            (
                flux_table(b["mart_flux"].filter(pl.col("departement") == dep)),
                *consolidated.tables,
            ),
        ),
        *evolution_sheet(b, dep, row),
        Sheet(
            "Part de l'État",
            f"Contingents de l'État – {departement_label(dep)}",
            (
                state_part_table(states),
                caps_table(b, states, dep, options),
                hors_qpv_table(row, options),
            ),
            landscape=True,
        ),
        ventilations,
        Sheet(
            "Soustraits du flux",
            f"Logements soustraits du flux en {b.annee} et relogements",
            (soustraits_table(b["mart_soustraits"], [dep]),),
        ),
        *(
            (Sheet("Prévu et réalisé", f"Prévu et réalisé {b.annee} – {departement_label(dep)}",
                   (forecast,), landscape=True),)
            if forecast
            else ()
        ),
        Sheet(
            f"Prévisionnel {b.annee + 1}",
            f"Prévisionnel {b.annee + 1} – {departement_label(dep)}",
            previsionnel.departement_tables(b, dep),
            landscape=True,
        ),
    )
    return bailleur_report(
        b,
        recipient,
        kind="ETAT",
        folder="etat",
        code=dep,
        titre=f"Bilan {b.annee} de la gestion en flux – trame État (consolidation tous réservataires)",
        destinataire=nom,
        perimetre=f"Département {departement_label(dep)}",
        departement=dep,
        notice_keys=(
            "flux_brut",
            "soustraits",
            "flux_net",
            "territoire",
            "detail_reservataire",
            "part_etat",
            "hors_qpv",
            "droit",
            "realise",
            "ecart",
            "ventilations",
            "relogements",
            "previsionnel",
            "droit_indicatif",
            *evolution.notice_keys(sheets),
            "sources",
        ),
        sheets=sheets,
    )
