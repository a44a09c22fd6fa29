{{ config(materialized='incremental') }}
-- Bilan per bailleur × réservataire (all its perimeters together), plus one row BAILLEUR for
-- the bailleur's own share (non réservé and repris): domain §3.
{%- set issues = ['attribue', 'echec_carence', 'echec_refus_candidat', 'echec_refus_caleol', 'echec_autre', 'en_cours'] %}
with conventions as (
    select * from {{ changed_rows(ref('int_bailleur_reservataires')) }}
),

droits as (
    select
        bailleur_siren,
        annee,
        reservataire_code,
        cast(sum(flux_net_perimetre) as bigint) as flux_net_perimetre,
        {{ exact_sum('droit') }} as droit
    from {{ changed_rows(ref('mart_flux_perimetre')) }}
    group by all
),

logements as (
    select
        bailleur_siren,
        annee,
        destinataire as reservataire_code,
        count(*) filter (where propose) as proposes,
        count(*) filter (where attribue) as attribues,
        count(*) filter (where report_n_1) as report_n_1,
        count(*) filter (where repris) as repris,
        count(*) filter (where attribue or repris_impute) as realise
    from {{ changed_rows(ref('int_destination_logements')) }}
    where destination_type <> 'HORS_FLUX'
    group by all
),

tours as (
    select
        bailleur_siren,
        annee,
        destinataire as reservataire_code,
        count(*) as tours,
        {%- for issue in issues %}
        count(*) filter (where issue = '{{ issue | upper }}') as tours_{{ issue }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ changed_rows(ref('fct_tours')) }}
    -- dwellings outside the assiette count nowhere (as in int_destination_logements)
    where oriente_en_n and destination_type <> 'HORS_FLUX' and dans_assiette
    group by all
),

destinations as (
    select bailleur_siren, annee, reservataire_code from conventions
    union
    select bailleur_siren, annee, reservataire_code from logements
    union
    select bailleur_siren, annee, reservataire_code from tours
)

select
    d.bailleur_siren,
    d.annee,
    d.reservataire_code,
    case when d.reservataire_code = 'BAILLEUR' then 'BAILLEUR' else 'RESERVATAIRE' end as destination_type,
    c.reservataire_id,
    c.reservataire_nom,
    c.reservataire_categorie,
    c.reservataire_siren,
    c.email,
    c.departements,
    coalesce(l.proposes, 0) as proposes,
    coalesce(l.attribues, 0) as attribues,
    coalesce(l.report_n_1, 0) as report_n_1,
    coalesce(l.repris, 0) as repris,
    coalesce(l.realise, 0) as realise,
    dr.droit,
    coalesce(l.realise, 0) - dr.droit as ecart,
    coalesce(l.realise, 0) / nullif(dr.flux_net_perimetre, 0) as part_du_flux,
    dr.flux_net_perimetre,
    coalesce(t.tours, 0) as tours,
    {%- for issue in issues %}
    coalesce(t.tours_{{ issue }}, 0) as tours_{{ issue }}{{ "," if not loop.last }}
    {%- endfor %}
from destinations as d
left join conventions as c using (bailleur_siren, annee, reservataire_code)
left join droits as dr using (bailleur_siren, annee, reservataire_code)
left join logements as l using (bailleur_siren, annee, reservataire_code)
left join tours as t using (bailleur_siren, annee, reservataire_code)
