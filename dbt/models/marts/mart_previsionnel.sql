{{ config(materialized='incremental') }}
-- Prévisionnel: dwellings the bailleur forecasts to subtract from the flux in N+1, by
-- département and catégorie d'opération, beside the bilan N of the same catégorie
-- (dwellings subtracted and attributions made for those rehousings).
with prevus as (
    select bailleur_siren, annee, departement, categorie_operation,
        cast(sum(nb_logements_prevus) as bigint) as nb_logements_prevus,
        string_agg(commentaire, ' ; ') as commentaire
    from {{ changed_rows(ref('stg_previsionnel')) }}
    group by all
)

select
    bailleur_siren,
    annee,
    departement,
    categorie_operation,
    c.libelle,
    coalesce(p.nb_logements_prevus, 0) as nb_logements_prevus,
    coalesce(s.soustraits, 0) as soustraits_n,
    coalesce(s.attributions_relogement, 0) as attributions_relogement_n,
    p.commentaire
from prevus as p
full outer join {{ changed_rows(ref('mart_soustraits')) }} as s using (bailleur_siren, annee, departement, categorie_operation)
left join {{ ref('ref_categories_operation') }} as c using (categorie_operation)
