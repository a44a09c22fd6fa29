"""dagster-dbt's CLI resource without its per-invocation start-up work.

Private API of dagster-dbt 0.29.27 (``DbtCliResource._cli_version``,
``_initialize_dbt_core_adapter``). Before starting dbt, ``DbtCliResource.cli`` runs
``dbt --version`` in a subprocess (it imports all of dbt) and builds an in-process dbt adapter
(it loads every macro), used only to fetch row counts or column metadata through dbt. We pin
dbt-core (its version is this environment's) and take row counts from dbt's own event stream
(``defs/transform/row_counts.py``). Measured gain: docs/benchmark.md, "Private API".
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from importlib.metadata import version as installed_version

from packaging import version

from dagster_project.private_api import disabled, written_for

written_for("dagster-dbt", "0.29.27")

from dagster_dbt import DbtCliResource  # noqa: E402

NAME = "dagster_dbt_cli"


class FluxDbtCliResource(DbtCliResource):
    @cached_property
    def _cli_version(self) -> version.Version:
        if disabled(NAME):  # the benchmark's "without" measure
            return super()._cli_version
        return version.parse(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]):
        if disabled(NAME):
            return super()._initialize_dbt_core_adapter(args)
        return None
