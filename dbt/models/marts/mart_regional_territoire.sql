-- Regional consolidation per territory (département, EPCI, EPT) across the published
-- bailleurs only (status PUBLIE, source statut), as mart_regional_reservataire.
select
    t.annee,
    t.territoire_type,
    t.territoire_code,
    min(t.territoire_nom) as territoire_nom,
    bool_or(t.lec) as lec,
    count(distinct t.bailleur_siren) as nb_bailleurs,
    cast(sum(t.proposes) as bigint) as proposes,
    cast(sum(t.attribues) as bigint) as attribues,
    cast(sum(t.hors_flux_proposes) as bigint) as hors_flux_proposes,
    cast(sum(t.hors_flux_attribues) as bigint) as hors_flux_attribues,
    cast(sum(t.etat_prioritaires_attribues) as bigint) as etat_prioritaires_attribues,
    cast(sum(t.etat_fonctionnaires_attribues) as bigint) as etat_fonctionnaires_attribues,
    cast(sum(t.attribues_hors_qpv) as bigint) as attribues_hors_qpv,
    sum(t.attribues_hors_qpv) / nullif(sum(t.attribues), 0) as part_hors_qpv,
    cast(sum(t.flux_brut) as bigint) as flux_brut,
    cast(sum(t.soustraits) as bigint) as soustraits,
    cast(sum(t.flux_net) as bigint) as flux_net
from {{ ref('mart_bilan_territoire') }} as t
inner join {{ ref('int_bailleurs_publies') }} as p using (bailleur_siren, annee)
group by t.annee, t.territoire_type, t.territoire_code
order by all
