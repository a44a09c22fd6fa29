-- A convention perimeter lies inside the bailleur's dwellings: its flux net never exceeds
-- the bailleur's flux net over all départements.
-- Shown in Dagster as an asset check of the mart it guards.
{{ config(meta={'dagster': {'ref': {'name': 'mart_flux_perimetre'}}}) }}

with total as (
    select bailleur_siren, annee, sum(flux_net) as flux_net
    from {{ ref('mart_flux') }}
    group by all
)

select p.*
from {{ ref('mart_flux_perimetre') }} as p
left join total as t using (bailleur_siren, annee)
where p.flux_net_perimetre > coalesce(t.flux_net, 0)
