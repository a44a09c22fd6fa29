"""The `trames` asset: every workbook of the campaign, from the published marts only."""

import dagster as dg

from dagster_project.defs.automation.partitions import run_years
from dagster_project.defs.automation.progress import TRAMES_DONE, TRAMES_TOTAL
from dagster_project.settings import paths
from dagster_project.trames.campaign import CampaignResult, generate_trames
from dagster_project.trames.loader import MARTS
from dagster_project.trames.options import Options

_DEFAULTS = Options()


class TramesConfig(dg.Config):
    seuil_hors_qpv: float = _DEFAULTS.seuil_hors_qpv
    plafond_etat: float = _DEFAULTS.plafond_etat
    plafond_fonctionnaires: float = _DEFAULTS.plafond_fonctionnaires
    workers: int = 0  # processes rendering workbooks; 0 = one per core, if the batch is worth it


@dg.asset(
    key="trames",
    group_name="trames",
    deps=[*MARTS, "quality_scorecard", "statut_bailleurs", "published_marts"],
    kinds={"excel"},
    description=(
        "Trames des bilans (réservataires, EPCI/EPT, État, prévisionnel, consolidations "
        "régionales) et leur manifeste, écrites depuis les marts publiés ; seules les trames "
        "dont le contenu a changé sont réécrites."
    ),
)
def trames(context: dg.AssetExecutionContext, config: TramesConfig) -> dg.MaterializeResult:
    p = paths()
    options = Options(
        seuil_hors_qpv=config.seuil_hors_qpv,
        plafond_etat=config.plafond_etat,
        plafond_fonctionnaires=config.plafond_fonctionnaires,
    )
    def progress(done: int, total: int) -> None:  # shown by the campaign command
        context.log_event(dg.AssetObservation(
            asset_key="trames", metadata={TRAMES_DONE: done, TRAMES_TOTAL: total}))

    # Each year from its own published folder: a run of year N writes only trames/<N>/.
    result = combined([
        generate_trames(
            p.published(annee), p.trames, context.run.run_id, options=options,
            workers=config.workers or None, progress=progress,
        )
        for annee in run_years(context.run.tags)
    ])
    for bailleur, reason in sorted(result.excluded.items()):
        context.log.warning(f"Bailleur {bailleur} non publié, pas de trames : {reason}")
    context.log.info(
        f"{len(result.written)} trames écrites, {result.unchanged} inchangées, "
        f"{result.removed} retirées, en {result.seconds:.1f} s"
    )
    return dg.MaterializeResult(
        metadata={
            "nb_trames": result.files,
            "nb_ecrites": len(result.written),
            "nb_inchangees": result.unchanged,
            "nb_retirees": result.removed,
            "classeurs_par_seconde": round(result.files_per_second, 1),
            "duree_s": round(result.seconds, 2),
            "nb_bailleurs_non_publies": len(result.excluded),
            "bailleurs_non_publies": dg.MetadataValue.json(result.excluded),
            "dossier": dg.MetadataValue.path(str(p.trames)),
        }
    )


def combined(results: list[CampaignResult]) -> CampaignResult:
    """The trames of several years as one result (a run without a year writes them all)."""
    return CampaignResult(
        written=[path for r in results for path in r.written],
        unchanged=sum(r.unchanged for r in results),
        removed=sum(r.removed for r in results),
        excluded={k: v for r in results for k, v in r.excluded.items()},
        files=sum(r.files for r in results),
        seconds=sum(r.seconds for r in results),
    )


def defs() -> dg.Definitions:
    return dg.Definitions(assets=[trames])
