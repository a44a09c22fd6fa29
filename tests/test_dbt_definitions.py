"""The dbt project as Dagster assets: keys, lineage onto ingestion, groups, checks, pool."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from dagster_project.marts import PUBLISHED_MODELS
from dagster_project.defs.transform.definitions import (
    defs,
    flux_dbt_assets,
    regional_dbt_assets,
)
from dagster_project.settings import DUCKDB_WRITER_POOL

MARTS = set(PUBLISHED_MODELS)


@pytest.fixture(scope="module")
def dbt_assets_def(dbt_manifest: Path) -> dg.AssetsDefinition:
    return flux_dbt_assets()


def test_every_contract_mart_is_an_asset(dbt_assets_def: dg.AssetsDefinition) -> None:
    keys = {k.to_user_string() for k in (*dbt_assets_def.keys, *regional_dbt_assets().keys)}
    assert MARTS <= keys
    assert {"stg_logements", "stg_tours", "stg_conventions", "stg_previsionnel"} <= keys


def test_sources_are_the_ingestion_assets(dbt_assets_def: dg.AssetsDefinition) -> None:
    own = set(dbt_assets_def.keys)
    upstream = {k.to_user_string() for k in dbt_assets_def.dependency_keys - own}
    assert upstream == {
        "raw/fichiers",
        "raw/logements",
        "raw/tours",
        "raw/conventions",
        "raw/previsionnel",
    }
    stg_tours = dg.AssetKey("stg_tours")
    assert dg.AssetKey(["raw", "tours"]) in dbt_assets_def.asset_deps[stg_tours]


def test_regional_marts_are_built_after_the_status_of_the_bailleurs(dbt_manifest: Path) -> None:
    regional = regional_dbt_assets()
    assert {k.to_user_string() for k in regional.keys} == {
        "int_bailleurs_publies", "mart_regional_reservataire", "mart_regional_territoire",
        "mart_regional_evolution", "mart_regional_previsionnel_realise"}
    assert dg.AssetKey("statut_bailleurs") in regional.dependency_keys
    assert not set(regional.keys) & set(flux_dbt_assets().keys)
    assert regional.op.pool == DUCKDB_WRITER_POOL


def test_groups_follow_the_dbt_folders(dbt_assets_def: dg.AssetsDefinition) -> None:
    groups = {k.to_user_string(): g for k, g in dbt_assets_def.group_names_by_key.items()}
    assert groups["stg_tours"] == "staging"
    assert groups["dim_logement"] == "dimensions"
    assert groups["int_flux_logements"] == "intermediate"
    assert groups["mart_flux"] == "marts"
    assert groups["ref_communes"] == "reference"


def test_dbt_tests_are_asset_checks(dbt_assets_def: dg.AssetsDefinition) -> None:
    checks = {(c.asset_key.to_user_string(), c.name) for c in dbt_assets_def.check_specs}
    grain = ("mart_flux", "unique_combination_mart_flux_bailleur_siren__annee__departement")
    assert grain in checks
    assert {asset for asset, _ in checks} >= {"mart_bilan_reservataire", "mart_recipients"}


def test_the_dbt_op_runs_in_the_duckdb_writer_pool(dbt_assets_def: dg.AssetsDefinition) -> None:
    assert dbt_assets_def.op.pool == DUCKDB_WRITER_POOL


def test_definitions_load_with_the_dbt_resource(dbt_manifest: Path) -> None:
    d = defs()
    assert "dbt" in d.resources
    assert d.resolve_asset_graph().has(dg.AssetKey("mart_recipients"))
