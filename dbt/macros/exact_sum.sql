{#- Sum of a DOUBLE column that gives the same bits whatever the order of its rows: each term
    is rounded to 10 decimals (far below any displayed figure) and added as an exact decimal.
    A plain sum of doubles depends on the order the threads add them in. -#}
{% macro exact_sum(column) -%}
cast(sum(cast({{ column }} as decimal(38, 10))) as double)
{%- endmacro %}
