"""Regional reports across all bailleurs: the regional team, each EPCI/EPT "LEC", each département."""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from dagster_project.trames import categories
from dagster_project.trames.common import departement_label, safe_stem
from dagster_project.trames.loader import BailleurMarts
from dagster_project.trames.model import PCT, TEXT, Column, Report, Sheet, Table
from dagster_project.trames.notice import notice
from dagster_project.trames.tables import (
    as_int,
    ecart_affiche,
    round_half_up,
    share,
    sorted_rows,
    text,
)

TERRITOIRE_TYPES = {
    "DEPARTEMENT": "Département",
    "EPCI": "EPCI",
    "EPT": "EPT",
    "COMMUNE": "Commune",
}


def _concat(bailleurs: list[BailleurMarts], mart: str) -> pl.DataFrame:
    frames = [b[mart] for b in bailleurs if b[mart].height]
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()


def reservataires_table(regional: pl.DataFrame) -> Table:
    rows = tuple(
        (
            text(row.get("reservataire_id")),
            text(row.get("reservataire_nom")),
            categories.categorie_reservataire_label(text(row.get("reservataire_categorie"))),
            text(row.get("reservataire_siren")),
            as_int(row.get("nb_bailleurs")),
            as_int(row.get("proposes")),
            as_int(row.get("attribues")),
            as_int(row.get("report_n_1")),
            as_int(row.get("repris")),
            as_int(row.get("realise")),
            round_half_up(row.get("droit")),
            ecart_affiche(row.get("realise"), round_half_up(row.get("droit"))),
        )
        for row in sorted_rows(regional, "reservataire_categorie", "reservataire_id")
    )
    return Table(
        title="Bilan par réservataire, tous bailleurs",
        columns=(
            Column("Identifiant", TEXT, 16),
            Column("Réservataire", TEXT, 34),
            Column("Catégorie", TEXT, 28),
            Column("SIREN", TEXT, 12),
            Column("Bailleurs"),
            Column("Logements proposés"),
            Column("Logements attribués"),
            Column("dont report N-1"),
            Column("Logements repris"),
            Column("Réalisé"),
            Column("Droit (arrondi)"),
            Column("Écart"),
        ),
        rows=rows,
        total=(
            "Total",
            "",
            "",
            "",
            None,
            *(sum(r[i] for r in rows) for i in range(5, 10)),
            sum(r[10] or 0 for r in rows),
            sum(r[11] or 0 for r in rows),
        ),
    )


def territoires_table(regional: pl.DataFrame, title: str) -> Table:
    rows = tuple(
        (
            TERRITOIRE_TYPES.get(
                text(row.get("territoire_type")), text(row.get("territoire_type"))
            ),
            text(row.get("territoire_code")),
            text(row.get("territoire_nom")),
            as_int(row.get("nb_bailleurs")),
            as_int(row.get("flux_brut")),
            as_int(row.get("proposes")),
            as_int(row.get("attribues")),
            as_int(row.get("hors_flux_proposes")),
            as_int(row.get("hors_flux_attribues")),
        )
        for row in sorted_rows(regional, "territoire_type", "territoire_code")
    )
    return Table(
        title=title,
        columns=(
            Column("Type", TEXT, 12),
            Column("Code", TEXT, 12),
            Column("Territoire", TEXT, 36),
            Column("Bailleurs"),
            Column("Flux brut"),
            Column("Logements proposés"),
            Column("Logements attribués"),
            Column("Hors flux proposés"),
            Column("Hors flux attribués"),
        ),
        rows=rows,
    )


def bailleurs_table(per_bailleur: pl.DataFrame, title: str) -> Table:
    """One line per bailleur on a territory (from each bailleur's territorial consolidation)."""
    rows = tuple(
        (
            text(row["bailleur_siren"]),
            as_int(row.get("proposes")),
            as_int(row.get("attribues")),
            as_int(row.get("hors_flux_proposes")),
            as_int(row.get("hors_flux_attribues")),
            as_int(row.get("attribues_hors_qpv")),
            share(row.get("attribues_hors_qpv"), row.get("attribues")),
        )
        for row in sorted_rows(per_bailleur, "bailleur_siren")
    )
    return Table(
        title=title,
        columns=(
            Column("SIREN du bailleur", TEXT, 18),
            Column("Logements proposés"),
            Column("Logements attribués"),
            Column("Hors flux proposés"),
            Column("Hors flux attribués"),
            Column("Attributions hors QPV"),
            Column("Part hors QPV", PCT),
        ),
        rows=rows,
        total=(
            "Total",
            *(sum(r[i] for r in rows) for i in range(1, 6)),
            share(sum(r[5] for r in rows), sum(r[2] for r in rows)),
        ),
    )


def _excluded_note(excluded: dict[str, str]) -> str | None:
    if not excluded:
        return None
    return "Bailleurs non publiés, absents de ces chiffres : " + " ; ".join(
        f"{siren} ({why})" for siren, why in sorted(excluded.items())
    )


def build_all(
    annee: int,
    regional: dict[str, pl.DataFrame],
    bailleurs: list[BailleurMarts],
    excluded: dict[str, str],
) -> list[Report]:
    """Every regional report of one year. ``bailleurs`` are the published ones, those the
    regional marts add up; ``excluded``: the others (SIREN → why), named in a note."""
    reservataires = _year(regional["mart_regional_reservataire"], annee)
    territoires = _year(regional["mart_regional_territoire"], annee)
    per_bailleur = _concat(bailleurs, "mart_bilan_territoire")
    note = _excluded_note(excluded)
    common = dict(annee=annee, bailleur="Tous les bailleurs")
    reports = [
        Report(
            kind="REGIONAL",
            relpath="regional/synthese_regionale.xlsx",
            titre=f"Bilan régional {annee} de la gestion en flux",
            destinataire="Équipe régionale (DRIHL / AORIF)",
            perimetre="Île-de-France",
            recipient_code="REGION",
            notice=notice(
                "regional",
                "proposes",
                "attribues",
                "report_n_1",
                "repris",
                "realise",
                "droit",
                "ecart",
                "flux_brut",
                "territoire",
            ),
            sheets=(
                Sheet(
                    "Réservataires",
                    f"Bilan {annee} par réservataire",
                    (_with_note(reservataires_table(reservataires), note),),
                    landscape=True,
                ),
                Sheet(
                    "Territoires",
                    f"Bilan {annee} par territoire",
                    (territoires_table(territoires, "Bilan par territoire, tous bailleurs"),),
                    landscape=True,
                ),
            ),
            **common,
        )
    ]
    for row in sorted_rows(territoires, "territoire_type", "territoire_code"):
        code, kind = text(row["territoire_code"]), text(row["territoire_type"])
        if (kind != "DEPARTEMENT" and not row.get("lec")) or code == "NON_RENSEIGNE":
            continue  # no recipient for a territory that is not known
        lines = (
            per_bailleur.filter(
                (pl.col("territoire_code") == code) & (pl.col("territoire_type") == kind)
            )
            if per_bailleur.height
            else per_bailleur
        )
        nom = text(row.get("territoire_nom")) or code
        summary = territoires_table(pl.DataFrame([row]), "Bilan consolidé, tous bailleurs")
        detail = _with_note(bailleurs_table(lines, "Détail par bailleur"), note)
        if kind == "DEPARTEMENT":
            reports.append(
                Report(
                    kind="REGIONAL_ETAT",
                    relpath=f"regional/etat/{safe_stem(code)}.xlsx",
                    titre=f"Bilan {annee} de la gestion en flux – consolidation départementale, tous bailleurs",
                    destinataire=categories.services_etat().get(code, "État"),
                    perimetre=f"Département {departement_label(code)}",
                    recipient_code=code,
                    departement=code,
                    notice=notice("regional", "flux_brut", "territoire", "hors_qpv"),
                    sheets=(
                        Sheet(
                            "Bilan consolidé",
                            f"Bilan {annee} – {departement_label(code)}",
                            (summary, detail),
                            landscape=True,
                        ),
                    ),
                    **common,
                )
            )
        else:
            reports.append(
                Report(
                    kind="REGIONAL_EPCI_EPT",
                    relpath=f"regional/epci/{safe_stem(code)}.xlsx",
                    titre=f"Bilan {annee} de la gestion en flux – consolidation {TERRITOIRE_TYPES.get(kind, kind)}, tous bailleurs",
                    destinataire=nom,
                    perimetre=f"{TERRITOIRE_TYPES.get(kind, kind)} {nom} ({code})",
                    recipient_code=code,
                    territoire=code,
                    notice=notice("regional", "flux_brut", "territoire", "hors_qpv"),
                    sheets=(
                        Sheet(
                            "Bilan consolidé",
                            f"Bilan {annee} – {nom}",
                            (summary, detail),
                            landscape=True,
                        ),
                    ),
                    **common,
                )
            )
    return reports


def _year(frame: pl.DataFrame, annee: int) -> pl.DataFrame:
    return frame.filter(pl.col("annee") == annee) if frame.height else frame


def _with_note(table: Table, note: str | None) -> Table:
    return replace(table, note=note) if note else table
