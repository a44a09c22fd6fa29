{{ config(materialized='incremental') }}
-- Indicative flux and rights for N+1, per convention [choice, var flux_indicatif_n_plus_1]:
--   flux_brut_n_moins_prevus (default): flux net N+1 indicatif (département) = flux brut N −
--     dwellings forecast to be subtracted in N+1, never below 0: the flux is assumed to
--     repeat, the forecast subtractions replace this year's;
--   flux_net_n: flux net N+1 indicatif = flux net N (this year's subtractions repeat).
-- A perimeter smaller than the département gets the département's ratio
-- (flux net indicatif / flux brut N) applied to its own flux brut N.
-- droit indicatif N+1 = taux conventionnel × flux net indicatif of the perimeter.
{%- set regle = var('flux_indicatif_n_plus_1') %}
{%- if regle not in ['flux_brut_n_moins_prevus', 'flux_net_n'] %}
    {{ exceptions.raise_compiler_error("Règle de flux indicatif N+1 inconnue : " ~ regle) }}
{%- endif %}
with departements as (
    select
        bailleur_siren,
        annee,
        departement,
        coalesce(f.flux_brut, 0) as flux_brut_n,
        coalesce(p.nb_logements_prevus, 0) as prevus_n_plus_1,
        {%- if regle == 'flux_net_n' %}
        coalesce(f.flux_net, 0) as flux_net_indicatif
        {%- else %}
        greatest(coalesce(f.flux_brut, 0) - coalesce(p.nb_logements_prevus, 0), 0) as flux_net_indicatif
        {%- endif %}
    from {{ changed_rows(ref('mart_flux')) }} as f
    full outer join (
        select bailleur_siren, annee, departement, cast(sum(nb_logements_prevus) as bigint) as nb_logements_prevus
        from {{ changed_rows(ref('stg_previsionnel')) }}
        group by all
    ) as p using (bailleur_siren, annee, departement)
)

select
    c.bailleur_siren,
    c.annee,
    c.perimetre_departement as departement,
    c.reservataire_code,
    c.perimetre_type,
    c.perimetre_code,
    c.reservataire_id,
    c.taux_flux,
    d.flux_brut_n,
    d.prevus_n_plus_1,
    coalesce(case
        when c.perimetre_type = 'DEPARTEMENT' then d.flux_net_indicatif
        else c.flux_brut_perimetre * d.flux_net_indicatif / nullif(d.flux_brut_n, 0)
    end, 0) as flux_net_indicatif_n_plus_1,
    c.taux_flux / 100.0 * flux_net_indicatif_n_plus_1 as droit_indicatif_n_plus_1
from {{ changed_rows(ref('mart_flux_perimetre')) }} as c
left join departements as d
    on d.bailleur_siren = c.bailleur_siren
    and d.annee = c.annee
    and d.departement = c.perimetre_departement
