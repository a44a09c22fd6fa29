-- Year over year: the key figures of bilan N beside those of N-1, per bailleur × réservataire
-- (its code in the bailleur's files; BAILLEUR for its own share) and per territory, for the
-- bailleurs that sent a bilan (a tours sheet) both years: nothing when N-1 is absent. One row
-- per figure; a réservataire or territory absent from one of the two bilans has NULL values
-- that year (no convention, or no dwelling there), and no change.
{%- set reservataire = ['proposes', 'attribues', 'repris', 'realise', 'droit', 'ecart'] %}
{%- set territoire = ['proposes', 'attribues', 'flux_brut', 'soustraits', 'flux_net'] %}
with bilans as (
    select distinct bailleur_siren, annee from {{ ref('mart_sources') }} where feuille = 'tours'
),

paires as (
    select n.bailleur_siren, n.annee
    from bilans as n
    semi join bilans as p on p.bailleur_siren = n.bailleur_siren and p.annee = n.annee - 1
),

figures as (
    {%- for indicateur in reservataire %}
    select bailleur_siren, annee, 'RESERVATAIRE' as niveau, reservataire_code as code,
        coalesce(reservataire_nom, reservataire_code) as libelle, '{{ indicateur }}' as indicateur,
        {{ loop.index }} as ordre, cast({{ indicateur }} as double) as valeur
    from {{ ref('mart_bilan_reservataire') }}
    union all
    {%- endfor %}
    {%- for indicateur in territoire %}
    select bailleur_siren, annee, territoire_type, territoire_code, territoire_nom, '{{ indicateur }}',
        {{ loop.index }}, cast({{ indicateur }} as double)
    from {{ ref('mart_bilan_territoire') }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

n as (
    select f.* from figures as f semi join paires as p using (bailleur_siren, annee)
),

n_1 as (
    select f.* replace (f.annee + 1 as annee)
    from figures as f
    semi join paires as p on p.bailleur_siren = f.bailleur_siren and p.annee = f.annee + 1
)

select
    bailleur_siren,
    annee,
    niveau,
    code,
    coalesce(n.libelle, n_1.libelle) as libelle,
    indicateur,
    coalesce(n.ordre, n_1.ordre) as ordre,
    n.valeur as valeur_n,
    n_1.valeur as valeur_n_1,
    n.valeur - n_1.valeur as evolution,
    -- relative to the magnitude of N-1: an écart going from -10 to -5 is +50 %
    (n.valeur - n_1.valeur) / nullif(abs(n_1.valeur), 0) as taux_evolution
from n
full outer join n_1 using (bailleur_siren, annee, niveau, code, indicateur)
