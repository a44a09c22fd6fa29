{#- The bailleurs published (status PUBLIE) both in N-1 and in N, one row per (bailleur_siren,
    annee = N): the like-for-like perimeter of the regional comparisons across years. -#}
{% macro publies_deux_annees() -%}
    select n.bailleur_siren, n.annee
    from {{ ref('int_bailleurs_publies') }} as n
    semi join {{ ref('int_bailleurs_publies') }} as p
        on p.bailleur_siren = n.bailleur_siren and p.annee = n.annee - 1
{%- endmacro %}
