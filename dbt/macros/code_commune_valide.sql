{#- Join condition: row `codes` of dim_code_commune is the INSEE code `code`, valid in bilan
    year `annee` (the rule of dagster_project.reference.communes_of_year). -#}
{% macro code_commune_valide(codes, code, annee) -%}
    {{ codes }}.code_insee = {{ code }} and {{ annee }} <= coalesce({{ codes }}.derniere_annee_valide, {{ annee }})
{%- endmacro %}
