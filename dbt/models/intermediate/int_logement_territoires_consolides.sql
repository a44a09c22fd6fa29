{{ config(materialized="view") }}
-- The territories that get a consolidated bilan: départements (State view), EPCI, EPT, and
-- the communes of var('territoires_communaux') (Paris).
select *
from {{ ref('int_logement_territoires') }}
where territoire_type in ('DEPARTEMENT', 'EPCI', 'EPT')
    or (territoire_type = 'COMMUNE' and territoire_code in (
        {{ sql_list(var('territoires_communaux')) }}
    ))
