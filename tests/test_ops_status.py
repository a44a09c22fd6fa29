"""The one status per bailleur and year (dagster_project/status.py), from the file log and the
quality status."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from dagster_project.ingest.store import FICHIERS_SCHEMA
from dagster_project.status import (
    ABSENT,
    BLOQUE,
    COMPLET,
    INCOMPLET,
    PUBLIE,
    REJETE,
    bailleur_status,
    excluded,
    published,
    sheet_versions,
)

D1, D2, D3 = datetime(2025, 2, 1), datetime(2025, 2, 10), datetime(2025, 2, 20)
ALL = ["conventions", "logements", "previsionnel", "tours"]


def fichier(siren: str, chemin: str, feuilles: list[str], statut: str = "ACCEPTE", depose_le=D1,
            annee: int = 2024) -> dict:
    return {"sha256": f"sha-{chemin}", "chemin": chemin, "nom_fichier": chemin,
            "bailleur_siren": siren, "annee": annee, "feuilles": feuilles, "statut": statut,
            "nb_erreurs": int(statut == REJETE), "nb_avertissements": 0, "depose_le": depose_le,
            "charge_le": depose_le, "run_id": "r", "chemin_archive": None, "taille_octets": 1}


def log(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=FICHIERS_SCHEMA)


def quality(*rows: tuple[str, bool, str]) -> pl.DataFrame:
    return pl.DataFrame([{"bailleur_siren": s, "annee": 2024, "bloque": b, "resume": r}
                         for s, b, r in rows])


def row(status: pl.DataFrame, siren: str) -> dict:
    (found,) = status.filter(pl.col("bailleur_siren") == siren).to_dicts()
    return found


COMPLETE = log(
    fichier("111111111", "a/classeur.xlsx", ALL),
    # only conventions dropped, tours rejected: the first scenario
    fichier("222222222", "b/conv.csv", ["conventions"]),
    fichier("222222222", "b/tours.csv", ["tours"], statut=REJETE, depose_le=D2),
    fichier("333333333", "c/classeur.xlsx", ["conventions", "logements", "tours"]),
)


def test_each_required_sheet_has_the_version_counted_and_its_verdict():
    versions = sheet_versions(COMPLETE)
    b = versions.filter(pl.col("bailleur_siren") == "222222222").sort("feuille")
    assert b["feuille"].to_list() == ALL
    assert b["verdict"].to_list() == ["ACCEPTE", ABSENT, ABSENT, REJETE]
    assert b["chemin"].to_list() == ["b/conv.csv", None, None, "b/tours.csv"]
    assert b["obligatoire"].to_list() == [True, True, False, True]


def test_a_missing_or_rejected_required_sheet_makes_the_bailleur_incomplete():
    status = bailleur_status(COMPLETE)
    b = row(status, "222222222")
    assert (b["statut"], b["publie"]) == (INCOMPLET, False)
    assert b["feuilles_manquantes"] == "logements" and b["feuilles_rejetees"] == "tours"
    assert "jamais déposée(s) : logements" in b["motif"] and "rejetée(s), à redéposer : tours" in b["motif"]
    # before the quality checks, complete is as far as one gets
    assert row(status, "111111111")["statut"] == COMPLET
    assert row(status, "333333333")["previsionnel"] is False


def test_quality_blocks_or_publishes_complete_bailleurs_only():
    status = bailleur_status(COMPLETE, quality(
        ("111111111", True, "[§6.4] rang de tour (2 lignes en échec)."),
        ("222222222", False, ""), ("333333333", False, "")))
    assert row(status, "111111111")["statut"] == BLOQUE
    assert "[§6.4] rang de tour" in row(status, "111111111")["motif"]
    assert row(status, "222222222")["statut"] == INCOMPLET  # unblocked, still not published
    assert row(status, "333333333")["statut"] == PUBLIE
    assert published(status) == {("333333333", 2024)}
    assert set(excluded(status)) == {("111111111", 2024), ("222222222", 2024)}
    assert excluded(status)[("111111111", 2024)].startswith("bloqué : ")


def test_a_later_rejected_drop_leaves_the_earlier_accepted_version_counted():
    status_log = log(
        fichier("111111111", "a/v1.xlsx", ALL, depose_le=D1),
        fichier("111111111", "a/v2.xlsx", ["tours"], statut=REJETE, depose_le=D2),
    )
    (tours,) = sheet_versions(status_log).filter(pl.col("feuille") == "tours").to_dicts()
    assert (tours["chemin"], tours["verdict"], tours["rejet_ulterieur"]) == (
        "a/v1.xlsx", "ACCEPTE", "a/v2.xlsx")
    b = row(bailleur_status(status_log), "111111111")
    assert b["statut"] == COMPLET and "(a/v2.xlsx)" in b["motif"] and b["nb_fichiers"] == 2


def test_a_later_accepted_drop_replaces_a_rejected_one_and_unreadable_files_count_as_rejected():
    fixed = log(
        fichier("111111111", "a/v1.xlsx", ALL, statut=REJETE, depose_le=D1),
        fichier("111111111", "a/v2.xlsx", ALL, depose_le=D2),
        fichier("222222222", "b/illisible.xlsx", [], statut=REJETE),
    )
    status = bailleur_status(fixed)
    assert row(status, "111111111")["statut"] == COMPLET
    unreadable = row(status, "222222222")
    assert unreadable["statut"] == INCOMPLET
    assert unreadable["feuilles_rejetees"] == "logements, tours, conventions"


def test_an_unreadable_csv_concerns_only_the_sheet_its_name_names():
    """Regression: a junk ``…_tours.csv`` (or ``.csv.bak``) dropped after a complete set was told
    to the bailleur as a rejected drop of all four sheets."""
    junk = log(
        fichier("111111111", "a/classeur.xlsx", ALL, depose_le=D1),
        fichier("111111111", "a/111111111_2024_tours.csv.bak", [], statut=REJETE, depose_le=D2),
    )
    versions = sheet_versions(junk).filter(pl.col("rejet_ulterieur").is_not_null())
    assert versions["feuille"].to_list() == ["tours"]
    b = row(bailleur_status(junk), "111111111")
    assert b["statut"] == COMPLET and b["motif"].count("dépôt rejeté") == 1


def test_years_and_unidentified_files_are_kept_apart():
    mixed = log(
        fichier("111111111", "a/2023.xlsx", ALL, annee=2023),
        fichier("111111111", "a/2024.xlsx", ["tours"]),
        {**fichier("", "inconnu.xlsx", [], statut=REJETE), "bailleur_siren": None, "annee": None},
    )
    assert bailleur_status(mixed, annee=2023)["statut"].to_list() == [COMPLET]
    assert bailleur_status(mixed)["annee"].to_list() == [2023, 2024]
    assert bailleur_status(None).is_empty() and sheet_versions(log()).is_empty()
