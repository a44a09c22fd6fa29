-- The bailleurs whose figures are published (status PUBLIE: every required sheet accepted,
-- no blocking quality failure), the only ones the regional consolidations add up.
select distinct cast(bailleur_siren as varchar) as bailleur_siren, cast(annee as integer) as annee
from {{ source('statut', 'statut_bailleurs') }}
where publie
