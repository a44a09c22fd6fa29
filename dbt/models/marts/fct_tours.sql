{{ config(materialized='incremental') }}
-- One row per tour de commercialisation, with the dwelling's dimensions, the convention that
-- covers it (the finest perimeter containing the dwelling), its outcome and its year
-- membership for the bilan year N = annee of the file.
{%- set nr = "'" ~ var('non_renseigne') ~ "'" %}
with tours as (
    select
        *,
        case destinataire
            when 'HORS_FLUX' then 'HORS_FLUX'
            when 'BAILLEUR' then 'BAILLEUR'
            else 'RESERVATAIRE'
        end as destination_type
    from {{ changed_rows(ref('stg_tours')) }}
),

conventions as (
    select * from {{ changed_rows(ref('dim_convention')) }}
),

covering_convention as (
    select
        t.bailleur_siren, t.annee, t.logement_id, t.numero_tour,
        c.reservataire_id, c.perimetre_type, c.perimetre_code, c.reprise_imputee
    from tours as t
    inner join {{ changed_rows(ref('int_logement_territoires')) }} as lt using (bailleur_siren, annee, logement_id)
    inner join conventions as c
        on c.bailleur_siren = t.bailleur_siren
        and c.annee = t.annee
        and c.reservataire_code = t.destinataire
        and c.perimetre_type = lt.territoire_type
        and c.perimetre_code = lt.territoire_code
    qualify row_number() over (
        partition by t.bailleur_siren, t.annee, t.logement_id, t.numero_tour
        order by case c.perimetre_type when 'COMMUNE' then 1 when 'EPT' then 2 when 'EPCI' then 3 else 4 end,
            c.perimetre_code
    ) = 1
),

-- A réservataire code used outside every perimeter of its conventions (a quality error,
-- §6.2) still gets its réservataire id so that its figures are not lost.
code_reservataire as (
    select bailleur_siren, annee, reservataire_code, min(reservataire_id) as reservataire_id,
        bool_and(reprise_imputee) as reprise_imputee
    from conventions
    group by all
),

resolved as (
    select
        t.*,
        year(t.date_orientation) as annee_orientation,
        year(t.date_issue) as annee_issue,
        coalesce(cc.reservataire_id, cr.reservataire_id) as reservataire_id,
        cc.perimetre_type as convention_perimetre_type,
        cc.perimetre_code as convention_perimetre_code,
        coalesce(cc.reprise_imputee, cr.reprise_imputee) as reprise_imputee
    from tours as t
    left join covering_convention as cc using (bailleur_siren, annee, logement_id, numero_tour)
    left join code_reservataire as cr
        on t.destination_type = 'RESERVATAIRE'
        and cr.bailleur_siren = t.bailleur_siren
        and cr.annee = t.annee
        and cr.reservataire_code = t.destinataire
),

sequenced as (
    select
        *,
        lag(destination_type) over vacance as precedent_destination_type,
        lag(destinataire) over vacance as precedent_destinataire,
        lag(issue) over vacance as precedent_issue,
        lag(reprise_imputee) over vacance as precedent_reprise_imputee
    from resolved
    window vacance as (partition by bailleur_siren, annee, logement_id order by numero_tour)
),

flagged as (
    select
        *,
        annee_orientation = annee as oriente_en_n,
        issue = 'ATTRIBUE' and annee_issue = annee as attribue_en_n,
        destination_type = 'BAILLEUR'
            and precedent_destination_type = 'RESERVATAIRE'
            and precedent_issue = 'ECHEC_CARENCE' as est_reprise_apres_carence
    from sequenced
)

select
    f.bailleur_siren,
    f.annee,
    f.logement_id,
    f.numero_tour,
    f.date_orientation,
    f.date_issue,
    f.destinataire,
    f.destination_type,
    case when f.destination_type = 'RESERVATAIRE' then f.destinataire end as reservataire_code,
    f.reservataire_id,
    f.convention_perimetre_type,
    f.convention_perimetre_code,
    f.categorie_operation,
    f.issue,
    f.origine,
    f.nb_candidats,
    f.date_bail,
    f.annee_orientation,
    f.annee_issue,
    f.oriente_en_n,
    f.attribue_en_n,
    f.oriente_en_n and row_number() over (
        partition by f.bailleur_siren, f.annee, f.logement_id, f.oriente_en_n order by f.numero_tour
    ) = 1 as est_premier_tour_en_n,
    f.est_reprise_apres_carence,
    case when f.est_reprise_apres_carence then f.precedent_destinataire end as reprise_reservataire_code,
    case when f.est_reprise_apres_carence then f.precedent_reprise_imputee end as reprise_imputee,
    coalesce(l.dans_assiette, true) as dans_assiette,
    l.commune_insee,
    l.commune_insee_depose,
    coalesce(l.commune, {{ nr }}) as commune,
    coalesce(l.departement, {{ nr }}) as departement,
    l.epci_siren,
    l.ept_siren,
    coalesce(l.typologie, {{ nr }}) as typologie,
    coalesce(l.financement_famille, {{ nr }}) as financement_famille,
    coalesce(l.qpv, {{ nr }}) as qpv,
    q.libelle as qpv_libelle,
    coalesce(l.periode_construction, {{ nr }}) as periode_construction,
    f._source_file,
    f._source_sha256,
    f._row_number
from flagged as f
left join {{ changed_rows(ref('int_logements_avec_tours')) }} as l using (bailleur_siren, annee, logement_id)
left join {{ ref('int_dimension_valeurs') }} as q
    on q.dimension = 'qpv' and q.valeur = coalesce(l.qpv, {{ nr }})
