-- Regional consolidation per réservataire (SIREN, or State category + département) across
-- all bailleurs: the figures no single bailleur can produce. A dwelling belongs to one
-- bailleur, so per-bailleur distinct counts add up.
select
    b.annee,
    b.reservataire_id,
    r.reservataire_nom,
    r.reservataire_categorie,
    r.reservataire_siren,
    count(distinct b.bailleur_siren) as nb_bailleurs,
    sum(b.proposes) as proposes,
    sum(b.attribues) as attribues,
    sum(b.report_n_1) as report_n_1,
    sum(b.repris) as repris,
    sum(b.realise) as realise,
    sum(b.droit) as droit,
    sum(b.ecart) as ecart,
    sum(b.flux_net_perimetre) as flux_net_perimetre,
    sum(b.tours) as tours
from {{ ref('mart_bilan_reservataire') }} as b
left join {{ ref('dim_reservataire') }} as r using (reservataire_id)
where b.reservataire_id is not null
group by all
