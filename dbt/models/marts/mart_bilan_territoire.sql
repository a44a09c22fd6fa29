-- Consolidated bilan per bailleur × territory (département = State view, EPCI, EPT), all
-- réservataires together: proposés and attribués over every destination but hors flux
-- (réservataires and the bailleur's own share), hors flux beside it, the State's split and
-- the hors-QPV share, and the territory's flux.
with logements as (
    select
        bailleur_siren,
        annee,
        territoire_type,
        territoire_code,
        logement_id,
        bool_or(propose and destination_type <> 'HORS_FLUX') as propose,
        bool_or(attribue and destination_type <> 'HORS_FLUX') as attribue,
        bool_or(propose and destination_type = 'HORS_FLUX') as hors_flux_propose,
        bool_or(attribue and destination_type = 'HORS_FLUX') as hors_flux_attribue,
        bool_or(attribue and reservataire_categorie = 'ETAT_PRIORITAIRES') as etat_prioritaires_attribue,
        bool_or(attribue and reservataire_categorie = 'ETAT_FONCTIONNAIRES') as etat_fonctionnaires_attribue,
        any_value(qpv) as qpv
    from {{ ref('int_territoire_logements') }}
    group by all
),

bilan as (
    select
        bailleur_siren,
        annee,
        territoire_type,
        territoire_code,
        count(*) filter (where propose) as proposes,
        count(*) filter (where attribue) as attribues,
        count(*) filter (where hors_flux_propose) as hors_flux_proposes,
        count(*) filter (where hors_flux_attribue) as hors_flux_attribues,
        count(*) filter (where etat_prioritaires_attribue) as etat_prioritaires_attribues,
        count(*) filter (where etat_fonctionnaires_attribue) as etat_fonctionnaires_attribues,
        count(*) filter (where attribue and qpv = 'HORS_QPV') as attribues_hors_qpv
    from logements
    group by all
),

flux as (
    select
        f.bailleur_siren,
        f.annee,
        lt.territoire_type,
        lt.territoire_code,
        count(*) as flux_brut,
        count(*) filter (where f.est_soustrait) as soustraits,
        count(*) filter (where not f.est_soustrait) as flux_net
    from {{ ref('int_flux_logements') }} as f
    inner join {{ ref('int_logement_territoires_consolides') }} as lt using (bailleur_siren, annee, logement_id)
    group by all
)

select
    bailleur_siren,
    annee,
    territoire_type,
    territoire_code,
    t.territoire_nom,
    t.lec,
    coalesce(b.proposes, 0) as proposes,
    coalesce(b.attribues, 0) as attribues,
    coalesce(b.hors_flux_proposes, 0) as hors_flux_proposes,
    coalesce(b.hors_flux_attribues, 0) as hors_flux_attribues,
    coalesce(b.etat_prioritaires_attribues, 0) as etat_prioritaires_attribues,
    coalesce(b.etat_fonctionnaires_attribues, 0) as etat_fonctionnaires_attribues,
    coalesce(b.attribues_hors_qpv, 0) as attribues_hors_qpv,
    coalesce(b.attribues_hors_qpv, 0) / nullif(b.attribues, 0) as part_hors_qpv,
    coalesce(f.flux_brut, 0) as flux_brut,
    coalesce(f.soustraits, 0) as soustraits,
    coalesce(f.flux_net, 0) as flux_net
from bilan as b
full outer join flux as f using (bailleur_siren, annee, territoire_type, territoire_code)
left join {{ ref('dim_territoire') }} as t using (territoire_type, territoire_code)
