-- Every INSEE code a bilan file may carry → the reference-year commune (or Paris
-- arrondissement) it lies in: the reference year's own codes, plus the codes of earlier years
-- (seed ref_communes_historiques: communes merged since, communes déléguées / associées). A
-- code is valid in bilan year N when N <= derniere_annee_valide (NULL: every year); the
-- ingestion applies the same rule (dagster_project.reference.communes_of_year).
select
    cast(c.commune_insee as varchar) as code_insee,
    cast(c.commune_insee as varchar) as commune_insee,
    'COMMUNE' as type,
    cast(null as integer) as derniere_annee_valide
from {{ ref('ref_communes') }} as c
union all
select
    cast(h.code_insee as varchar),
    cast(h.commune_insee as varchar),
    h.type,
    cast(h.derniere_annee_valide as integer)
from {{ ref('ref_communes_historiques') }} as h
