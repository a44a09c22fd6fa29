{{ config(materialized='incremental') }}
with rows as ({{ latest_accepted_rows('logements') }})

select
    cast(bailleur_siren as varchar) as bailleur_siren,
    cast(annee as integer) as annee,
    cast(logement_id as varchar) as logement_id,
    cast(rpls_id as varchar) as rpls_id,
    cast(commune_insee as varchar) as commune_insee,
    cast(qpv as boolean) as qpv,
    cast(qpv_code as varchar) as qpv_code,
    cast(nb_pieces as integer) as nb_pieces,
    cast(typologie as varchar) as typologie,
    cast(financement as varchar) as financement,
    cast(annee_construction as integer) as annee_construction,
    nullif(trim(cast(hors_assiette as varchar)), '') as hors_assiette,
    {{ provenance_columns() }}
from rows
