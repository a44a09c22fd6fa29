{{ config(materialized='incremental') }}
-- int_destination_logements unpivoted on the five breakdowns of R441-5-1: one row per
-- (destination, dwelling, dimension) with the dwelling's value of that dimension.
select
    bailleur_siren,
    annee,
    destinataire,
    destination_type,
    logement_id,
    propose,
    attribue,
    departement,
    epci_siren,
    ept_siren,
    dimension,
    valeur
from {{ changed_rows(ref('int_destination_logements')) }}
unpivot (
    valeur for dimension in (
        typologie as 'typologie',
        financement_famille as 'financement',
        qpv as 'qpv',
        commune as 'commune',
        periode_construction as 'periode_construction'
    )
)
where propose or attribue
