{{ config(materialized='incremental') }}
-- Every territory each dwelling with tours belongs to, one row per (dwelling, level): the
-- join key of convention perimeters (DEPARTEMENT / EPCI / EPT / COMMUNE, arrondissement
-- included) and of the territorial consolidations. Unknown communes only get their
-- NON_RENSEIGNE département.
with logements as (
    select l.bailleur_siren, l.annee, l.logement_id, l.commune_insee, l.commune_insee_depose,
        l.commune, l.departement, l.epci_siren, l.ept_siren
    from {{ changed_rows(ref('int_logements_avec_tours')) }} as l
)

select bailleur_siren, annee, logement_id, 'DEPARTEMENT' as territoire_type, departement as territoire_code
from logements
union all
select bailleur_siren, annee, logement_id, 'EPCI', epci_siren
from logements where epci_siren is not null
union all
select bailleur_siren, annee, logement_id, 'EPT', ept_siren
from logements where ept_siren is not null
union all
select bailleur_siren, annee, logement_id, 'COMMUNE', commune
from logements
union all
-- A convention on one Paris arrondissement covers only that arrondissement.
select bailleur_siren, annee, logement_id, 'COMMUNE', commune_insee
from logements where commune_insee <> commune
union all
-- A convention on a commune merged since (its code still valid in N) covers only the
-- dwellings dropped with that code.
select bailleur_siren, annee, logement_id, 'COMMUNE', commune_insee_depose
from logements where commune_insee_depose <> commune_insee
