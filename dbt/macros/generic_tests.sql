{#- Generic tests the project needs (dbt packages are not reachable: no dbt_utils). -#}

{#- The columns form a key of the model: no two rows share the combination. -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as nb_lignes
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#- Every row satisfies the SQL boolean `expression` (rows where it is false or null fail). -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}

{#- Every non-null value is nine digits whose Luhn key is right (a SIREN's check digit). -#}
{% test siren_valide(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and not coalesce(
    regexp_full_match({{ column_name }}, '[0-9]{9}')
    and list_sum(list_transform(range(1, 10), p ->
          case when p % 2 = 0
               then 2 * try_cast(substr({{ column_name }}, p, 1) as integer)
                    - case when try_cast(substr({{ column_name }}, p, 1) as integer) > 4 then 9 else 0 end
               else try_cast(substr({{ column_name }}, p, 1) as integer) end)) % 10 = 0,
    false)
{% endtest %}
