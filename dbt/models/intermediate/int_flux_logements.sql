{{ config(materialized='incremental') }}
-- The flux brut of year N, one row per dwelling: oriented at least once in N and inside the
-- assiette (stock exceptions and logements-foyers excluded). `est_soustrait` when its first
-- tour in N is hors flux; `categorie_operation` is then that tour's catégorie.
select
    bailleur_siren,
    annee,
    logement_id,
    departement,
    destination_type = 'HORS_FLUX' as est_soustrait,
    case when destination_type = 'HORS_FLUX' then categorie_operation end as categorie_operation
from {{ changed_rows(ref('fct_tours')) }}
where est_premier_tour_en_n and dans_assiette
