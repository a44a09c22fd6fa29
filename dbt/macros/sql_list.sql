{#- A list var as the inside of a SQL `in (...)`: ['A', 'B'] → 'A', 'B'. -#}
{% macro sql_list(values) -%}
    {%- for v in values %}'{{ v }}'{{ ", " if not loop.last }}{% endfor -%}
{%- endmacro %}
