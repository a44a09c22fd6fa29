"""End to end: only complete, unblocked bailleurs are published, and the regional figures add
up exactly the published bailleurs' figures.

The acceptance campaign with two bailleurs spoilt, as an operator would meet them
(``campagne_abimee`` in conftest.py): one incomplete, one blocked, one published.
"""

from __future__ import annotations

import json

import duckdb
import polars as pl
import pytest
from trames_readback import all_text, read_tables

from dagster_project.marts import REGIONAL_MARTS
from dagster_project.settings import Paths
from tests.conftest import BLOCKED, INCOMPLETE, PUBLISHED

# Each regional mart and the bailleur mart it adds up, by its keys.
REGIONAL_SOURCES = {
    "mart_regional_reservataire": ("mart_bilan_reservataire", ["annee", "reservataire_id"]),
    "mart_regional_territoire": (
        "mart_bilan_territoire", ["annee", "territoire_type", "territoire_code"]),
}
NOT_ADDITIVE = {"nb_bailleurs", "part_hors_qpv"}


@pytest.fixture
def campaign(campagne_abimee) -> tuple[Paths, str]:
    p, result = campagne_abimee
    return p, result.stdout


def test_one_status_per_bailleur_with_the_reason(campaign):
    p, stdout = campaign
    status = pl.read_parquet(p.published(2024) / "statut_bailleurs.parquet").sort("bailleur_siren")
    assert dict(zip(status["bailleur_siren"], status["statut"], strict=True)) == {
        INCOMPLETE: "INCOMPLET", PUBLISHED: "PUBLIE", BLOCKED: "BLOQUE"}
    motifs = dict(zip(status["bailleur_siren"], status["motif"], strict=True))
    assert "rejetée(s), à redéposer : tours" in motifs[INCOMPLETE]
    assert "[§6.2]" in motifs[BLOCKED]
    sheets = pl.read_parquet(p.published(2024) / "statut_feuilles.parquet")
    (tours,) = sheets.filter((pl.col("bailleur_siren") == INCOMPLETE)
                             & (pl.col("feuille") == "tours")).to_dicts()
    assert tours["verdict"] == "REJETE" and tours["chemin"].endswith("_tours.csv")
    assert f"| {INCOMPLETE} | 2024 | 4 | incomplet | " in stdout
    assert f"| {BLOCKED} | 2024 | 4 | bloqué | " in stdout
    assert "publiés (trames et consolidations régionales) : **1**" in stdout


def test_only_the_published_bailleur_gets_trames_and_the_manifest_says_why(campaign):
    p, _ = campaign
    manifest = json.loads((p.trames / "2024" / "manifest.json").read_text(encoding="utf-8"))
    assert {e["bailleur_siren"] for e in manifest["files"]} == {PUBLISHED, ""}
    assert not any((p.trames / "2024" / s).exists() for s in (INCOMPLETE, BLOCKED))
    reasons = {r["bailleur_siren"]: r["motif"] for r in manifest["bailleurs_non_publies"]}
    assert reasons[INCOMPLETE].startswith("incomplet : ") and "tours" in reasons[INCOMPLETE]
    assert reasons[BLOCKED].startswith("bloqué : ") and "[§6.2]" in reasons[BLOCKED]
    assert not [f for f in p.trames.rglob("*.xlsx") if "NON_RENSEIGNE" in f.name]


def regional_mismatches(con: duckdb.DuckDBPyConnection, regional: str) -> pl.DataFrame:
    """The cells of ``regional`` that differ from the sum over the published bailleurs."""
    source, keys = REGIONAL_SOURCES[regional]
    columns = con.execute(f"select * from {regional} limit 0").pl().columns
    source_columns = set(con.execute(f"select * from {source} limit 0").pl().columns)
    measures = [c for c in columns if c in source_columns and c not in {*keys, *NOT_ADDITIVE}
                and c not in ("reservataire_nom", "reservataire_categorie", "reservataire_siren",
                              "territoire_nom", "lec")]
    assert {"proposes", "attribues"} <= set(measures)
    sums = ", ".join(f"sum(b.{c}) as {c}" for c in measures)
    differs = " or ".join(f"abs(coalesce(r.{c}, 0) - coalesce(s.{c}, 0)) > 1e-9" for c in measures)
    on = " and ".join(f"r.{k} = s.{k}" for k in keys)
    return con.execute(f"""
        with s as (
            select {", ".join(f"b.{k}" for k in keys)}, count(distinct b.bailleur_siren) as nb,
                {sums}
            from {source} as b
            join statut_bailleurs as st using (bailleur_siren, annee)
            where st.publie {"and b.reservataire_id is not null" if "reservataire_id" in keys else ""}
            group by all
        )
        select * from {regional} as r full join s on {on}
        where r.{keys[-1]} is null or s.{keys[-1]} is null or r.nb_bailleurs <> s.nb or {differs}
    """).pl()


def test_every_regional_figure_is_the_sum_of_the_published_bailleurs(campaign):
    p, _ = campaign
    # The across-years marts (one year here: empty) are checked by test_annees_campagnes.py.
    assert set(REGIONAL_MARTS) - set(REGIONAL_SOURCES) == {
        "mart_regional_evolution", "mart_regional_previsionnel_realise"}
    with duckdb.connect(str(p.catalog), read_only=True) as con:
        for regional in REGIONAL_SOURCES:
            assert con.execute(f"select count(*) from {regional}").fetchone()[0] > 0
            bad = regional_mismatches(con, regional)
            assert bad.is_empty(), f"{regional} :\n{bad}"
            assert con.execute(f"select max(nb_bailleurs) from {regional}").fetchone()[0] == 1


def test_regional_trames_add_up_their_detail_and_name_the_excluded(campaign):
    p, _ = campaign
    etat = sorted((p.trames / "2024" / "regional" / "etat").glob("*.xlsx"))
    assert etat
    for path in etat:
        sheet = read_tables(path)["Bilan consolidé"]
        consolidated, detail = sheet["Bilan consolidé, tous bailleurs"], sheet["Détail par bailleur"]
        total = next(r for r in detail if r["Bailleur"] == "Total")
        lines = [r for r in detail if r["Bailleur"] != "Total"]
        assert {r["SIREN du bailleur"] for r in lines} <= {PUBLISHED}
        for column in ("Logements proposés", "Logements attribués"):
            # the total row is a SUBTOTAL over the lines (it follows the filters)
            assert total[column].startswith("=SUBTOTAL(109,"), (path.name, column)
            assert consolidated[0][column] == sum(r[column] for r in lines), (path.name, column)
    text = all_text(p.trames / "2024" / "regional" / "synthese_regionale.xlsx")
    assert f"{INCOMPLETE} (incomplet : tours rejetée)" in text
    assert f"{BLOCKED} (bloqué par le contrôle qualité)" in text


def test_no_trame_for_an_unknown_territory(tmp_path):
    from trames_synthetic import synthetic_marts, write_marts

    from dagster_project.trames.campaign import generate_trames

    marts = synthetic_marts(2, seed=5)
    regional = marts["mart_regional_territoire"]
    marts["mart_regional_territoire"] = pl.concat([regional, regional.head(1).with_columns(
        territoire_type=pl.lit("DEPARTEMENT"), territoire_code=pl.lit("NON_RENSEIGNE"))])
    recipients = marts["mart_recipients"]
    etat = recipients.filter(pl.col("kind") == "ETAT").head(1)
    marts["mart_recipients"] = pl.concat([recipients, etat.with_columns(
        recipient_code=pl.lit("NON_RENSEIGNE"), territoire_code=pl.lit("NON_RENSEIGNE"))])
    write_marts(marts, tmp_path / "marts")
    result = generate_trames(tmp_path / "marts", tmp_path / "trames", "run", workers=1)
    assert result.written and not [f for f in result.written if "NON_RENSEIGNE" in f]
