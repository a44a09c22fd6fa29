{#-
  The cells of a breakdown (ventilation), shared by the bailleur and territory marts: each
  value with its label and order from int_dimension_valeurs (joined as `d`; unknown values
  keep their code and come last), and the proposés / attribués counted over rows `alias`.
-#}
{% macro ventilation_cells(alias) -%}
    {{ alias }}.dimension,
    {{ alias }}.valeur,
    coalesce(d.libelle, {{ alias }}.valeur) as libelle,
    coalesce(d.ordre, 9999) as ordre,
    count(*) filter (where {{ alias }}.propose) as proposes,
    count(*) filter (where {{ alias }}.attribue) as attribues
{%- endmacro %}
