{{ config(materialized='incremental') }}
-- Proposés and attribués per bailleur × destination × breakdown value (typologie,
-- financement, QPV, commune, période de construction). Non-zero cells only; unknown values
-- are in the NON_RENSEIGNE bucket, so every breakdown sums to the destination's total.
select
    v.bailleur_siren,
    v.annee,
    v.destinataire as reservataire_code,
    v.destination_type,
    {{ ventilation_cells('v') }}
from {{ changed_rows(ref('int_destination_ventilation')) }} as v
left join {{ ref('int_dimension_valeurs') }} as d using (dimension, valeur)
where v.destination_type <> 'HORS_FLUX'
group by all
