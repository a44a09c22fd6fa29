"""Regional reports across all bailleurs: the regional team, each EPCI/EPT "LEC", each département."""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from dagster_project.suivi.referentiel import NON_REFERENCE
from dagster_project.trames import categories, evolution
from dagster_project.trames.common import departement_label, safe_stem
from dagster_project.trames.loader import BailleurMarts
from dagster_project.trames.model import PCT, TEXT, Field, Ratio, Report, Sheet, Table, table
from dagster_project.trames.notice import notice
from dagster_project.trames.tables import (
    ATTRIBUES,
    as_int,
    counts,
    ecart_affiche,
    round_half_up,
    share,
    sorted_rows,
    text,
)
from dagster_project.trames.territoire import TERRITOIRES

TOUS_LES_BAILLEURS = "Tous les bailleurs"
NOT_REFERENCED = f"({NON_REFERENCE})"


def _concat(bailleurs: list[BailleurMarts], mart: str) -> pl.DataFrame:
    frames = [b[mart] for b in bailleurs if b[mart].height]
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()


def reservataires_table(regional: pl.DataFrame) -> Table:
    def droit(r: dict) -> int | None:
        return round_half_up(r.get("droit"))

    return table(
        "Bilan par réservataire, tous bailleurs",
        (
            Field("Identifiant", lambda r: text(r.get("reservataire_id")), TEXT),
            Field("Réservataire", lambda r: text(r.get("reservataire_nom")), TEXT),
            Field(
                "Catégorie",
                lambda r: categories.categorie_reservataire_label(text(r.get("reservataire_categorie"))),
                TEXT,
            ),
            Field("SIREN", lambda r: text(r.get("reservataire_siren")), TEXT),
            Field("Bailleurs", lambda r: as_int(r.get("nb_bailleurs")), total=None),
            *counts(),
            Field("dont report N-1", lambda r: as_int(r.get("report_n_1"))),
            Field("Logements repris", lambda r: as_int(r.get("repris"))),
            Field("Réalisé", lambda r: as_int(r.get("realise"))),
            Field("Droit (arrondi)", droit),
            Field("Écart", lambda r: ecart_affiche(r.get("realise"), droit(r))),
        ),
        sorted_rows(regional, "reservataire_categorie", "reservataire_id"),
        filterable=True,
    )


def territoires_table(regional: pl.DataFrame, title: str, filterable: bool = True) -> Table:
    return table(
        title,
        (  # the same columns as the detail by bailleur: label, code, then counts
            Field("Territoire", lambda r: text(r.get("territoire_nom")), TEXT),
            Field("Code", lambda r: text(r.get("territoire_code")), TEXT),
            *counts(),
            Field("Hors flux proposés", lambda r: as_int(r.get("hors_flux_proposes"))),
            Field("Hors flux attribués", lambda r: as_int(r.get("hors_flux_attribues"))),
            Field("Bailleurs", lambda r: as_int(r.get("nb_bailleurs"))),
            Field("Flux brut", lambda r: as_int(r.get("flux_brut"))),
            Field(
                "Type",
                lambda r: TERRITOIRES.get(text(r.get("territoire_type")), text(r.get("territoire_type"))),
                TEXT,
            ),
        ),
        sorted_rows(regional, "territoire_type", "territoire_code"),
        total=None,
        filterable=filterable,
    )


HORS_QPV = "Attributions hors QPV"


def bailleurs_table(per_bailleur: pl.DataFrame, title: str) -> Table:
    """One line per bailleur on a territory (from each bailleur's territorial consolidation)."""
    names = categories.bailleurs()
    return table(
        title,
        (
            Field("Bailleur", lambda r: names.get(r["bailleur_siren"], NOT_REFERENCED), TEXT),
            Field("SIREN du bailleur", lambda r: text(r["bailleur_siren"]), TEXT),
            *counts(),
            Field("Hors flux proposés", lambda r: as_int(r.get("hors_flux_proposes"))),
            Field("Hors flux attribués", lambda r: as_int(r.get("hors_flux_attribues"))),
            Field(HORS_QPV, lambda r: as_int(r.get("attribues_hors_qpv"))),
            Field(
                "Part hors QPV",
                lambda r: share(r.get("attribues_hors_qpv"), r.get("attribues")),
                PCT,
                Ratio(HORS_QPV, ATTRIBUES),
            ),
        ),
        sorted_rows(per_bailleur, "bailleur_siren"),
        filterable=True,
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
    changes = _year(regional.get("mart_regional_evolution", pl.DataFrame()), annee)
    forecasts = _year(regional.get("mart_regional_previsionnel_realise", pl.DataFrame()), annee)
    like_for_like = evolution.like_for_like_note(changes, annee)
    per_bailleur = _concat(bailleurs, "mart_bilan_territoire")
    note = _excluded_note(excluded)
    synthesis = (
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
        *_evolution_sheets(changes, annee, like_for_like),
        *_forecast_sheets(forecasts, annee, like_for_like),
    )
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
                *evolution.notice_keys(synthesis),
            ),
            sheets=synthesis,
            annee=annee,
            bailleur=TOUS_LES_BAILLEURS,
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
        summary = territoires_table(
            pl.DataFrame([row]), "Bilan consolidé, tous bailleurs", filterable=False
        )
        detail = _with_note(bailleurs_table(lines, "Détail par bailleur"), note)
        change = evolution.evolution_table(
            evolution.of(changes, kind, code), annee, kind, note=like_for_like
        )
        forecast = (
            evolution.forecast_table(evolution.forecast_of(forecasts, code), annee, code)
            if kind == "DEPARTEMENT"
            else None
        )
        if kind == "DEPARTEMENT":
            where = dict(
                kind="REGIONAL_ETAT",
                folder="etat",
                consolidation="départementale",
                destinataire=categories.services_etat().get(code, "État"),
                perimetre=f"Département {departement_label(code)}",
                departement=code,
                title=departement_label(code),
            )
        else:
            label = TERRITOIRES.get(kind, kind)
            where = dict(
                kind="REGIONAL_EPCI_EPT",
                folder="epci",
                consolidation=label,
                destinataire=nom,
                perimetre=f"{label} {nom} ({code})",
                territoire=code,
                title=nom,
            )
        reports.append(_territory_report(annee, code, summary, detail, change, forecast, **where))
    return reports


def _territory_report(
    annee: int,
    code: str,
    summary: Table,
    detail: Table,
    change: Table | None,
    forecast: Table | None,
    *,
    kind: str,
    folder: str,
    consolidation: str,
    title: str,
    **where: str,
) -> Report:
    """The consolidation of one territory over every published bailleur, its évolution on the
    same bailleurs of N-1 and N, and (départements) the forecast against reality."""
    sheets = (
        Sheet(
            "Bilan consolidé",
            f"Bilan {annee} – {title}",
            (summary, *evolution.present(change), detail),
            landscape=True,
        ),
        *(
            (Sheet("Prévu et réalisé", f"Prévu et réalisé {annee} – {title}", (forecast,),
                   landscape=True),)
            if forecast
            else ()
        ),
    )
    return Report(
        kind=kind,
        relpath=f"regional/{folder}/{safe_stem(code)}.xlsx",
        annee=annee,
        bailleur=TOUS_LES_BAILLEURS,
        titre=f"Bilan {annee} de la gestion en flux – consolidation {consolidation}, tous bailleurs",
        recipient_code=code,
        notice=notice(
            "regional", "flux_brut", "territoire", "hors_qpv", *evolution.notice_keys(sheets)
        ),
        sheets=sheets,
        **where,
    )


def _evolution_sheets(changes: pl.DataFrame, annee: int, note: str) -> tuple[Sheet, ...]:
    """The synthesis' évolution: réservataires and territories, N-1 beside N, a sheet each
    (their columns differ)."""
    reservataires = evolution.wide_table(
        f"Évolution par réservataire, {annee - 1} et {annee}",
        evolution.of(changes, evolution.RESERVATAIRE),
        annee,
        Field("Réservataire", lambda r: text(r["libelle"]), TEXT),
        ("attribues", "droit", "ecart"),
        note,
    )
    territoires = evolution.wide_table(
        f"Évolution par territoire, {annee - 1} et {annee}",
        changes.filter(pl.col("niveau") != evolution.RESERVATAIRE) if changes.height else changes,
        annee,
        Field("Territoire", lambda r: text(r["libelle"]), TEXT),
        ("attribues", "flux_net"),
        note,
        TERRITOIRES,
    )
    return tuple(
        Sheet(name, f"Évolution {annee - 1} – {annee} par {what}, tous bailleurs", (t,), landscape=True)
        for name, what, t in (("Évolution réservataires", "réservataire", reservataires),
                              ("Évolution territoires", "territoire", territoires))
        if t is not None
    )


def _forecast_sheets(forecasts: pl.DataFrame, annee: int, note: str) -> tuple[Sheet, ...]:
    """The synthesis' forecast against reality: one table per département."""
    if forecasts.is_empty():
        return ()
    tables = evolution.present(*(
        evolution.forecast_table(evolution.forecast_of(forecasts, dep), annee, dep)
        for dep in sorted(set(forecasts["departement"].to_list()))
    ))
    last = tables[-1]
    tables = (*tables[:-1], _with_note(last, f"{last.note} {note}"))
    return (Sheet("Prévu et réalisé", f"Prévu et réalisé {annee}, tous bailleurs", tables, landscape=True),)


def _year(frame: pl.DataFrame, annee: int) -> pl.DataFrame:
    return frame.filter(pl.col("annee") == annee) if frame.height else frame


def _with_note(table: Table, note: str | None) -> Table:
    return replace(table, note=note) if note else table
