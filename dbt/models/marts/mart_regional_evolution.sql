-- Regional year over year, like for like: mart_evolution summed over the same bailleurs, those
-- published (status PUBLIE) both in N-1 and N. A bailleur published only one of the two years
-- counts in neither (its arrival or absence is not a change of the figures), so the regional
-- trames say how many bailleurs the comparison covers. Per réservataire (its regional
-- identifier, as mart_regional_reservataire; the bailleurs' own share has none) and per
-- territory (as mart_regional_territoire); NULL on the side a réservataire or territory is
-- absent from. Sums of doubles through exact_sum: the same figures give the same bits.
with paires as (
    {{ publies_deux_annees() }}
),

identifiants as (
    select bailleur_siren, annee, reservataire_code, reservataire_id
    from {{ ref('mart_bilan_reservataire') }}
    where reservataire_id is not null
),

lignes as (
    select
        e.*,
        -- a réservataire's regional identifier: from its bilan of N, else of N-1
        case when e.niveau = 'RESERVATAIRE' then coalesce(i_n.reservataire_id, i_p.reservataire_id)
            else e.code end as code_regional
    from {{ ref('mart_evolution') }} as e
    left join identifiants as i_n
        on e.niveau = 'RESERVATAIRE' and i_n.bailleur_siren = e.bailleur_siren
        and i_n.annee = e.annee and i_n.reservataire_code = e.code
    left join identifiants as i_p
        on e.niveau = 'RESERVATAIRE' and i_p.bailleur_siren = e.bailleur_siren
        and i_p.annee = e.annee - 1 and i_p.reservataire_code = e.code
    where (e.bailleur_siren, e.annee) in (select (bailleur_siren, annee) from paires)
),

sommes as (
    select
        l.annee,
        l.niveau,
        l.code_regional as code,
        coalesce(min(r.reservataire_nom), min(l.libelle)) as libelle,
        l.indicateur,
        min(l.ordre) as ordre,
        count(distinct l.bailleur_siren) as nb_bailleurs,
        {{ exact_sum('l.valeur_n') }} as valeur_n,
        {{ exact_sum('l.valeur_n_1') }} as valeur_n_1
    from lignes as l
    left join {{ ref('dim_reservataire') }} as r
        on l.niveau = 'RESERVATAIRE' and r.reservataire_id = l.code_regional
    where l.code_regional is not null
    group by l.annee, l.niveau, l.code_regional, l.indicateur
)

select
    s.annee,
    s.niveau,
    s.code,
    s.libelle,
    s.indicateur,
    s.ordre,
    s.nb_bailleurs,
    c.nb_bailleurs_comparables,
    s.valeur_n,
    s.valeur_n_1,
    s.valeur_n - s.valeur_n_1 as evolution,
    -- relative to the magnitude of N-1, as mart_evolution
    (s.valeur_n - s.valeur_n_1) / nullif(abs(s.valeur_n_1), 0) as taux_evolution
from sommes as s
inner join (
    select annee, count(*) as nb_bailleurs_comparables from paires group by annee
) as c using (annee)
order by all
