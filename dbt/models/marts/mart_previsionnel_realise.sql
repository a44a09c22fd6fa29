-- Forecast against reality: the dwellings a bailleur forecast in campaign N-1 to subtract
-- from the flux in N (the prévisionnel of bilan N-1) beside those actually subtracted in N
-- (and the attributions made in N for those rehousings), by département and catégorie
-- d'opération. Only for bailleurs that sent a prévisionnel in N-1 and a bilan (tours) in N:
-- nothing when either is absent. A département × catégorie on one side only gets 0 on the other.
with previsions as (
    select bailleur_siren, annee + 1 as annee, departement, categorie_operation, nb_logements_prevus
    from {{ ref('mart_previsionnel') }}
    where nb_logements_prevus > 0
),

paires as (
    select distinct p.bailleur_siren, p.annee + 1 as annee
    from {{ ref('mart_sources') }} as p
    semi join {{ ref('mart_sources') }} as n
        on n.bailleur_siren = p.bailleur_siren and n.annee = p.annee + 1 and n.feuille = 'tours'
    where p.feuille = 'previsionnel'
),

realises as (
    select bailleur_siren, annee, departement, categorie_operation, soustraits, attributions_relogement
    from {{ ref('mart_soustraits') }}
),

comparaison as (
    select
        bailleur_siren,
        annee,
        departement,
        categorie_operation,
        coalesce(p.nb_logements_prevus, 0) as prevus,
        coalesce(r.soustraits, 0) as soustraits,
        coalesce(r.attributions_relogement, 0) as attributions_relogement
    from previsions as p
    full outer join realises as r using (bailleur_siren, annee, departement, categorie_operation)
    semi join paires using (bailleur_siren, annee)
)

select
    c.bailleur_siren,
    c.annee,
    c.departement,
    c.categorie_operation,
    o.libelle,
    c.prevus,
    c.soustraits,
    c.attributions_relogement,
    c.soustraits - c.prevus as ecart,
    c.soustraits / nullif(c.prevus, 0) as taux_realisation
from comparaison as c
left join {{ ref('ref_categories_operation') }} as o using (categorie_operation)
