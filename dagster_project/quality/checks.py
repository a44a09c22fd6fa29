"""What each Dagster asset check validates: which mart, which frames, which suites.

A check reads its marts from the warehouse (a DuckDB connection), builds the frames to
validate (the mart itself, or a reconciliation frame of ``frames``), closes the connection,
then runs the suites. ``run_check`` is the whole check without Dagster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from dagster_project.quality import frames
from dagster_project.quality.gx_runner import validate
from dagster_project.quality.outcomes import OUTCOME_SCHEMA, failure_row, outcome_rows
from dagster_project.quality.parameters import expectation_parameters
from dagster_project.quality.suites import SuiteError, load_suite
from dagster_project.reference import load_seed

Marts = dict[str, pl.DataFrame]


@dataclass(frozen=True)
class Validation:
    suite: str
    build: Callable[[Marts], pl.DataFrame]


@dataclass(frozen=True)
class CheckSpec:
    name: str  # also the name of its outcome file, paths().quality/<name>.parquet
    mart: str  # the asset the check is attached to
    reads: tuple[str, ...]  # every mart read (the first is ``mart``)
    validations: tuple[Validation, ...]
    description: str


def _mart(name: str) -> Callable[[Marts], pl.DataFrame]:
    return lambda marts: marts[name]


def _rate_caps(marts: Marts) -> pl.DataFrame:
    categories = expectation_parameters()
    return frames.rate_caps(
        marts["mart_flux_perimetre"],
        marts["mart_bilan_reservataire"],
        load_seed("ref_communes"),
        etat=categories["categories_etat"],
        etat_agents=["ETAT_FONCTIONNAIRES"],
        historiques=load_seed("ref_communes_historiques"),
    )


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "qualite_fct_tours",
        "fct_tours",
        ("fct_tours",),
        (
            Validation("fct_tours", _mart("fct_tours")),
            Validation("chronologie_tours", lambda m: frames.tour_chronology(m["fct_tours"])),
        ),
        "Tours : logement et convention connus, hors flux ⇔ catégorie, rangs et dates "
        "dans l'ordre (§6.1, 6.2, 6.4–6.7).",
    ),
    CheckSpec(
        "qualite_mart_flux",
        "mart_flux",
        ("mart_flux", "fct_tours"),
        (
            Validation("mart_flux", _mart("mart_flux")),
            Validation(
                "reconciliation_destinations",
                lambda m: frames.destinations_reconciliation(m["mart_flux"], m["fct_tours"]),
            ),
        ),
        "Flux par département : Σ destinations = flux brut, soustraits et flux net "
        "cohérents (§6.10).",
    ),
    CheckSpec(
        "qualite_mart_flux_perimetre",
        "mart_flux_perimetre",
        ("mart_flux_perimetre", "mart_bilan_reservataire"),
        (
            Validation("mart_flux_perimetre", _mart("mart_flux_perimetre")),
            Validation("plafonds_taux", _rate_caps),
        ),
        "Conventions : périmètres connus, taux ≤ 100 %, plafonds de l'État (30 %, 5 %) "
        "(§6.2, 6.3).",
    ),
    CheckSpec(
        "qualite_mart_bilan_reservataire",
        "mart_bilan_reservataire",
        ("mart_bilan_reservataire",),
        (Validation("mart_bilan_reservataire", _mart("mart_bilan_reservataire")),),
        "Bilan par réservataire : réservataire connu, compteurs complets (§6.2, 6.7, 6.8).",
    ),
    CheckSpec(
        "qualite_mart_bilan_ventilation",
        "mart_bilan_ventilation",
        ("mart_bilan_ventilation", "mart_bilan_reservataire"),
        (
            Validation("mart_bilan_ventilation", _mart("mart_bilan_ventilation")),
            Validation(
                "reconciliation_ventilations",
                lambda m: frames.ventilation_reconciliation(
                    m["mart_bilan_reservataire"],
                    m["mart_bilan_ventilation"],
                    expectation_parameters()["dimensions"],
                ),
            ),
            Validation(
                "coherence_attributions",
                lambda m: frames.attribution_margins(
                    m["mart_bilan_reservataire"], m["mart_bilan_ventilation"]
                ),
            ),
        ),
        "Ventilations : cinq ventilations présentes, valeurs dans leurs listes, sommes = "
        "totaux, attribués ≤ proposés + report (§6.7–6.9).",
    ),
    CheckSpec(
        "qualite_mart_bilan_territoire",
        "mart_bilan_territoire",
        ("mart_bilan_territoire",),
        (Validation("mart_bilan_territoire", _mart("mart_bilan_territoire")),),
        "Consolidation territoriale : territoires connus, compteurs cohérents (§6.7, 6.8).",
    ),
    CheckSpec(
        "qualite_mart_territoire_ventilation",
        "mart_territoire_ventilation",
        ("mart_territoire_ventilation", "mart_bilan_territoire"),
        (
            Validation(
                "reconciliation_ventilations",
                lambda m: frames.territory_reconciliation(
                    m["mart_bilan_territoire"],
                    m["mart_territoire_ventilation"],
                    expectation_parameters()["dimensions"],
                ),
            ),
        ),
        "Consolidation territoriale : cinq ventilations présentes, sommes = totaux du "
        "territoire (§6.7, 6.8).",
    ),
    CheckSpec(
        "donnees_personnelles",
        "mart_recipients",
        ("mart_recipients",),
        (Validation("donnees_personnelles", lambda m: m["_colonnes"]),),
        "Aucune colonne de donnée personnelle dans les tables lues par les trames (§6.11).",
    ),
)
CHECKS_BY_NAME = {spec.name: spec for spec in CHECKS}
VALIDATED_MARTS = tuple(dict.fromkeys(m for spec in CHECKS for m in spec.reads))


def read_marts(
    con: duckdb.DuckDBPyConnection, names: tuple[str, ...], partitions: tuple[str, ...] = ()
) -> Marts:
    """The marts ``names`` of schema ``main``, plus ``_colonnes``: the column inventory of every
    ``mart_*`` / ``fct_*`` table (what the trames may read). ``partitions``: only the rows of
    these "<siren>_<annee>" keys (a re-drop's checks), else every row."""
    scope = (
        " where list_contains($partitions, bailleur_siren || '_' || cast(annee as varchar))"
        if partitions
        else ""
    )
    params = {"partitions": list(partitions)} if partitions else None
    marts = {name: con.sql(f'select * from main."{name}"{scope}', params=params).pl() for name in names}
    inventory = con.sql(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'main' and (table_name like 'mart\\_%' escape '\\' "
        "or table_name like 'fct\\_%' escape '\\') order by table_name, ordinal_position"
    ).fetchall()
    tables: dict[str, list[str]] = {}
    for table, column in inventory:
        tables.setdefault(table, []).append(column)
    marts["_colonnes"] = frames.column_inventory(tables)
    return marts


def read_warehouse(path: Path, names: tuple[str, ...], partitions: tuple[str, ...] = ()) -> Marts:
    """``read_marts`` on a read-only connection closed before returning (DuckDB: one writer)."""
    with duckdb.connect(str(path), read_only=True) as con:
        return read_marts(con, names, partitions)


def build_frames(spec: CheckSpec, marts: Marts) -> list[tuple[str, pl.DataFrame]]:
    return [(v.suite, v.build(marts)) for v in spec.validations]


def validate_frames(
    spec: CheckSpec, built: list[tuple[str, pl.DataFrame]], run_id: str
) -> pl.DataFrame:
    """Outcome rows (contracts §4) of every suite of the check."""
    parameters = expectation_parameters()
    parts = []
    for suite_name, frame in built:
        suite = load_suite(suite_name)
        parts.append(
            outcome_rows(spec.name, suite, frame, validate(suite, frame, parameters), run_id)
        )
    return pl.concat(parts) if parts else pl.DataFrame(schema=OUTCOME_SCHEMA)


def run_check(spec: CheckSpec, read: Callable[[], Marts], run_id: str) -> pl.DataFrame:
    """Read (``read`` returns the marts), build the frames, validate them.

    A check whose marts, columns or suite file are missing or broken yields one global ERREUR
    row instead of raising: the reason then shows in the UI and in the scorecard."""
    try:
        return validate_frames(spec, build_frames(spec, read()), run_id)
    except (duckdb.Error, pl.exceptions.PolarsError, KeyError, SuiteError) as error:
        return failure_row(spec.name, str(error).splitlines()[0], run_id)
