"""Read the published marts once and hand each trame builder only the rows it may show.

The trames of year N read nothing but the published folder of that year,
``paths().published(N)/<mart>.parquet`` (contracts §3), and its ``statut_bailleurs.parquet`` (the status of each bailleur, ``dagster_project/status.py``): only
a bailleur whose status is ``PUBLIE`` gets trames. A mart that is not published yet reads as
an empty table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dagster_project import status
from dagster_project.marts import BAILLEUR_MARTS, REGIONAL_MARTS

MARTS = BAILLEUR_MARTS + REGIONAL_MARTS

BailleurKey = tuple[str, int]  # (bailleur_siren, annee)


@dataclass(frozen=True)
class BailleurMarts:
    """Every mart row of one bailleur for one year."""

    siren: str
    annee: int
    frames: dict[str, pl.DataFrame]
    _parts: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def __getitem__(self, mart: str) -> pl.DataFrame:
        return self.frames[mart]

    def rows_of(self, mart: str, column: str, value: str) -> pl.DataFrame:
        """The rows of ``mart`` where ``column == value``, partitioning the mart once."""
        key = (mart, column)
        if key not in self._parts:
            frame = self.frames[mart]
            self._parts[key] = (
                {k[0]: part for k, part in frame.partition_by(column, as_dict=True).items()}
                if frame.height
                else {}
            )
        return self._parts[key].get(value, self.frames[mart].clear())

    def memo(self, key: str, compute):
        """``compute()`` once per bailleur (values every trame of the bailleur shares)."""
        if key not in self._parts:
            self._parts[key] = compute()
        return self._parts[key]


@dataclass(frozen=True)
class Campaign:
    """The marts of a whole campaign, split by bailleur × année once."""

    bailleurs: dict[BailleurKey, BailleurMarts]
    regional: dict[str, pl.DataFrame]
    status: pl.DataFrame  # status.STATUS_SCHEMA

    @property
    def published(self) -> set[BailleurKey]:
        return status.published(self.status)

    def excluded(self, *, short: bool = False) -> dict[BailleurKey, str]:
        """Bailleurs with marts or files but no trames → why (French)."""
        return status.excluded(self.status, short=short)

    @property
    def with_previsionnel(self) -> set[BailleurKey]:
        """Published bailleurs with an accepted prévisionnel: they get the prévisionnel trames."""
        rows = self.status.filter(pl.col("publie") & pl.col("previsionnel"))
        return {(str(s), int(a)) for s, a in rows.select(status.BAILLEUR).iter_rows()}

    @property
    def annees(self) -> list[int]:
        years = {annee for _, annee in self.bailleurs}
        for frame in self.regional.values():
            if "annee" in frame.columns:
                years.update(frame["annee"].to_list())
        return sorted(years)


def read_mart(root: Path, name: str) -> pl.DataFrame:
    path = root / f"{name}.parquet"
    return pl.read_parquet(path) if path.exists() else pl.DataFrame()


def _normalise_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """SIREN as text, year as integer, and DuckDB's HUGEINT sums (decimals) as plain numbers."""
    casts = [
        pl.col(name).cast(pl.Int64 if dtype.scale == 0 else pl.Float64)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Decimal)
    ]
    if "bailleur_siren" in frame.columns:
        casts.append(pl.col("bailleur_siren").cast(pl.String))
    if "annee" in frame.columns:
        casts.append(pl.col("annee").cast(pl.Int64))
    return frame.with_columns(casts) if casts else frame


def _split(frame: pl.DataFrame) -> dict[BailleurKey, pl.DataFrame]:
    if frame.is_empty() or "bailleur_siren" not in frame.columns:
        return {}
    parts = frame.partition_by(["bailleur_siren", "annee"], as_dict=True, maintain_order=True)
    return {(str(siren), int(annee)): part for (siren, annee), part in parts.items()}


def read_status(root: Path) -> pl.DataFrame:
    path = root / f"{status.STATUS_TABLE}.parquet"
    if not path.exists():
        return pl.DataFrame(schema=status.STATUS_SCHEMA)
    return _normalise_keys(pl.read_parquet(path))


def load_campaign(root: Path) -> Campaign:
    """Read every mart once from ``root`` (``paths().published(annee)``) and split it by bailleur."""
    frames = {name: _normalise_keys(read_mart(root, name)) for name in BAILLEUR_MARTS}
    split = {name: _split(frame) for name, frame in frames.items()}
    keys = sorted({key for parts in split.values() for key in parts})
    bailleurs = {
        key: BailleurMarts(
            siren=key[0],
            annee=key[1],
            frames={name: split[name].get(key, frames[name].clear()) for name in BAILLEUR_MARTS},
        )
        for key in keys
    }
    regional = {name: _normalise_keys(read_mart(root, name)) for name in REGIONAL_MARTS}
    return Campaign(
        bailleurs=bailleurs,
        regional=regional,
        status=read_status(root),
    )
