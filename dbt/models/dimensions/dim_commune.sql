-- Territory hierarchy of every commune of the reference year's COG (Paris arrondissements
-- included as rows, rolled up to 75056 through commune_parent).
select
    cast(c.commune_insee as varchar) as commune_insee,
    c.commune_nom,
    cast(c.commune_parent as varchar) as commune_parent,
    cast(c.departement as varchar) as departement,
    d.departement_nom,
    d.service_etat,
    cast(c.epci_siren as varchar) as epci_siren,
    e.epci_nom,
    e.epci_nature,
    nullif(cast(c.ept_siren as varchar), '') as ept_siren,
    t.ept_nom,
    cast(c.population as bigint) as population
from {{ ref('ref_communes') }} as c
left join {{ ref('ref_departements') }} as d on cast(d.departement as varchar) = cast(c.departement as varchar)
left join {{ ref('ref_epci') }} as e on cast(e.epci_siren as varchar) = cast(c.epci_siren as varchar)
left join {{ ref('ref_ept') }} as t on cast(t.ept_siren as varchar) = cast(c.ept_siren as varchar)
