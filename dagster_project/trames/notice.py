"""The "Notice" sheet: each indicator of the trames explained in plain French."""

from __future__ import annotations

INDICATEURS: dict[str, str] = {
    "flux_brut": "Flux brut : nombre de logements distincts libérés et orientés au moins une fois "
    "dans l'année (relocations et mises en service), hors logements exclus de l'assiette "
    "(défense, sécurité intérieure, santé, logements-foyers).",
    "soustraits": "Logements soustraits du flux : logements du flux brut dont la première "
    "orientation de l'année est « hors flux », c'est-à-dire utilisés pour une opération "
    "prévue à l'article R441-5 du CCH (mutations internes, relogements liés au renouvellement "
    "urbain, aux copropriétés dégradées, à l'habitat indigne ou à la vente HLM).",
    "flux_net": "Flux net : flux brut moins les logements soustraits. C'est l'assiette sur "
    "laquelle s'appliquent les taux des conventions de réservation.",
    "taux": "Taux conventionnel : part du flux net réservée par la convention sur son périmètre "
    "(département, EPCI, EPT ou commune).",
    "droit": "Droit : taux conventionnel × flux net du périmètre de la convention, additionné "
    "sur toutes les conventions du réservataire. Il est affiché arrondi à l'unité.",
    "proposes": "Logements proposés : logements distincts mis à disposition du réservataire "
    "(au moins un tour de commercialisation) dans l'année, que la désignation ait abouti ou non.",
    "attribues": "Logements attribués : logements distincts attribués par la CALEOL dans l'année "
    "au titre du réservataire.",
    "report_n_1": "Dont report N-1 : logements attribués dans l'année alors qu'ils avaient été "
    "proposés l'année précédente.",
    "repris": "Logements repris : logements repris par le bailleur après une carence du "
    "réservataire (aucun candidat désigné dans le délai) ; ils restent imputés sur le droit du "
    "réservataire lorsque la convention le prévoit.",
    "realise": "Réalisé : logements attribués plus logements repris imputés sur le droit.",
    "ecart": "Écart : réalisé moins droit arrondi. Un écart négatif signifie que le réservataire "
    "a bénéficié de moins de logements que son droit.",
    "part_du_flux": "Part du flux : rapport entre un nombre de logements et le flux net du "
    "périmètre des conventions du réservataire.",
    "tours": "Tours de commercialisation : chaque orientation d'un logement vers un destinataire "
    "compte pour un tour ; un même logement peut connaître plusieurs tours (après un échec). "
    "Les tours sont comptés selon leur issue : attribué, échecs par motif, en cours.",
    "ventilations": "Ventilations : les logements proposés et attribués sont répartis par "
    "typologie, type de financement, localisation en ou hors quartier prioritaire de la "
    "politique de la ville (QPV), commune et période de construction (article R441-5-1 du CCH). "
    "Toutes les catégories sont affichées, y compris celles à zéro ; « non renseigné » regroupe "
    "les logements dont la caractéristique n'a pas été transmise.",
    "relogements": "Attributions au titre des relogements : logements orientés hors flux et "
    "attribués dans l'année, par catégorie d'opération.",
    "territoire": "Bilan consolidé : logements proposés et attribués pour tous les destinataires "
    "(réservataires et contingent propre du bailleur, y compris les logements repris), pour les "
    "seuls logements situés dans les communes du territoire ; les logements soustraits du flux "
    "(hors flux) sont présentés à part.",
    "detail_reservataire": "Détail par réservataire : la même consolidation, ligne par "
    "destinataire. « Bailleur » désigne le contingent non réservé et les logements repris. Un "
    "logement proposé successivement à plusieurs destinataires compte une fois pour chacun : le "
    "total des lignes peut donc dépasser le nombre de logements distincts du bilan consolidé ; "
    "le tableau de rapprochement montre l'écart, et les logements hors flux, comptés à part.",
    "part_etat": "Part de l'État : attributions au titre du contingent préfectoral pour les "
    "publics prioritaires et au titre des agents publics (fonctionnaires). Les conventions de "
    "l'État portent au plus sur 30 % du flux, dont au plus 5 % pour les agents publics "
    "(article R441-5-2 du CCH).",
    "hors_qpv": "Part des attributions hors QPV : attributions de logements situés hors des "
    "quartiers prioritaires rapportées à l'ensemble des attributions du territoire. L'article "
    "L441-1 du CCH fixe un objectif d'au moins 25 % des attributions hors QPV en faveur des "
    "demandeurs du premier quartile de revenus : le seuil est rappelé pour repère, le quartile "
    "des ménages n'étant pas transmis dans les fichiers des bailleurs.",
    "previsionnel": "Prévisionnel : nombre de logements que le bailleur prévoit de soustraire du "
    "flux l'année suivante, par catégorie d'opération, tel que déclaré par le bailleur, "
    "à côté des logements effectivement soustraits et des attributions de relogement de "
    "l'année écoulée.",
    "droit_indicatif": "Droit indicatif N+1 : taux conventionnel × flux net indicatif de "
    "l'année suivante (flux de l'année écoulée diminué des soustractions prévues). Il est "
    "donné à titre indicatif et arrondi à l'unité.",
    "evolution": "Évolution : chiffres du bilan de l'année à côté de ceux du bilan de l'année "
    "précédente, tels que chacun les a publiés, et leur différence. L'évolution en % est "
    "rapportée à la valeur absolue de l'année précédente. Au niveau régional, la comparaison "
    "porte sur les seuls bailleurs publiés les deux années (périmètre constant).",
    "prevu_realise": "Prévu et réalisé : logements que le bailleur prévoyait, avec le bilan "
    "de l'année précédente, de soustraire du flux cette année (prévisionnel), à côté des "
    "logements effectivement soustraits, par catégorie d'opération ; le taux de réalisation "
    "est le rapport des soustraits aux prévus.",
    "regional": "Bilan régional : consolidation sur l'ensemble des bailleurs de la campagne "
    "dont les données ont été publiées.",
    "sources": "Traçabilité : la page de garde liste les fichiers déposés par le bailleur dont "
    "proviennent les chiffres, avec leur empreinte SHA-256, qui permet de vérifier qu'un "
    "fichier est bien celui qui a été traité.",
}


def notice(*keys: str) -> tuple[tuple[str, str], ...]:
    """(indicator, explanation) lines for the given indicators, in the given order."""
    lines = (INDICATEURS[key].split(" : ", 1) for key in keys)
    return tuple((label, text[:1].upper() + text[1:]) for label, text in lines)
