-- Regional consolidation per territory (département, EPCI, EPT) across all bailleurs.
select
    annee,
    territoire_type,
    territoire_code,
    any_value(territoire_nom) as territoire_nom,
    any_value(lec) as lec,
    count(distinct bailleur_siren) as nb_bailleurs,
    sum(proposes) as proposes,
    sum(attribues) as attribues,
    sum(hors_flux_proposes) as hors_flux_proposes,
    sum(hors_flux_attribues) as hors_flux_attribues,
    sum(etat_prioritaires_attribues) as etat_prioritaires_attribues,
    sum(etat_fonctionnaires_attribues) as etat_fonctionnaires_attribues,
    sum(attribues_hors_qpv) as attribues_hors_qpv,
    sum(attribues_hors_qpv) / nullif(sum(attribues), 0) as part_hors_qpv,
    sum(flux_brut) as flux_brut,
    sum(soustraits) as soustraits,
    sum(flux_net) as flux_net
from {{ ref('mart_bilan_territoire') }}
group by all
