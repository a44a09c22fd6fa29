"""Great Expectations imported, and its context built, in a background thread.

Relies on behaviour great-expectations 1.24.1 does not document: that importing it and
building an ephemeral context off the main thread, while the main thread runs other code,
gives the same context as doing it on the main thread. The run's process only waits for the
dbt subprocess meanwhile, so the checks that follow dbt find GX imported. Measured gain:
docs/benchmark.md, "Private API".
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from dagster_project.private_api import disabled, written_for

written_for("great-expectations", "1.24.1")

NAME = "great_expectations_import"


def prepare_in_background(build: Callable[[], object]) -> None:
    """Call ``build`` (which imports GX and caches its context) in a daemon thread; its errors
    are left to the first validation, which calls it again and reports them."""
    if disabled(NAME):  # the benchmark's "without" measure
        return
    threading.Thread(target=_quietly, args=(build,), name="gx-prepare", daemon=True).start()


def _quietly(build: Callable[[], object]) -> None:
    try:
        build()
    except Exception:  # noqa: BLE001 — the first validation builds it again and reports why
        pass
