{{ config(materialized='incremental') }}
-- One row per convention de réservation (bailleur × réservataire × perimeter) of the latest
-- conventions sheet, with the reprise rule resolved and the réservataire's regional id.
with conventions as (
    select * from {{ changed_rows(ref('stg_conventions')) }}
),

categories as (
    select categorie, cast(est_etat as boolean) as est_etat from {{ ref('ref_categories_reservataire') }}
),

perimetres as (
    select
        conventions.*,
        case perimetre_type
            when 'DEPARTEMENT' then perimetre_code
            when 'COMMUNE' then (
                select c.departement from {{ ref('dim_code_commune') }} as k
                inner join {{ ref('dim_commune') }} as c on c.commune_insee = k.commune_insee
                where {{ code_commune_valide('k', 'perimetre_code', 'annee') }}
            )
            when 'EPCI' then (select min(c.departement) from {{ ref('dim_commune') }} as c where c.epci_siren = perimetre_code)
            when 'EPT' then (select min(c.departement) from {{ ref('dim_commune') }} as c where c.ept_siren = perimetre_code)
        end as perimetre_departement
    from conventions
)

select
    p.bailleur_siren,
    p.annee,
    p.reservataire_code,
    p.reservataire_nom,
    p.reservataire_categorie,
    p.reservataire_siren,
    coalesce(cat.est_etat, false) as est_etat,
    -- The State has no SIREN in conventions: it is identified by category and département.
    case
        when p.reservataire_siren is not null then p.reservataire_siren
        when cat.est_etat then p.reservataire_categorie || '_' || coalesce(p.perimetre_departement, p.perimetre_code)
        else p.bailleur_siren || '_' || p.reservataire_code
    end as reservataire_id,
    p.perimetre_type,
    p.perimetre_code,
    p.perimetre_departement,
    p.taux_flux,
    coalesce(p.reprise_imputee, {{ var('reprise_imputee_par_defaut') }}) as reprise_imputee,
    p.date_effet,
    p.date_fin,
    p.email,
    p._source_file,
    p._source_sha256,
    p._row_number
from perimetres as p
left join categories as cat on cat.categorie = p.reservataire_categorie
