{{ config(materialized='incremental') }}
-- One row per (bailleur, annee, destination, dwelling) with what the dwelling counts for
-- that destination in year N (domain §3):
--   propose      a tour to it oriented in N;
--   attribue     its tour to it ended attribué with an outcome date in N;
--   report_n_1   attribué in N on a tour oriented before N;
--   repris       its tour to it (a réservataire) ended in carence and the next tour, to the
--                bailleur, was oriented in N; `repris_impute` when that counts in the réalisé.
-- The dwelling's dimensions ride along for the breakdowns. Dwellings outside the assiette
-- (stock exceptions, logements-foyers) count nowhere, as in the flux brut; fct_tours keeps
-- their tours (dans_assiette = false) for the quality checks.
with tours as (
    select * from {{ changed_rows(ref('fct_tours')) }}
),

par_destination as (
    select
        bailleur_siren,
        annee,
        destinataire,
        logement_id,
        any_value(destination_type) as destination_type,
        bool_or(oriente_en_n) as propose,
        bool_or(attribue_en_n) as attribue,
        bool_or(attribue_en_n and annee_orientation < annee) as report_n_1
    from tours
    group by all
),

reprises as (
    select
        bailleur_siren,
        annee,
        reprise_reservataire_code as destinataire,
        logement_id,
        bool_or(reprise_imputee) as repris_impute
    from tours
    where est_reprise_apres_carence and oriente_en_n
    group by all
),

logements as (
    select
        bailleur_siren, annee, logement_id,
        any_value(dans_assiette) as dans_assiette,
        any_value(commune_insee) as commune_insee,
        any_value(commune) as commune,
        any_value(departement) as departement,
        any_value(epci_siren) as epci_siren,
        any_value(ept_siren) as ept_siren,
        any_value(typologie) as typologie,
        any_value(financement_famille) as financement_famille,
        any_value(qpv) as qpv,
        any_value(periode_construction) as periode_construction
    from tours
    group by all
    having bool_and(dans_assiette)
)

select
    d.bailleur_siren,
    d.annee,
    d.destinataire,
    d.destination_type,
    d.logement_id,
    d.propose,
    d.attribue,
    d.report_n_1,
    r.logement_id is not null as repris,
    coalesce(r.repris_impute, false) as repris_impute,
    l.dans_assiette,
    l.commune_insee,
    l.commune,
    l.departement,
    l.epci_siren,
    l.ept_siren,
    l.typologie,
    l.financement_famille,
    l.qpv,
    l.periode_construction
from par_destination as d
left join reprises as r using (bailleur_siren, annee, destinataire, logement_id)
inner join logements as l using (bailleur_siren, annee, logement_id)
