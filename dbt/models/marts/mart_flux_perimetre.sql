{{ config(materialized='incremental') }}
-- Flux net on each convention's perimeter and the réservataire's right on it:
-- droit = taux conventionnel × flux net du périmètre (unrounded).
with perimetre_flux as (
    select
        lt.bailleur_siren,
        lt.annee,
        lt.territoire_type as perimetre_type,
        lt.territoire_code as perimetre_code,
        count(*) as flux_brut_perimetre,
        count(*) filter (where not f.est_soustrait) as flux_net_perimetre
    from {{ changed_rows(ref('int_flux_logements')) }} as f
    inner join {{ changed_rows(ref('int_logement_territoires')) }} as lt using (bailleur_siren, annee, logement_id)
    group by all
)

select
    c.bailleur_siren,
    c.annee,
    c.reservataire_code,
    c.perimetre_type,
    c.perimetre_code,
    c.perimetre_departement,
    c.reservataire_id,
    c.taux_flux,
    coalesce(p.flux_brut_perimetre, 0) as flux_brut_perimetre,
    coalesce(p.flux_net_perimetre, 0) as flux_net_perimetre,
    c.taux_flux / 100.0 * coalesce(p.flux_net_perimetre, 0) as droit,
    c.reprise_imputee
from {{ changed_rows(ref('dim_convention')) }} as c
left join perimetre_flux as p using (bailleur_siren, annee, perimetre_type, perimetre_code)
