"""Reference lists, read from the dbt seeds so that Python and SQL share one source of truth."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

import polars as pl

from dagster_project.settings import SEEDS_DIR

_INTEGRAL_NUMBER = re.compile(r"(\d+)\.0*")


@cache
def load_seed(name: str) -> pl.DataFrame:
    """The seed ``dbt/seeds/<name>.csv`` with every column as text (codes keep leading zeros)."""
    return pl.read_csv(SEEDS_DIR / f"{name}.csv", infer_schema=False)


def normalise_valeur(value: object) -> str | None:
    """A free-text code or label as the ``valeur`` column of the mapping seeds spells it.

    Accents removed, upper-case, surrounding blanks trimmed, inner runs of blanks collapsed
    to one space, typographic apostrophes made straight, and a whole number read from a
    spreadsheet as a float (``10.0``) written as an integer. Hyphens, slashes and ``+`` are
    kept as written: the seeds list the spellings they accept (``PLA-I``, ``PLA I``, ``HLM/O``).
    Empty input gives ``None``.
    """
    if value is None:
        return None
    decomposed = unicodedata.normalize("NFKD", str(value).replace("\u2019", "'"))
    text = " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).upper().split())
    if match := _INTEGRAL_NUMBER.fullmatch(text):
        text = match.group(1)
    return text or None


@cache
def seed_mapping(name: str, key: str, value: str) -> Mapping[str, str]:
    """Two columns of a seed as a read-only dict, e.g. ``seed_mapping("ref_financements", "valeur", "famille")``."""
    return MappingProxyType(dict(load_seed(name).select(key, value).iter_rows()))
