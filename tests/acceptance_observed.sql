-- The marts' figures in the shape of attendu.csv (acceptance campaign): one row per
-- (scope columns, metric) with our value. Labels mapped to attendu's: période by its label,
-- QPV by its label, dimension `periode_construction` → `periode`.
with reservataires as (
    select * from mart_bilan_reservataire
),

reservataire_metrics as (
    select bailleur_siren as bailleur, reservataire_code as reservataire, metric, value
    from reservataires
    unpivot (value for metric in (
        proposes, attribues, report_n_1, repris, realise, droit, ecart
    ))
),

tours as (
    select bailleur_siren as bailleur, reservataire_code as reservataire,
        upper(replace(metric, 'tours_', '')) as issue, value
    from reservataires
    unpivot (value for metric in (
        tours_attribue, tours_echec_carence, tours_echec_refus_candidat,
        tours_echec_refus_caleol, tours_echec_autre, tours_en_cours
    ))
)

select bailleur, reservataire, null as siren, null as departement, null as categorie_operation,
    null as perimetre_type, null as perimetre_code, null as territoire, null as dimension,
    null as valeur, null as issue, metric, cast(value as double) as value
from reservataire_metrics
union all
select bailleur, reservataire, null, null, null, null, null, null, null, null, issue, 'tours', value
from tours
union all
select bailleur_siren, null, null, departement, null, null, null, null, null, null, null, metric, value
from mart_flux unpivot (value for metric in (flux_brut, soustraits, flux_net))
union all
select bailleur_siren, null, null, departement, categorie_operation, null, null, null, null, null, null,
    'soustraits', soustraits
from mart_soustraits
union all
select bailleur_siren, null, null, null, categorie_operation, null, null, null, null, null, null,
    'attributions_relogement', sum(attributions_relogement)
from mart_soustraits
group by all
union all
select bailleur_siren, reservataire_code, null, null, null, perimetre_type, perimetre_code, null, null,
    null, null, 'flux_net_perimetre', flux_net_perimetre
from mart_flux_perimetre
union all
select bailleur_siren, reservataire_code, null, null, null, null, null, null,
    case dimension when 'periode_construction' then 'periode' else dimension end,
    case when dimension in ('periode_construction', 'qpv') then libelle else valeur end,
    null, metric, value
from mart_bilan_ventilation unpivot (value for metric in (proposes, attribues))
union all
select bailleur_siren, null, null, null, null, null, null, territoire_code, null, null, null, metric, value
from mart_bilan_territoire unpivot (value for metric in (proposes, attribues))
union all
select bailleur_siren, null, null, departement, categorie_operation, null, null, null, null, null, null,
    'prevus_n_plus_1', nb_logements_prevus
from mart_previsionnel
union all
select '*', null, reservataire_siren, null, null, null, null, null, null, null, null, metric, value
from mart_regional_reservataire unpivot (value for metric in (proposes, attribues))
where reservataire_siren is not null
