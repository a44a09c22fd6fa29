"""The ``suivi_campagne`` asset: the campaign tracking refreshed by every run (campaign and
landing sensor), its counts as metadata so the Dagster UI plots the campaign's progress."""

import dagster as dg

from dagster_project import status
from dagster_project.defs.automation.partitions import run_annee
from dagster_project.settings import paths
from dagster_project.suivi import campagne
from dagster_project.suivi.echeances import DELAIS
from dagster_project.suivi.tableau import STATUTS


def _markdown(s) -> str:
    lines = ["| SIREN | bailleur | statut | délai | motif |", "| --- | --- | --- | --- | --- |"]
    for r in s.lignes.iter_rows(named=True):
        motif = (r["motif"] or "").replace("|", "/")
        lines.append(f"| {r['bailleur_siren']} | {r['bailleur_nom']} | {r['statut_libelle']} "
                     f"| {r['delai']} | {motif} |")
    return "\n".join(lines)


@dg.asset(
    group_name="suivi",
    deps=["trames", status.STATUS_TABLE, dg.AssetKey(["raw", "fichiers"])],
    kinds={"excel", "parquet"},
    description="Suivi de la campagne : une ligne par bailleur attendu ou vu (statut, dépôts, "
    "délais, trames), historique des états, classeur suivi_campagne_<année>.xlsx.",
)
def suivi_campagne(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    p = paths()
    annee = run_annee(context.run.tags) or status.latest_annee(p)
    if annee is None:
        return dg.MaterializeResult(metadata={"annee": 0, "note": "aucun fichier de bilan"})
    done = campagne.refresh(p, annee)
    s = done.suivi
    delais = s.delais()
    return dg.MaterializeResult(
        metadata={
            "annee": annee,
            "evalue_le": s.evalue_le.isoformat(),
            "bailleurs": s.lignes.height,
            **{f"bailleurs_{lib}": s.count(code) for code, lib in STATUTS.items()},
            # every key at every run, so each one plots as a continuous series
            **{f"delai_{d}": delais.get(d, 0) for d in DELAIS},
            "non_references": s.lignes.filter(~s.lignes["reference"]).height,
            "fichiers_non_attribues": s.non_attribues.height,
            "classeur": dg.MetadataValue.path(str(done.classeur)),
            "suivi": dg.MetadataValue.md(_markdown(s)),
        }
    )


def defs() -> dg.Definitions:
    return dg.Definitions(assets=[suivi_campagne])
