"""The `statut_bailleurs` asset: the one status of each bailleur (dagster_project/status.py),
computed after the quality scorecard and before the regional marts, trames and summary."""

import dagster as dg
import polars as pl

from dagster_project import status
from dagster_project.defs.automation.partitions import run_annee
from dagster_project.settings import paths


def status_metadata(s: status.Status) -> dict[str, dg.MetadataValue]:
    counts = dict(s.bailleurs.group_by("statut").len().iter_rows()) if s.bailleurs.height else {}
    return {
        "bailleurs": dg.MetadataValue.int(s.bailleurs.height),
        **{
            f"bailleurs_{status.LIBELLES[code]}": dg.MetadataValue.int(counts.get(code, 0))
            for code in status.LIBELLES
        },
        "publies": dg.MetadataValue.text(
            ", ".join(s.bailleurs.filter(pl.col("publie"))["bailleur_siren"].to_list()) or "aucun"
        ),
        "statut_par_bailleur": dg.MetadataValue.md(status.markdown_table(s.bailleurs)),
    }


@dg.asset(
    name=status.STATUS_TABLE,
    group_name="publication",
    deps=[dg.AssetKey(["raw", "fichiers"]), "quality_scorecard"],
    kinds={"parquet"},
    description="Statut de chaque bailleur et année : version comptée et verdict de chaque "
    "feuille, puis incomplet / bloqué / publié. Seuls les bailleurs publiés ont des trames "
    "et entrent dans les consolidations régionales.",
)
def statut_bailleurs(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    p = paths()
    current = status.compute(p)
    status.write(p.status, current)
    shown = current.of_year(run_annee(context.run.tags))
    return dg.MaterializeResult(metadata=status_metadata(shown))
