{{ config(materialized='incremental') }}
-- Bilan N of the dwellings subtracted from the flux, by département and catégorie
-- d'opération: dwellings subtracted (first tour in N hors flux) and attributions made in N
-- for those rehousings (hors-flux tours attributed in N). Non-zero rows only. Dwellings outside
-- the assiette count nowhere, here as in the flux.
with soustraits as (
    select bailleur_siren, annee, departement, categorie_operation, count(*) as soustraits
    from {{ changed_rows(ref('int_flux_logements')) }}
    where est_soustrait
    group by all
),

attributions as (
    select bailleur_siren, annee, departement, categorie_operation,
        count(distinct logement_id) as attributions_relogement
    from {{ changed_rows(ref('fct_tours')) }}
    where destination_type = 'HORS_FLUX' and attribue_en_n and dans_assiette
    group by all
)

select
    bailleur_siren,
    annee,
    departement,
    coalesce(categorie_operation, '{{ var("non_renseigne") }}') as categorie_operation,
    coalesce(s.soustraits, 0) as soustraits,
    coalesce(a.attributions_relogement, 0) as attributions_relogement,
    c.libelle
from soustraits as s
full outer join attributions as a using (bailleur_siren, annee, departement, categorie_operation)
left join {{ ref('ref_categories_operation') }} as c using (categorie_operation)
