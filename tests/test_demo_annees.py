"""The demo over two years (dagster_project/demo/annees.py), end to end through ingestion and
dbt: the same dwellings both years, conventions that evolve, a bailleur that only sends 2025,
and the Seine-Saint-Denis bailleur whose 2024 file carries Pierrefitte's former code 93059."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from dagster_project.defs.transform.dbt_cli import run_dbt
from dagster_project.demo import Scale, generate_campaign
from dagster_project.demo.annees import ANCIEN_CODE, COMMUNE_ACTUELLE, HOME_93, nouveau_bailleur
from dagster_project.demo.model import plan_bailleurs
from dagster_project.ingest.pipeline import discover_partitions, ingest_partitions
from dagster_project.settings import Paths

MINI = Scale("mini", nb_bailleurs=4, nb_logements=2_000, nb_grands=1, taille_grands=(800, 900))
SEED = 3  # its Seine-Saint-Denis bailleur has dwellings in Saint-Denis


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Paths, object]:
    data = tmp_path_factory.mktemp("demo-annees") / "data"
    p = Paths(data=data, landing=data / "raw")
    generate_campaign(p.landing, MINI, seed=SEED, annee=(2024, 2025))
    summary = ingest_partitions(p, discover_partitions(p.landing), run_id="demo-annees")
    # the models up to the tours (not the marts): tests whose parents are all selected
    run_dbt(["build", "--select", "+fct_tours", "--indirect-selection", "cautious"], p)
    return p, summary


def query(p: Paths, sql: str, params: list | None = None) -> pl.DataFrame:
    with duckdb.connect(str(p.warehouse), read_only=True) as con:
        return con.execute(sql, params or []).pl()


def test_both_years_are_ingested_without_an_error_nor_a_warning(warehouse) -> None:
    p, summary = warehouse
    keys = {f.partition for f in summary.files}
    plan = [b.siren for b in plan_bailleurs(MINI, SEED)]
    nouveau = nouveau_bailleur(MINI, SEED).siren
    assert keys == {f"{s}_{a}" for s in plan for a in (2024, 2025)} | {f"{nouveau}_2025"}
    assert [(f.chemin, f.statut, f.nb_erreurs, f.nb_avertissements) for f in summary.files
            if f.statut == "REJETE" or f.nb_erreurs or f.nb_avertissements] == []


def test_the_former_code_is_accepted_in_2024_counted_under_saint_denis_and_kept(warehouse) -> None:
    p, _ = warehouse
    siren = plan_bailleurs(MINI, SEED)[HOME_93].siren
    dropped = pl.read_parquet(p.raw_store / "logements" / "*.parquet").filter(
        pl.col("bailleur_siren") == siren)
    old = dropped.filter(pl.col("commune_insee") == ANCIEN_CODE)
    assert set(old["annee"]) == {2024} and old.height > 10
    logements = query(p, "select logement_id, commune_insee, commune_insee_depose from dim_logement "
                         "where bailleur_siren = ? and annee = 2024 and commune_insee_depose = ?",
                      [siren, ANCIEN_CODE])
    assert sorted(logements["logement_id"]) == sorted(old["logement_id"])
    assert set(logements["commune_insee"]) == {COMMUNE_ACTUELLE}
    tours = query(p, "select distinct commune_insee, commune_insee_depose, ept_siren from fct_tours "
                     "where bailleur_siren = ? and commune_insee_depose = ?", [siren, ANCIEN_CODE])
    assert tours.rows() == [(COMMUNE_ACTUELLE, ANCIEN_CODE, "200057867")]  # Plaine Commune
    # the same dwellings carry the current code in 2025
    in_2025 = dropped.filter(pl.col("annee") == 2025,
                             pl.col("logement_id").is_in(old["logement_id"].implode()))
    assert in_2025.height == old.height and set(in_2025["commune_insee"]) == {COMMUNE_ACTUELLE}


def test_the_same_dwellings_both_years_and_conventions_that_evolve(warehouse) -> None:
    p, _ = warehouse
    ids = query(p, "select bailleur_siren, annee, list(logement_id order by logement_id) as ids "
                   "from dim_logement group by all")
    by_year = {(r["bailleur_siren"], r["annee"]): r["ids"] for r in ids.iter_rows(named=True)}
    for b in plan_bailleurs(MINI, SEED):  # plus the mises en service of 2025
        before, after = set(by_year[b.siren, 2024]), set(by_year[b.siren, 2025])
        assert before < after and all("-2025-" in i for i in after - before), b.siren
    assert (nouveau_bailleur(MINI, SEED).siren, 2024) not in by_year
    conventions = pl.read_parquet(p.raw_store / "conventions" / "*.parquet")
    rates = conventions.group_by("bailleur_siren", "annee").agg(
        pl.col("taux_flux").sum(), pl.len()).sort("bailleur_siren", "annee")
    changed = [
        siren for siren, years in rates.partition_by("bailleur_siren", as_dict=True).items()
        if years.height == 2 and years.row(0)[2:] != years.row(1)[2:]
    ]
    assert len(changed) == MINI.nb_bailleurs
