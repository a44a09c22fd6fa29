-- Domain §6.10: Σ over destinations (réservataires + bailleur + hors flux) of the flux-brut
-- dwellings, each counted under the destination of its first tour in N, = flux brut, per
-- bailleur × département. Recomputed from fct_tours, independently of int_flux_logements.
-- Shown in Dagster as an asset check of the mart it guards.
{{ config(meta={'dagster': {'ref': {'name': 'mart_flux'}}}) }}

with premiers_tours as (
    select bailleur_siren, annee, departement, destinataire, count(distinct logement_id) as logements
    from {{ ref('fct_tours') }}
    where est_premier_tour_en_n and dans_assiette
    group by all
),

par_departement as (
    select bailleur_siren, annee, departement, sum(logements) as logements
    from premiers_tours
    group by all
)

select f.bailleur_siren, f.annee, f.departement, f.flux_brut, p.logements
from {{ ref('mart_flux') }} as f
full outer join par_departement as p using (bailleur_siren, annee, departement)
where f.flux_brut is distinct from p.logements
