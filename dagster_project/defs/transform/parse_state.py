"""The dbt parse state carried from one run to the next."""

from __future__ import annotations

from pathlib import Path

from dagster_project.atomic import copy_file

PARTIAL_PARSE = "partial_parse.msgpack"


def keep_parse_state(invocation_target: Path, artifacts: Path) -> None:
    """Make this invocation's parse state the one the next run starts from (dagster-dbt copies
    ``<artifacts>/partial_parse.msgpack`` into each new invocation's folder): dbt then only
    re-parses the files changed since, instead of the whole project."""
    state = invocation_target / PARTIAL_PARSE
    if state.is_file():
        copy_file(state, artifacts / PARTIAL_PARSE)
