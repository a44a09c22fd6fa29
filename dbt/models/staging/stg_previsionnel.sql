{{ config(materialized='incremental') }}
with rows as ({{ latest_accepted_rows('previsionnel') }})

select
    cast(bailleur_siren as varchar) as bailleur_siren,
    cast(annee as integer) as annee,
    cast(departement as varchar) as departement,
    cast(categorie_operation as varchar) as categorie_operation,
    cast(nb_logements_prevus as integer) as nb_logements_prevus,
    cast(commentaire as varchar) as commentaire,
    {{ provenance_columns() }}
from rows
