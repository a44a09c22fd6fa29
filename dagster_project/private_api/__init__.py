"""Every use of a library's private API, one module each, and what it pays (docs/benchmark.md).

A module here relies on internals of one library, at the exact version pinned in
pyproject.toml: ``written_for`` refuses to import it under another version, so an upgrade
fails the tests at once instead of silently changing behaviour or speed. Its docstring says
what it replaces and its measured gain; the benchmark measures that gain again by turning the
module off in one run process (``FLUX_SANS_API_PRIVEE``, see ``disabled``).

- ``dagster_sqlite_event_log``: the instance's event log keeps its SQLite engines;
- ``dagster_dbt_cli``: dagster-dbt's CLI resource without its per-invocation start-up work;
- ``openpyxl_writer``: openpyxl's workbook writer without a temporary file per worksheet;
- ``openpyxl_default_font``: a workbook's default font (Arial 10, the font the layout measures).

Not private API, so not here: ``module: dagster._core.run_coordinator`` in the instance's
``dagster.yaml`` (the form Dagster's own documentation gives for the QueuedRunCoordinator),
and ``AssetCheckSpec._replace`` in the dbt translator (the namedtuple method, public by the
namedtuple convention, that Dagster keeps on its specs).
"""

from __future__ import annotations

import os
from importlib.metadata import version

# Names (the modules' short names) the benchmark turns off in a run process, comma-separated.
# Measuring only: nothing else sets it.
DISABLED_ENV = "FLUX_SANS_API_PRIVEE"


class PrivateApiVersionError(ImportError):
    """The installed library is not the version a private-API module was written for."""


def written_for(distribution: str, expected: str) -> None:
    """Refuse to run private-API code against another version of ``distribution``."""
    installed = version(distribution)
    if installed != expected:
        raise PrivateApiVersionError(
            f"dagster_project.private_api relies on internals of {distribution} {expected} "
            f"(pinned in pyproject.toml), but {installed} is installed: re-check the module, "
            "measure its gain again (make bench) and update the pin."
        )


def disabled(name: str) -> bool:
    """Whether the benchmark asked this process to run without the module ``name``."""
    return name in {n.strip() for n in os.environ.get(DISABLED_ENV, "").split(",")}
