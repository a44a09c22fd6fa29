-- Droits over time [choice, dbt var report_ecart_actif, off by default: the mart is then
-- empty]: the écart of N-1 (réalisé − droit) of a réservataire whose N-1 convention says
-- `report_ecart` carries into its droit of N: a deficit raises it, a surplus lowers it (never
-- below 0). One row per bailleur × réservataire with a droit both years; the bilan marts keep
-- each year's own droit.
with bilans as (
    select bailleur_siren, annee, reservataire_code, reservataire_nom, realise, droit, ecart
    from {{ ref('mart_bilan_reservataire') }}
    where droit is not null
),

avec_report as (
    select bailleur_siren, annee, reservataire_code
    from {{ ref('stg_conventions') }}
    group by all
    having bool_or(coalesce(report_ecart, false))
),

reports as (
    select n.*, p.ecart as ecart_n_1, -p.ecart as report
    from bilans as n
    inner join bilans as p
        on p.bailleur_siren = n.bailleur_siren and p.annee = n.annee - 1
        and p.reservataire_code = n.reservataire_code
    semi join avec_report as c
        on c.bailleur_siren = p.bailleur_siren and c.annee = p.annee
        and c.reservataire_code = p.reservataire_code
    where {{ var('report_ecart_actif') }}
)

select
    bailleur_siren,
    annee,
    reservataire_code,
    reservataire_nom,
    droit,
    ecart_n_1,
    report,
    greatest(droit + report, 0) as droit_avec_report,
    realise,
    realise - greatest(droit + report, 0) as ecart_avec_report
from reports
