"""Small helpers shared by the trame builders."""

from __future__ import annotations

import re

from dagster_project.trames import categories
from dagster_project.trames.loader import BailleurMarts


def safe_stem(code: str) -> str:
    """A file name from a code typed by a bailleur (no path separators, no surprises)."""
    stem = re.sub(r"[^0-9A-Za-z_.-]+", "_", code.strip()).strip("._")
    return stem or "sans_code"


def sources(b: BailleurMarts) -> tuple[tuple[str, str, str], ...]:
    """The input files behind a bailleur's figures (mart_sources), for the cover's audit trail."""
    return b.memo("sources", lambda: _sources(b["mart_sources"]))


def _sources(frame) -> tuple[tuple[str, str, str], ...]:
    if frame.is_empty():
        return ()
    rows = frame.select("_source_file", "_source_sha256", "depose_le").unique()
    return tuple(
        sorted(
            (str(f or ""), str(sha or ""), "" if d is None else str(d)[:19])
            for f, sha, d in rows.iter_rows()
        )
    )


def departement_label(dep: str) -> str:
    return f"{dep} – {categories.departements().get(dep, dep)}"


def split_departements(value: str | None) -> list[str]:
    return sorted({d.strip() for d in (value or "").split(",") if d.strip()})
