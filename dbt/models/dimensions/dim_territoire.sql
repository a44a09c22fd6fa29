-- Territories a consolidated bilan is produced for: départements, EPCI, EPT and the
-- communes of var('territoires_communaux') (Paris). `lec` says whether an EPCI/EPT receives
-- the EPCI/EPT trame: seed ref_epci_lec overrides the default rule [choice]: every EPT,
-- Paris, and every EPCI of at least var('lec_epci_nb_communes_min') communes with at least
-- one QPV dwelling in the data, except the natures of var('lec_natures_exclues') (the
-- Métropole du Grand Paris, for which its EPT and Paris act).
with communes as (
    select * from {{ ref('dim_commune') }}
),

communes_qpv as (
    select distinct k.commune_insee
    from {{ ref('stg_logements') }} as l
    inner join {{ ref('dim_code_commune') }} as k on {{ code_commune_valide('k', 'l.commune_insee', 'l.annee') }}
    where l.qpv
),

epci as (
    select
        cast(e.epci_siren as varchar) as territoire_code,
        e.epci_nom as territoire_nom,
        cast(e.nb_communes_idf as integer) as nb_communes,
        e.epci_nature as nature,
        exists (
            select 1 from communes as c inner join communes_qpv as q using (commune_insee)
            where c.epci_siren = cast(e.epci_siren as varchar)
        ) as a_logement_qpv
    from {{ ref('ref_epci') }} as e
),

overrides as (
    select cast(territoire_siren as varchar) as territoire_code, cast(lec as boolean) as lec
    from {{ ref('ref_epci_lec') }}
),

territoires as (
    select
        'DEPARTEMENT' as territoire_type,
        cast(departement as varchar) as territoire_code,
        departement_nom as territoire_nom,
        null::boolean as lec_par_defaut
    from {{ ref('ref_departements') }}
    union all
    select
        'EPCI',
        territoire_code,
        territoire_nom,
        nature not in (
            {{ sql_list(var('lec_natures_exclues')) }}
        ) and nb_communes >= {{ var('lec_epci_nb_communes_min') }} and a_logement_qpv
    from epci
    union all
    select 'EPT', cast(ept_siren as varchar), ept_nom, true
    from {{ ref('ref_ept') }}
    union all
    select 'COMMUNE', commune_insee, commune_nom, true
    from communes
    where commune_insee in (
        {{ sql_list(var('territoires_communaux')) }}
    )
)

select
    t.territoire_type,
    t.territoire_code,
    t.territoire_nom,
    case when t.territoire_type = 'DEPARTEMENT' then null else coalesce(o.lec, t.lec_par_defaut) end as lec
from territoires as t
left join overrides as o
    on o.territoire_code = t.territoire_code and t.territoire_type <> 'DEPARTEMENT'
