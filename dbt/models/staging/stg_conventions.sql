{{ config(materialized='incremental') }}
with rows as ({{ latest_accepted_rows('conventions') }})

select
    cast(bailleur_siren as varchar) as bailleur_siren,
    cast(annee as integer) as annee,
    cast(reservataire_code as varchar) as reservataire_code,
    cast(reservataire_nom as varchar) as reservataire_nom,
    cast(reservataire_categorie as varchar) as reservataire_categorie,
    nullif(trim(cast(reservataire_siren as varchar)), '') as reservataire_siren,
    cast(perimetre_type as varchar) as perimetre_type,
    cast(perimetre_code as varchar) as perimetre_code,
    cast(taux_flux as double) as taux_flux,
    cast(reprise_imputee as boolean) as reprise_imputee,
    cast(report_ecart as boolean) as report_ecart,
    cast(date_effet as date) as date_effet,
    cast(date_fin as date) as date_fin,
    nullif(trim(cast(email as varchar)), '') as email,
    {{ provenance_columns() }}
from rows
