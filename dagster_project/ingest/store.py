"""The raw store (docs/contracts.md §2): immutable Parquet per (file version, table), atomic writes.

A file version is a content *at a place*: ``dropped.version_id(chemin, sha256)``, so the same bytes
dropped under two names get two verdicts. ``fichiers/<version>.parquet`` is written last for a
version: its presence means the version is fully ingested, so re-ingesting it is a no-op.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

from dagster_project.atomic import atomic_target, write_parquet
from dagster_project.ingest.contract import sheets
from dagster_project.ingest.dropped import StillWriting, open_inside
from dagster_project.ingest.parsers import DTYPES

FICHIERS = "fichiers"
ANOMALIES = "anomalies"
DATA_TABLES = ("logements", "tours", "conventions", "previsionnel")
SCHEMA_FILE = "_schema.parquet"

FICHIERS_SCHEMA = {
    "sha256": pl.String,
    "chemin": pl.String,
    "nom_fichier": pl.String,
    "bailleur_siren": pl.String,
    "annee": pl.Int32,
    "feuilles": pl.List(pl.String),
    "statut": pl.String,
    "nb_erreurs": pl.Int32,
    "nb_avertissements": pl.Int32,
    "depose_le": pl.Datetime("us"),
    "apparu_le": pl.Datetime("us"),  # first seen in the landing folder (ingest/apparitions.py)
    "charge_le": pl.Datetime("us"),
    "run_id": pl.String,
    "chemin_archive": pl.String,
    "taille_octets": pl.Int64,
}
ANOMALIES_SCHEMA = {
    "sha256": pl.String,
    "chemin": pl.String,
    "feuille": pl.String,
    "ligne": pl.Int32,
    "colonne": pl.String,
    "valeur": pl.String,
    "regle": pl.String,
    "gravite": pl.String,
    "message": pl.String,
    "conseil": pl.String,
}
PROVENANCE_SCHEMA = {
    "bailleur_siren": pl.String,
    "annee": pl.Int32,
    "_source_file": pl.String,
    "_source_sha256": pl.String,
    "_sheet": pl.String,
    "_row_number": pl.Int32,
    "_loaded_at": pl.Datetime("us"),
    "_run_id": pl.String,
    "_extra": pl.String,
}


def data_schema(table: str) -> dict[str, pl.DataType]:
    columns = {c.name: DTYPES[c.type] for c in sheets()[table].columns}
    return {**columns, **PROVENANCE_SCHEMA}


def table_schema(table: str) -> dict[str, pl.DataType]:
    if table == FICHIERS:
        return FICHIERS_SCHEMA
    if table == ANOMALIES:
        return ANOMALIES_SCHEMA
    return data_schema(table)


ALL_TABLES = (FICHIERS, ANOMALIES, *DATA_TABLES)


def ensure_schemas(raw_store: Path) -> None:
    """Write the zero-row ``_schema.parquet`` of every table (dbt reads an empty store), and
    rewrite it when the contract gained a column (older versions' files lack it)."""
    for table in ALL_TABLES:
        target = raw_store / table / SCHEMA_FILE
        schema = table_schema(table)
        if not target.exists() or dict(pl.read_parquet_schema(target)) != schema:
            write_parquet(pl.DataFrame(schema=schema), target)


def conform(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    schema = table_schema(table)
    return frame.select(
        [(pl.col(n) if n in frame.columns else pl.lit(None)).cast(t).alias(n) for n, t in schema.items()]
    )


def table_path(raw_store: Path, table: str, version: str) -> Path:
    return raw_store / table / f"{version}.parquet"


def known_versions(raw_store: Path) -> set[str]:
    folder = raw_store / FICHIERS
    if not folder.is_dir():
        return set()
    return {p.stem for p in folder.glob("*.parquet") if p.name != SCHEMA_FILE}


def read_registry(raw_store: Path) -> pl.DataFrame:
    """Every ``fichiers`` row, with its store key in column ``version`` (one multi-file read;
    columns a file lacks are null, columns this code does not know are ignored)."""
    files = sorted(p for p in (raw_store / FICHIERS).glob("*.parquet") if p.name != SCHEMA_FILE)
    if not files:
        return pl.DataFrame(schema={**FICHIERS_SCHEMA, "version": pl.String})
    frame = pl.scan_parquet(files, schema=FICHIERS_SCHEMA, include_file_paths="version",
                            missing_columns="insert", extra_columns="ignore").collect()
    return frame.with_columns(pl.col("version").str.extract(r"([^/\\]+)\.parquet$"))


def write_version(raw_store: Path, version: str, tables: dict[str, pl.DataFrame],
                  anomalies: pl.DataFrame, fichier: pl.DataFrame) -> None:
    """Data tables, then anomalies, then the registry row (the completion marker)."""
    ensure_schemas(raw_store)
    for table, frame in tables.items():
        write_parquet(conform(frame, table), table_path(raw_store, table, version))
    write_parquet(conform(anomalies, ANOMALIES), table_path(raw_store, ANOMALIES, version))
    write_parquet(conform(fichier, FICHIERS), table_path(raw_store, FICHIERS, version))


def archive(source: Path, landing: Path, archive_dir: Path, sha256: str, extension: str) -> Path:
    """Copy an accepted file byte for byte to ``archive/<sha[:2]>/<sha><ext>`` (once). The copy
    is hashed as it is written: bytes that changed since the file was hashed and read raise
    :class:`StillWriting` and are never archived under the wrong name."""
    target = archive_dir / sha256[:2] / f"{sha256}{extension}"
    if not target.exists():
        with open_inside(source, landing) as fh, atomic_target(target) as tmp, tmp.open("wb") as out:
            digest = hashlib.sha256()
            while block := fh.read(1 << 20):
                digest.update(block)
                out.write(block)
            if digest.hexdigest() != sha256:
                raise StillWriting(str(source))
    return target
