"""Acceptance: the real pipeline (ingestion → dbt build) on the shared 2024 campaign gives
every figure of attendu.csv.

A disagreement is resolved by understanding it (a bug in the models, or a rule the figures
make precise), never by editing attendu.csv. Every mismatch is reported at once, by metric.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dagster_project.defs.transform.dbt_cli import run_dbt
from dagster_project.ingest.pipeline import discover_partitions, ingest_partitions
from dagster_project.settings import Paths
from tests.conftest import ACCEPTANCE

ATTENDU = ACCEPTANCE / "attendu.csv"
SCOPE = (
    "reservataire",
    "departement",
    "categorie_operation",
    "perimetre_type",
    "perimetre_code",
    "territoire",
    "dimension",
    "valeur",
    "issue",
)
# droit / ecart are given with 4 decimals.
TOLERANCE = 0.5e-4 + 1e-9


@pytest.fixture
def acceptance_warehouse(acceptance_landing: Paths) -> Path:
    keys = discover_partitions(acceptance_landing.landing)
    summary = ingest_partitions(acceptance_landing, keys, run_id="acceptance")
    rejected = [f.chemin for f in summary.files if f.statut == "REJETE"]
    assert not rejected, f"fichiers de la campagne rejetés : {rejected}"
    run_dbt(["build"], acceptance_landing)
    return acceptance_landing.warehouse


def expected() -> pl.DataFrame:
    """attendu.csv as text, empty cells as null."""
    return pl.read_csv(ATTENDU, infer_schema=False)


def mismatches(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every row of attendu.csv whose figure is missing from the marts or differs."""
    con.execute(f"create temp view observed as {OBSERVED_SQL}")
    con.register("attendu", expected())
    same_scope = " and ".join(f"o.{c} is not distinct from a.{c}" for c in SCOPE)
    rows = con.execute(
        f"""
        with a as (select row_number() over () + 1 as ligne, * from attendu)
        select a.*, o.value as observed, count(o.value) over (partition by a.ligne) as nb_observed
        from a
        left join observed as o
            on o.bailleur = a.bailleur
            and o.metric = a.metric
            and {same_scope}
            -- the regional rows name the réservataire by SIREN
            and (a.bailleur <> '*' or o.siren = a.siren)
        """
    ).pl()
    bad = rows.filter(
        rows["observed"].is_null()
        | (rows["nb_observed"] > 1)
        | ((rows["observed"] - rows["value"].cast(float)).abs() > TOLERANCE)
    )
    return bad.to_dicts()


def report(bad: list[dict]) -> str:
    by_metric: dict[str, list[str]] = defaultdict(list)
    for row in bad:
        scope = ", ".join(f"{c}={row[c]}" for c in ("bailleur", *SCOPE) if row[c] is not None)
        by_metric[row["metric"]].append(
            f"  ligne {row['ligne']} {scope}: attendu {row['value']}, obtenu {row['observed']}"
            + (f" ({row['nb_observed']} lignes)" if row["nb_observed"] > 1 else "")
        )
    return "\n".join(
        f"{metric} — {len(lines)} écart(s) :\n" + "\n".join(lines)
        for metric, lines in sorted(by_metric.items())
    )


def test_every_expected_figure_is_in_the_marts(acceptance_warehouse: Path) -> None:
    with duckdb.connect(str(acceptance_warehouse), read_only=True) as con:
        bad = mismatches(con)
    nb_expected = expected().height
    assert nb_expected > 900
    assert not bad, f"{len(bad)} chiffres sur {nb_expected} diffèrent :\n{report(bad)}"


# Our marts in the shape of attendu.csv: one row per (scope, metric) with our value. Labels
# mapped where ours differ: période and QPV by their label, dimension periode_construction →
# periode, the regional rows keyed by the réservataire's SIREN.
OBSERVED_SQL = """
with reservataires as (
    select * from mart_bilan_reservataire
),

reservataire_metrics as (
    select bailleur_siren as bailleur, reservataire_code as reservataire, metric, value
    from reservataires
    unpivot (value for metric in (
        proposes, attribues, report_n_1, repris, realise, droit, ecart
    ))
),

tours as (
    select bailleur_siren as bailleur, reservataire_code as reservataire,
        upper(replace(metric, 'tours_', '')) as issue, value
    from reservataires
    unpivot (value for metric in (
        tours_attribue, tours_echec_carence, tours_echec_refus_candidat,
        tours_echec_refus_caleol, tours_echec_autre, tours_en_cours
    ))
)

select bailleur, reservataire, null as siren, null as departement, null as categorie_operation,
    null as perimetre_type, null as perimetre_code, null as territoire, null as dimension,
    null as valeur, null as issue, metric, cast(value as double) as value
from reservataire_metrics
union all
select bailleur, reservataire, null, null, null, null, null, null, null, null, issue, 'tours', value
from tours
union all
select bailleur_siren, null, null, departement, null, null, null, null, null, null, null, metric, value
from mart_flux unpivot (value for metric in (flux_brut, soustraits, flux_net))
union all
select bailleur_siren, null, null, departement, categorie_operation, null, null, null, null, null, null,
    'soustraits', soustraits
from mart_soustraits
union all
select bailleur_siren, null, null, null, categorie_operation, null, null, null, null, null, null,
    'attributions_relogement', sum(attributions_relogement)
from mart_soustraits
group by all
union all
select bailleur_siren, reservataire_code, null, null, null, perimetre_type, perimetre_code, null, null,
    null, null, 'flux_net_perimetre', flux_net_perimetre
from mart_flux_perimetre
union all
select bailleur_siren, reservataire_code, null, null, null, null, null, null,
    case dimension when 'periode_construction' then 'periode' else dimension end,
    case when dimension in ('periode_construction', 'qpv') then libelle else valeur end,
    null, metric, value
from mart_bilan_ventilation unpivot (value for metric in (proposes, attribues))
union all
select bailleur_siren, null, null, null, null, null, null, territoire_code, null, null, null, metric, value
from mart_bilan_territoire unpivot (value for metric in (proposes, attribues))
union all
select bailleur_siren, null, null, departement, categorie_operation, null, null, null, null, null, null,
    'prevus_n_plus_1', nb_logements_prevus
from mart_previsionnel
union all
select '*', null, reservataire_siren, null, null, null, null, null, null, null, null, metric, value
from mart_regional_reservataire unpivot (value for metric in (proposes, attribues))
where reservataire_siren is not null
"""
