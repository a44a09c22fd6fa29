{#- Post-hook of every table model and seed: logs its row count as `flux_row_count <rows>` on
    the node. Dagster reads these lines from dbt's event stream and attaches the count to the
    model's materialization (dagster/row_count) while dbt is still running: nobody else may
    open flux.duckdb until dbt has released it. Views are not counted (counting one recomputes
    it). -#}
{% macro log_row_count() %}
    {%- if execute and config.get('materialized') in ('table', 'incremental', 'seed') -%}
        {%- set rows = run_query('select count(*) from ' ~ this).columns[0].values()[0] -%}
        {%- do log('flux_row_count ' ~ rows, info=True) -%}
    {%- endif -%}
{% endmacro %}
