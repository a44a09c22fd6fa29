{{ config(materialized='incremental') }}
-- The input files behind the figures, one row per bailleur × annee × sheet (trame cover sheets).
{%- set sheets = ['logements', 'tours', 'conventions', 'previsionnel'] %}
{%- for sheet in sheets %}
select distinct
    bailleur_siren,
    annee,
    '{{ sheet }}' as feuille,
    _source_file,
    _source_sha256,
    _depose_le as depose_le
from {{ changed_rows(ref('stg_' ~ sheet)) }}
{{ "union all" if not loop.last }}
{%- endfor %}
