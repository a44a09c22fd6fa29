{#-
  Per-bailleur incremental builds (docs/architecture.md). Environment variable
  FLUX_DBT_PARTITIONS lists the "<siren>_<annee>" keys whose inputs changed, comma-separated (a
  re-drop: its partition); empty or unset, every partition is rebuilt. A model of the bailleur
  grain is `materialized='incremental'` with the strategy below: on a re-drop it computes the
  changed partitions only, from the changed partitions of the models it reads (`changed_rows`),
  deletes them from its table and inserts them again. `dbt build --full-refresh` rebuilds
  every table from scratch.
  Not a dbt var: dbt re-parses the whole project when its vars change (≈ the cost of the
  build it would save), and the variable is read at execution only, so parsing never sees it.
-#}

{#- The changed partitions as (siren, annee) pairs; the keys are checked (they become SQL). -#}
{% macro changed_partitions() %}
    {%- set pairs = [] -%}
    {%- set keys = env_var('FLUX_DBT_PARTITIONS', '').split(',') if execute else [] -%}
    {%- for key in keys | reject('equalto', '') -%}
        {%- if not modules.re.fullmatch('[0-9]{9}_[0-9]{4}', key | string) -%}
            {{ exceptions.raise_compiler_error("FLUX_DBT_PARTITIONS : clé « " ~ key ~ " » invalide (attendu <siren>_<annee>)") }}
        {%- endif -%}
        {%- do pairs.append((key[:9], (key[10:]) | int)) -%}
    {%- endfor -%}
    {{ return(pairs) }}
{% endmacro %}

{#- SQL predicate: the row's bailleur and year are a changed partition (`true`: all are). -#}
{% macro in_changed_partitions(siren='bailleur_siren', annee='annee') -%}
    {%- set pairs = changed_partitions() -%}
    {%- if not pairs -%}
        true
    {%- else -%}
        ({% for s, a in pairs %}({{ siren }} = '{{ s }}' and {{ annee }} = {{ a }}){{ " or " if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- `relation` restricted to the changed partitions when this model is built incrementally;
    the whole relation when it is built from scratch (first build, --full-refresh). -#}
{% macro changed_rows(relation) -%}
    {%- set pairs = changed_partitions() -%}
    {%- if pairs and is_incremental() -%}
        (select * from {{ relation }} where {{ in_changed_partitions() }})
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#- Incremental strategy `bailleur_annee`: delete+insert keyed on the changed partitions
    themselves, not on the keys of the new rows (dbt's delete+insert): a partition with no row
    left (a bailleur whose files were all withdrawn, a sheet now empty) is deleted too. -#}
{% macro get_incremental_bailleur_annee_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }} where {{ in_changed_partitions() }};
    insert into {{ target }} ({{ columns }}) (select {{ columns }} from {{ arg_dict['temp_relation'] }})
{% endmacro %}
