-- Réservataires unified across bailleurs: one row per reservataire_id (SIREN, or State
-- category + département). Name and e-mail are the most frequent among the bailleurs' files.
with conventions as (
    select * from {{ ref('dim_convention') }}
)

select
    reservataire_id,
    mode(reservataire_nom) as reservataire_nom,
    mode(reservataire_categorie) as reservataire_categorie,
    max(reservataire_siren) as reservataire_siren,
    bool_or(est_etat) as est_etat,
    mode(email) as email,
    string_agg(distinct perimetre_departement, ',' order by perimetre_departement) as departements,
    count(distinct bailleur_siren) as nb_bailleurs
from conventions
group by reservataire_id
