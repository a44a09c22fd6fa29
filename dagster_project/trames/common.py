"""Small helpers shared by the trame builders."""

from __future__ import annotations

import re

import polars as pl

from dagster_project.trames import categories


def safe_stem(code: str) -> str:
    """A file name from a code typed by a bailleur (no path separators, no surprises)."""
    stem = re.sub(r"[^0-9A-Za-z_.-]+", "_", code.strip()).strip("._")
    return stem or "sans_code"


def sources(sources_frame: pl.DataFrame) -> tuple[tuple[str, str, str], ...]:
    """The input files behind a bailleur's figures (mart_sources), for the cover's audit trail."""
    if sources_frame.is_empty():
        return ()
    rows = sources_frame.select("_source_file", "_source_sha256", "depose_le").unique()
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
