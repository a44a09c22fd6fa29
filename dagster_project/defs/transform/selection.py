"""What a pipeline run builds: every dbt node, except the tests of the code.

The SQL unit tests (``unit_test`` nodes) and the reference seeds' own tests (unique, not_null,
accepted_values, relationships between ``ref_*`` seeds) test the SQL and the CSVs shipped with
the code, not the bailleurs' data: CI runs them (a plain ``dbt build``,
tests/test_dbt_build.py); campaign and re-drop runs do not. The seeds' tests are 43 of the 108
data tests: ≈ 1.5 s of a re-drop, and 43 checks fewer per run. A test that also reads a model
(``assert_ventilations_somment_aux_totaux`` reads ``ref_ventilations``) checks bailleur data
and stays.
"""

from __future__ import annotations

from pathlib import Path

from dagster_dbt.dbt_manifest import validate_manifest

# Added to every run's dbt command line: unit tests are not assets, so the assets' selection
# cannot leave them out.
NO_UNIT_TESTS = ("--exclude-resource-type", "unit_test")


def reference_data_tests(manifest_path: Path) -> list[str]:
    """Names of the dbt tests that read nothing but seeds, sorted (the manifest is the one
    dagster-dbt has read and cached for the dbt assets)."""
    nodes = validate_manifest(manifest_path)["nodes"]
    seeds = {uid for uid, node in nodes.items() if node["resource_type"] == "seed"}
    return sorted(
        node["name"]
        for node in nodes.values()
        if node["resource_type"] == "test"
        and node["depends_on"]["nodes"]
        and set(node["depends_on"]["nodes"]) <= seeds
    )
