-- One row per dwelling of each bailleur's latest logements sheet, with every breakdown
-- resolved to a code of its reference list, or to NON_RENSEIGNE (domain §6.7).
-- A view: a bailleur's whole RPLS extract (≈1.3 M rows for the region) is cheap to read and
-- costly to copy, and only dwellings with tours (a few %) flow into the tables downstream.
{{ config(materialized='view') }}
{%- set nr = "'" ~ var('non_renseigne') ~ "'" %}
with logements as (
    select * from {{ ref('stg_logements') }}
),

typologies as (
    select cast(valeur as varchar) as valeur, typologie from {{ ref('ref_typologies') }}
),

financements as (
    select cast(valeur as varchar) as valeur, famille from {{ ref('ref_financements') }}
),

periodes as (
    select periode, annee_min, annee_max from {{ ref('ref_periodes_construction') }}
),

qpv as (
    select valeur, cast(qpv as boolean) as qpv from {{ ref('ref_qpv') }}
),

-- A code valid in the bilan year but no longer a commune's (merged since) counts under the
-- reference-year commune that absorbed it; the code as dropped is kept.
codes as (
    select * from {{ ref('dim_code_commune') }}
)

select
    l.bailleur_siren,
    l.annee,
    l.logement_id,
    l.rpls_id,
    coalesce(k.commune_insee, l.commune_insee) as commune_insee,
    l.commune_insee as commune_insee_depose,
    coalesce(c.commune_parent, {{ nr }}) as commune,
    c.commune_nom,
    coalesce(c.departement, {{ nr }}) as departement,
    c.epci_siren,
    c.ept_siren,
    -- The number of rooms wins over the label when both are given (RPLS is the reference).
    case
        when l.nb_pieces between 1 and 4 then 'T' || l.nb_pieces
        when l.nb_pieces between 5 and 9 then 'T5+'
        else coalesce(t.typologie, {{ nr }})
    end as typologie,
    coalesce(f.famille, {{ nr }}) as financement_famille,
    l.financement,
    coalesce(q.valeur, {{ nr }}) as qpv,
    l.qpv_code,
    coalesce(p.periode, {{ nr }}) as periode_construction,
    l.annee_construction,
    l.hors_assiette,
    l.hors_assiette is null as dans_assiette,
    l._source_file,
    l._source_sha256,
    l._row_number
from logements as l
left join codes as k on {{ code_commune_valide('k', 'l.commune_insee', 'l.annee') }}
left join {{ ref('dim_commune') }} as c on c.commune_insee = k.commune_insee
left join typologies as t on t.valeur = upper(l.typologie)
left join financements as f on f.valeur = upper(l.financement)
left join qpv as q on q.qpv = l.qpv
left join periodes as p
    on l.annee_construction between coalesce(p.annee_min, -999999) and coalesce(p.annee_max, 999999)
