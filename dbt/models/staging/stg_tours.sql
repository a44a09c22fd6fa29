{{ config(materialized='incremental') }}
with rows as ({{ latest_accepted_rows('tours') }})

select
    cast(bailleur_siren as varchar) as bailleur_siren,
    cast(annee as integer) as annee,
    cast(logement_id as varchar) as logement_id,
    cast(numero_tour as integer) as numero_tour,
    cast(date_orientation as date) as date_orientation,
    cast(destinataire as varchar) as destinataire,
    nullif(trim(cast(categorie_operation as varchar)), '') as categorie_operation,
    cast(issue as varchar) as issue,
    cast(date_issue as date) as date_issue,
    coalesce(nullif(trim(cast(origine as varchar)), ''), 'RELOCATION') as origine,
    cast(nb_candidats as integer) as nb_candidats,
    cast(date_bail as date) as date_bail,
    {{ provenance_columns() }}
from rows
