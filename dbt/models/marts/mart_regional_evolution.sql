-- Regional year over year, like for like: the key figures of N beside those of N-1 summed
-- over the same bailleurs, those published (status PUBLIE) both years. A bailleur published
-- only one of the two years counts in neither (its arrival or absence is not a change of the
-- figures), so the regional trames say how many bailleurs the comparison covers. Per
-- réservataire (regional identifier, as mart_regional_reservataire) and per territory (as
-- mart_regional_territoire), one row per figure; NULL on the side a réservataire or territory
-- is absent from. Sums of doubles through exact_sum: the same figures give the same bits.
{%- set reservataire = ['proposes', 'attribues', 'repris', 'realise', 'droit', 'ecart'] %}
{%- set territoire = ['proposes', 'attribues', 'flux_brut', 'soustraits', 'flux_net'] %}
with paires as (
    select n.bailleur_siren, n.annee
    from {{ ref('int_bailleurs_publies') }} as n
    semi join {{ ref('int_bailleurs_publies') }} as p
        on p.bailleur_siren = n.bailleur_siren and p.annee = n.annee - 1
),

figures as (
    {%- for indicateur in reservataire %}
    select b.bailleur_siren, b.annee, 'RESERVATAIRE' as niveau, b.reservataire_id as code,
        r.reservataire_nom as libelle, '{{ indicateur }}' as indicateur, {{ loop.index }} as ordre,
        cast(b.{{ indicateur }} as double) as valeur
    from {{ ref('mart_bilan_reservataire') }} as b
    left join {{ ref('dim_reservataire') }} as r using (reservataire_id)
    where b.reservataire_id is not null
    union all
    {%- endfor %}
    {%- for indicateur in territoire %}
    select bailleur_siren, annee, territoire_type, territoire_code, territoire_nom, '{{ indicateur }}',
        {{ loop.index }}, cast({{ indicateur }} as double)
    from {{ ref('mart_bilan_territoire') }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

-- each figure tagged with the year N it is compared in: its own year, or the next one
cotes as (
    select f.*, f.annee as annee_n, true as est_n
    from figures as f semi join paires as p using (bailleur_siren, annee)
    union all
    select f.*, f.annee + 1, false
    from figures as f
    semi join paires as p on p.bailleur_siren = f.bailleur_siren and p.annee = f.annee + 1
),

sommes as (
    select
        annee_n as annee,
        niveau,
        code,
        -- the name of N, else of N-1
        coalesce(max(libelle) filter (where est_n), max(libelle)) as libelle,
        indicateur,
        min(ordre) as ordre,
        count(distinct bailleur_siren) as nb_bailleurs,
        {{ exact_sum('case when est_n then valeur end') }} as valeur_n,
        {{ exact_sum('case when not est_n then valeur end') }} as valeur_n_1
    from cotes
    group by annee_n, niveau, code, indicateur
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
