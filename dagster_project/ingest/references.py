"""Referential links across sheets: tours → logements, tours.destinataire → conventions.

With per-sheet CSVs the referenced sheet may come from another file: the bailleur's *drop
set* for the year, i.e. the newest non-rejected version of each sheet (the one staging will
keep). Broken references are errors on the referencing file; a newer referenced file that
leaves earlier tours dangling gets a warning (the referencing file's verdict is final).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from dagster_project.ingest.reader import ROW
from dagster_project.ingest.validate import ANOMALY_SCHEMA

SPECIAL_DESTINATIONS = ("BAILLEUR", "HORS_FLUX")


@dataclass(frozen=True)
class Link:
    referencing: str  # sheet
    column: str
    referenced: str  # sheet
    key: str
    rule: str
    allowed_extra: tuple[str, ...] = ()


LINKS = (
    Link("tours", "logement_id", "logements", "logement_id", "TOUR_LOGEMENT_INCONNU"),
    Link("tours", "destinataire", "conventions", "reservataire_code", "TOUR_DESTINATAIRE_INCONNU",
         SPECIAL_DESTINATIONS),
)


@dataclass(frozen=True)
class SheetSource:
    """Where the values of a sheet come from: a file name and a column loader."""

    file_name: str
    sha256: str
    load: Callable[[str], pl.Series]
    stored: bool = False  # an earlier, already ingested version (not one of this batch)


def broken_references(link: Link, referencing: pl.DataFrame, written: str,
                      source: SheetSource | None, own_file: bool,
                      rejected_in: str | None = None) -> pl.DataFrame:
    """Anomaly rows of ``referencing`` whose value is not in ``source``; without a source, one
    warning saying whether the referenced sheet was never dropped or only in rejected files
    (``rejected_in``: the newest such file)."""
    if source is None:
        rule, detail = (("REFERENCE_FEUILLE_REJETEE", f"fichier {rejected_in}") if rejected_in
                        else ("REFERENCE_NON_VERIFIEE", None))
        return pl.DataFrame(
            [{"feuille": link.referencing, "ligne": None, "colonne": written, "valeur": link.referenced,
              "regle": rule, "detail": detail}],
            schema=ANOMALY_SCHEMA,
        ) if referencing.height else pl.DataFrame(schema=ANOMALY_SCHEMA)
    known = pl.concat([source.load(link.key).cast(pl.String), pl.Series(link.allowed_extra, dtype=pl.String)])
    where = "" if own_file else f" (fichier {source.file_name})"
    value = pl.col(link.column)
    return referencing.filter(value.is_not_null() & ~value.is_in(known.implode())).select(
        feuille=pl.lit(link.referencing),
        ligne=pl.col(ROW).cast(pl.Int32),
        colonne=pl.lit(written),
        valeur=value.cast(pl.String),
        regle=pl.lit(link.rule),
        detail=pl.lit(where),
    )


def orphans(link: Link, referenced: pl.DataFrame, referencing_source: SheetSource) -> pl.DataFrame:
    """One warning on a newly dropped referenced sheet that leaves the current tours dangling."""
    values = referencing_source.load(link.column).drop_nulls().unique()
    known = pl.concat([referenced[link.key].cast(pl.String), pl.Series(link.allowed_extra, dtype=pl.String)])
    missing = values.filter(~values.is_in(known.implode())).sort()
    if missing.len() == 0:
        return pl.DataFrame(schema=ANOMALY_SCHEMA)
    examples = ", ".join(missing.head(5).to_list())
    detail = (f"{missing.len()} valeur(s) de {link.referencing}.{link.column} du fichier "
              f"{referencing_source.file_name} n'existent pas dans ce fichier (par exemple {examples}).")
    return pl.DataFrame(
        [{"feuille": link.referenced, "ligne": None, "colonne": link.key, "valeur": examples,
          "regle": "REFERENCE_ORPHELINE", "detail": detail}],
        schema=ANOMALY_SCHEMA,
    )
