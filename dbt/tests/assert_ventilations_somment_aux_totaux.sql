-- Domain §6.8: for every destination and every breakdown, the categories (NON_RENSEIGNE
-- included) sum to the destination's proposés and attribués.
-- Shown in Dagster as an asset check of the mart it guards.
{{ config(meta={'dagster': {'ref': {'name': 'mart_bilan_ventilation'}}}) }}

with totaux as (
    select bailleur_siren, annee, reservataire_code, proposes, attribues
    from {{ ref('mart_bilan_reservataire') }}
),

dimensions as (
    select dimension from {{ ref('ref_ventilations') }}
),

ventilations as (
    select bailleur_siren, annee, reservataire_code, dimension,
        sum(proposes) as proposes, sum(attribues) as attribues
    from {{ ref('mart_bilan_ventilation') }}
    group by all
)

select t.*, d.dimension, v.proposes as proposes_ventiles, v.attribues as attribues_ventiles
from totaux as t
cross join dimensions as d
left join ventilations as v using (bailleur_siren, annee, reservataire_code, dimension)
where t.proposes <> coalesce(v.proposes, 0) or t.attribues <> coalesce(v.attribues, 0)
