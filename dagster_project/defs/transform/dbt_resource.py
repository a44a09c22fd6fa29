"""dagster-dbt's CLI resource without its per-invocation start-up costs, and the parse state
carried from one run to the next.

``DbtCliResource.cli`` spends ≈ 8 s of every run before dbt starts (py-spy, idf campaign):
``dbt --version`` in a subprocess (≈ 4 s: it imports all of dbt) and an in-process dbt adapter
(≈ 4 s: loads every macro), used only to fetch row counts or column metadata through dbt. We
pin dbt-core (its version is this environment's) and take row counts from dbt's own event
stream (row_counts.py). Both overrides are private API of the dagster-dbt version
locked in uv.lock; tests/test_dbt_dagster.py fails if they stop applying.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

from dagster_dbt import DbtCliResource
from packaging import version

from dagster_project.atomic import copy_file

PARTIAL_PARSE = "partial_parse.msgpack"


class FluxDbtCliResource(DbtCliResource):
    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def keep_parse_state(invocation_target: Path, artifacts: Path) -> None:
    """Make this invocation's parse state the one the next run starts from (dagster-dbt copies
    ``<artifacts>/partial_parse.msgpack`` into each new invocation's folder): dbt then only
    re-parses the files changed since, instead of the whole project."""
    state = invocation_target / PARTIAL_PARSE
    if state.is_file():
        copy_file(state, artifacts / PARTIAL_PARSE)
