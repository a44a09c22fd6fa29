"""How dbt resources become Dagster assets: sources onto the ingestion assets, groups by folder,
and dbt tests as asset checks that say in French what they check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator

from dagster_project.defs.transform.check_descriptions import describe_test

# contracts.md §5: the ingestion assets that write the raw store are `raw/<table>`.
RAW_PREFIX = "raw"
SEED_GROUP = "reference"
# The status of each bailleur (dagster_project/status.py), written after the quality checks.
STATUS_SOURCE = "statut"


class FluxDbtTranslator(DagsterDbtTranslator):
    """dbt source `raw.<table>` is the ingestion asset `raw/<table>`, so lineage runs unbroken
    from the landing file to each mart; source `statut.statut_bailleurs` is the asset
    `statut_bailleurs`; models are grouped by their dbt folder."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            if dbt_resource_props["source_name"] == STATUS_SOURCE:  # the asset statut_bailleurs
                return dg.AssetKey([dbt_resource_props["name"]])
            return dg.AssetKey([RAW_PREFIX, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "seed":
            return SEED_GROUP
        if resource_type == "model":
            # fqn = [project, folder, ..., model]
            fqn = dbt_resource_props["fqn"]
            return fqn[1] if len(fqn) > 2 else None
        return super().get_group_name(dbt_resource_props)

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        """dagster-dbt reads a check's description from the test's ``meta``; ours is the dbt
        test's own ``description`` (shown in dbt docs too), or one said from its kind."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=describe_test(manifest["nodes"][unique_id]))
