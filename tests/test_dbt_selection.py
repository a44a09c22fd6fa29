"""Pipeline runs leave out the reference seeds' own tests; CI's plain `dbt build` keeps them."""

from __future__ import annotations

from pathlib import Path

from dagster_project.defs.transform.definitions import flux_dbt_assets
from dagster_project.defs.transform.selection import reference_data_tests


def test_tests_reading_only_seeds_are_left_to_ci(dbt_manifest: Path) -> None:
    names = reference_data_tests(dbt_manifest)

    assert "unique_ref_communes_commune_insee" in names
    assert "relationships_ref_communes_departement__departement__ref_ref_departements_" in names
    assert all("_ref_" in name for name in names)
    # Reads ref_ventilations AND the marts: it checks the bailleurs' figures.
    assert "assert_ventilations_somment_aux_totaux" not in names


def test_the_dagster_checks_are_the_data_tests(dbt_manifest: Path) -> None:
    checks = {key.name for key in flux_dbt_assets().check_keys}

    assert not checks & set(reference_data_tests(dbt_manifest))
    assert "assert_ventilations_somment_aux_totaux" in checks
    assert "not_null_fct_tours_annee" in checks
    assert any(key.path[-1] == "ref_communes" for key in flux_dbt_assets().keys)  # still loaded
