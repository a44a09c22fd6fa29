{{ config(materialized='incremental') }}
-- dim_logement restricted to the dwellings that have at least one tour in the bailleur's
-- files: the only ones a bilan can count (a few % of the RPLS extract). Materialized once so
-- that the 1.3 M-row view behind it is evaluated once per build.
select l.*
from {{ changed_rows(ref('dim_logement')) }} as l
semi join (select distinct bailleur_siren, annee, logement_id from {{ changed_rows(ref('stg_tours')) }}) as t
    using (bailleur_siren, annee, logement_id)
