{#-
  Rows of raw table `table_name` that come from the latest accepted file version of each
  (bailleur_siren, annee): the sheet a later drop supersedes disappears from staging, the
  rejected files never reach it (contracts §2). Built incrementally, only the changed
  partitions' rows are read (macros/partitions.sql). Adds `_depose_le`, the drop time of the file.
-#}
{% macro latest_accepted_rows(table_name) %}
with source_rows as (
    select * from {{ changed_rows(source('raw', table_name)) }}
),

accepted_files as (
    select sha256, chemin, depose_le
    from {{ ref('stg_fichiers') }}
    where est_accepte
),

versions as (
    select distinct r.bailleur_siren, r.annee, r._source_sha256, r._source_file, f.chemin, f.depose_le
    from (select distinct bailleur_siren, annee, _source_sha256, _source_file from source_rows) as r
    inner join accepted_files as f on f.sha256 = r._source_sha256 and f.chemin = r._source_file
),

latest as (
    select *
    from versions
    qualify row_number() over (
        partition by bailleur_siren, annee order by depose_le desc, chemin desc
    ) = 1
)

select source_rows.*, latest.depose_le as _depose_le
from source_rows
inner join latest using (bailleur_siren, annee, _source_sha256, _source_file)
{% endmacro %}
