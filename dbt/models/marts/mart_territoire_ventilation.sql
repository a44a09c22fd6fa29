{{ config(materialized='incremental') }}
-- Consolidated breakdowns per bailleur × territory: proposés and attribués over every
-- destination but hors flux, by typologie, financement, QPV, commune and période de
-- construction. Non-zero cells only.
with logements as (
    select
        v.bailleur_siren,
        v.annee,
        lt.territoire_type,
        lt.territoire_code,
        v.dimension,
        v.valeur,
        v.logement_id,
        bool_or(v.propose) as propose,
        bool_or(v.attribue) as attribue
    from {{ changed_rows(ref('int_destination_ventilation')) }} as v
    inner join {{ changed_rows(ref('int_logement_territoires_consolides')) }} as lt using (bailleur_siren, annee, logement_id)
    where v.destination_type <> 'HORS_FLUX'
    group by all
)

select
    l.bailleur_siren,
    l.annee,
    l.territoire_type,
    l.territoire_code,
    {{ ventilation_cells('l') }}
from logements as l
left join {{ ref('int_dimension_valeurs') }} as d using (dimension, valeur)
group by all
