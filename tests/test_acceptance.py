"""Acceptance: the real pipeline (ingestion → dbt build) on the shared 2024 campaigns gives
every figure of their attendu.csv, and each réservataire its category and SIREN.

The second campaign (acceptance-2024-b) has dwellings outside the assiette with tours, one of
them a hors-flux attribution: they count nowhere (domain §3).

A disagreement is resolved by understanding it (a bug in the models, or a rule the figures
make precise), never by editing attendu.csv. Every mismatch is reported at once, by metric.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dagster_project import status
from dagster_project.defs.transform.dbt_cli import run_dbt
from dagster_project.defs.transform.definitions import REGIONAL_SELECTION
from dagster_project.ingest.pipeline import discover_partitions, ingest_partitions
from dagster_project.settings import Paths
from tests.conftest import FIXTURES

CAMPAIGNS = ("acceptance-2024", "acceptance-2024-b")
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


def publish_every_bailleur(p: Paths) -> None:
    """The status the campaign would reach (every file accepted, the checks pass on these
    campaigns: test_quality_acceptance.py), then the regional marts it lets dbt build."""
    fichiers = status.read_fichiers(p)
    unblocked = fichiers.select("bailleur_siren", "annee").unique().with_columns(
        bloque=False, resume=None)
    status.write(p.status, status.Status(status.bailleur_status(fichiers, unblocked),
                                         status.sheet_versions(fichiers)))
    run_dbt(["build", "--select", REGIONAL_SELECTION], p)


@pytest.fixture(scope="module", params=CAMPAIGNS)
def acceptance_warehouse(request, tmp_path_factory) -> tuple[Path, Path]:
    """(warehouse, attendu.csv) of one acceptance campaign."""
    data = tmp_path_factory.mktemp(request.param) / "data"
    p = Paths(data=data, landing=data / "raw")
    shutil.copytree(FIXTURES / request.param / "landing", p.landing)
    summary = ingest_partitions(p, discover_partitions(p.landing), run_id="acceptance")
    rejected = [f.chemin for f in summary.files if f.statut == "REJETE"]
    assert not rejected, f"fichiers de la campagne rejetés : {rejected}"
    run_dbt(["build"], p)
    publish_every_bailleur(p)
    return p.warehouse, FIXTURES / request.param / "attendu.csv"


def expected(attendu: Path) -> pl.DataFrame:
    """attendu.csv as text, empty cells as null."""
    return pl.read_csv(attendu, infer_schema=False)


def mismatches(con: duckdb.DuckDBPyConnection, attendu: Path) -> list[dict]:
    """Every row of attendu.csv whose figure is missing from the marts or differs."""
    con.execute(f"create temp view observed as {OBSERVED_SQL}")
    con.register("attendu", expected(attendu))
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


def test_every_expected_figure_is_in_the_marts(acceptance_warehouse) -> None:
    warehouse, attendu = acceptance_warehouse
    with duckdb.connect(str(warehouse), read_only=True) as con:
        bad = mismatches(con, attendu)
    nb_expected = expected(attendu).height
    assert nb_expected > 900
    assert not bad, f"{len(bad)} chiffres sur {nb_expected} diffèrent :\n{report(bad)}"


def test_every_reservataire_has_its_category_and_siren(acceptance_warehouse) -> None:
    warehouse, attendu = acceptance_warehouse
    identities = (
        expected(attendu)
        .filter((pl.col("bailleur") != "*") & pl.col("categorie").is_not_null())
        .select("bailleur", "reservataire", "categorie", "siren")
        .unique()
    )
    assert identities.height > 10
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.register("attendu", identities)
        bad = con.execute(
            """
            select a.*, m.reservataire_categorie, m.reservataire_siren
            from attendu as a
            left join mart_bilan_reservataire as m
                on m.bailleur_siren = a.bailleur and m.reservataire_code = a.reservataire
            where m.reservataire_categorie is distinct from a.categorie
                or m.reservataire_siren is distinct from a.siren
            """
        ).pl()
    assert bad.is_empty(), bad


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
