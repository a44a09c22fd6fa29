-- Regional consolidation per réservataire (SIREN, or State category + département) across
-- the published bailleurs only (status PUBLIE, source statut): an incomplete or blocked
-- bailleur's figures never reach a regional figure. A dwelling belongs to one bailleur, so
-- per-bailleur distinct counts add up. droit/ecart are summed as exact decimals: the same
-- figures give the same bits whatever order the threads add them in.
select
    b.annee,
    b.reservataire_id,
    r.reservataire_nom,
    r.reservataire_categorie,
    r.reservataire_siren,
    count(distinct b.bailleur_siren) as nb_bailleurs,
    cast(sum(b.proposes) as bigint) as proposes,
    cast(sum(b.attribues) as bigint) as attribues,
    cast(sum(b.report_n_1) as bigint) as report_n_1,
    cast(sum(b.repris) as bigint) as repris,
    cast(sum(b.realise) as bigint) as realise,
    {{ exact_sum('b.droit') }} as droit,
    {{ exact_sum('b.ecart') }} as ecart,
    cast(sum(b.flux_net_perimetre) as bigint) as flux_net_perimetre,
    cast(sum(b.tours) as bigint) as tours
from {{ ref('mart_bilan_reservataire') }} as b
inner join {{ ref('int_bailleurs_publies') }} as p using (bailleur_siren, annee)
left join {{ ref('dim_reservataire') }} as r using (reservataire_id)
where b.reservataire_id is not null
group by all
order by all
