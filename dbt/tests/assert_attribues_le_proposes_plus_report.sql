-- Domain §6.9: attribués ≤ proposés + report N-1, for every destination and every
-- breakdown cell (a dwelling attributed in N was proposed in N or in N-1).
-- Shown in Dagster as an asset check of the mart it guards.
{{ config(meta={'dagster': {'ref': {'name': 'int_destination_ventilation'}}}) }}

with cellules as (
    select
        d.bailleur_siren, d.annee, d.destinataire, v.dimension, v.valeur,
        count(*) filter (where d.propose) as proposes,
        count(*) filter (where d.attribue) as attribues,
        count(*) filter (where d.report_n_1) as report_n_1
    from {{ ref('int_destination_logements') }} as d
    inner join {{ ref('int_destination_ventilation') }} as v
        using (bailleur_siren, annee, destinataire, logement_id)
    group by all
)

select bailleur_siren, annee, reservataire_code, null as dimension, null as valeur,
    proposes, attribues, report_n_1
from {{ ref('mart_bilan_reservataire') }}
where attribues > proposes + report_n_1
union all
select *
from cellules
where attribues > proposes + report_n_1
