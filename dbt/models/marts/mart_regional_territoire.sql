-- Regional consolidation per territory (département, EPCI, EPT) across all bailleurs.
select
    annee,
    territoire_type,
    territoire_code,
    any_value(territoire_nom) as territoire_nom,
    any_value(lec) as lec,
    count(distinct bailleur_siren) as nb_bailleurs,
    cast(sum(proposes) as bigint) as proposes,
    cast(sum(attribues) as bigint) as attribues,
    cast(sum(hors_flux_proposes) as bigint) as hors_flux_proposes,
    cast(sum(hors_flux_attribues) as bigint) as hors_flux_attribues,
    cast(sum(etat_prioritaires_attribues) as bigint) as etat_prioritaires_attribues,
    cast(sum(etat_fonctionnaires_attribues) as bigint) as etat_fonctionnaires_attribues,
    cast(sum(attribues_hors_qpv) as bigint) as attribues_hors_qpv,
    sum(attribues_hors_qpv) / nullif(sum(attribues), 0) as part_hors_qpv,
    cast(sum(flux_brut) as bigint) as flux_brut,
    cast(sum(soustraits) as bigint) as soustraits,
    cast(sum(flux_net) as bigint) as flux_net
from {{ ref('mart_bilan_territoire') }}
group by all
