-- Every value of the five breakdowns of the bilan (R441-5-1) with its French label and
-- display order, plus the explicit NON_RENSEIGNE bucket of each (domain §6.7).
{%- set nr = "'" ~ var('non_renseigne') ~ "'" %}
with valeurs as (
    select distinct 'typologie' as dimension, typologie as valeur, typologie_libelle as libelle, cast(ordre as integer) as ordre
    from {{ ref('ref_typologies') }}
    union all
    select distinct 'financement', famille, famille_libelle, cast(famille_ordre as integer)
    from {{ ref('ref_financements') }}
    union all
    select 'qpv', valeur, libelle, cast(ordre as integer)
    from {{ ref('ref_qpv') }}
    union all
    select 'periode_construction', periode, libelle, cast(ordre as integer)
    from {{ ref('ref_periodes_construction') }}
    union all
    select 'commune', commune_insee, commune_nom, cast(row_number() over (order by commune_insee) as integer)
    from {{ ref('dim_commune') }}
    where commune_insee = commune_parent
)

select dimension, valeur, libelle, ordre from valeurs
union all
select dimension, {{ nr }}, libelle_non_renseigne, 9999
from {{ ref('ref_ventilations') }}
