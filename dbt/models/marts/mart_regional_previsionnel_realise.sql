-- Regional forecast against reality: mart_previsionnel_realise summed over the bailleurs
-- published both in N-1 (the campaign that carried the prévisionnel of N) and in N, by
-- département and catégorie d'opération. Like for like, as mart_regional_evolution.
with paires as (
    {{ publies_deux_annees() }}
)

select
    r.annee,
    r.departement,
    r.categorie_operation,
    min(r.libelle) as libelle,
    count(distinct r.bailleur_siren) as nb_bailleurs,
    cast(sum(r.prevus) as bigint) as prevus,
    cast(sum(r.soustraits) as bigint) as soustraits,
    cast(sum(r.attributions_relogement) as bigint) as attributions_relogement,
    cast(sum(r.ecart) as bigint) as ecart,
    sum(r.soustraits) / nullif(sum(r.prevus), 0) as taux_realisation
from {{ ref('mart_previsionnel_realise') }} as r
semi join paires as p using (bailleur_siren, annee)
group by r.annee, r.departement, r.categorie_operation
order by all
