{#- The provenance every staged row carries back to its file, sheet and row (contracts §2). -#}
{% macro provenance_columns() -%}
    _source_file,
    _source_sha256,
    _sheet,
    cast(_row_number as integer) as _row_number,
    _loaded_at,
    _run_id,
    _extra,
    _depose_le
{%- endmacro %}
