{{ config(materialized='incremental') }}
-- One row per (bailleur, annee, réservataire code of its conventions): the réservataire's
-- identity and where its trame goes. A code with several perimeters is one réservataire.
select
    bailleur_siren,
    annee,
    reservataire_code,
    min(reservataire_id) as reservataire_id,
    mode(reservataire_nom) as reservataire_nom,
    mode(reservataire_categorie) as reservataire_categorie,
    max(reservataire_siren) as reservataire_siren,
    bool_or(est_etat) as est_etat,
    string_agg(distinct email, ', ' order by email) as email,
    string_agg(distinct perimetre_departement, ',' order by perimetre_departement) as departements
from {{ changed_rows(ref('dim_convention')) }}
group by all
