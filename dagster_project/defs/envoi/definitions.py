"""The delivery of the trames in Dagster: drafts only, on demand, after the campaign.

The asset ``envois_brouillons`` writes the e-mail drafts and journals them (statut
``brouillon``); it is tagged ``ON_DEMAND`` so that neither the ``campagne`` job nor a re-drop
runs it. Real sending stays a deliberate command (``campaign envoyer --envoyer``, runbook).
"""

import dagster as dg

from dagster_project.envoi.delivery import deliver
from dagster_project.settings import paths

# Assets run only when asked for (automation's CAMPAIGN_SELECTION leaves them out).
ON_DEMAND = {"flux/a_la_demande": "oui"}
ENVOI_JOB = "envoi_brouillons"


class EnvoiConfig(dg.Config):
    annee: int = 0  # 0 = the latest year with trames


@dg.asset(
    key="envois_brouillons",
    group_name="envoi",
    deps=["trames", "ref_destinataires"],
    tags=ON_DEMAND,
    kinds={"email"},
    description=(
        "Brouillons .eml des messages aux destinataires (une pièce jointe par trame, seulement "
        "les siennes) et journal des envois ; aucun envoi réel depuis Dagster."
    ),
)
def envois_brouillons(context: dg.AssetExecutionContext, config: EnvoiConfig) -> dg.MaterializeResult:
    p = paths()
    years = sorted(int(d.name) for d in p.trames.glob("[0-9]*") if (d / "manifest.json").is_file())
    annee = config.annee or (years[-1] if years else 0)
    if not annee:
        raise dg.Failure("Aucune trame écrite : lancer d'abord la campagne.")
    result = deliver(annee, "brouillon", p=p)
    for cle, motif in result.sans_adresse:
        context.log.warning(f"Sans adresse, non envoyé : {cle} ({motif})")
    return dg.MaterializeResult(
        metadata={
            "annee": annee,
            "nb_messages": result.nb_courriers,
            "nb_brouillons": result.brouillons,
            "nb_deja_envoyes": result.deja_envoyes,
            "nb_annule_et_remplace": result.remplacements,
            "nb_sans_adresse": len(result.sans_adresse),
            "execution": result.execution,
            "dossier": dg.MetadataValue.path(str(result.dossier)),
        }
    )


envoi_job = dg.define_asset_job(
    ENVOI_JOB,
    selection=dg.AssetSelection.assets(envois_brouillons),
    description="Brouillons des messages d'envoi des trames (après la campagne).",
)


def defs() -> dg.Definitions:
    return dg.Definitions(assets=[envois_brouillons], jobs=[envoi_job])
