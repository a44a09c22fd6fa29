{{ config(materialized='incremental') }}
-- Flux per bailleur × département: flux brut, soustraits, flux net (domain §3).
select
    bailleur_siren,
    annee,
    departement,
    count(*) as flux_brut,
    count(*) filter (where est_soustrait) as soustraits,
    count(*) filter (where not est_soustrait) as flux_net
from {{ changed_rows(ref('int_flux_logements')) }}
group by all
