-- One row per file version: a content (sha256) at a place (chemin). The same bytes dropped
-- at two places are two files with their own verdict; one place re-read keeps its latest row.
select
    sha256,
    chemin,
    nom_fichier,
    cast(bailleur_siren as varchar) as bailleur_siren,
    cast(annee as integer) as annee,
    feuilles,
    statut,
    statut in (
        {{ sql_list(var('statuts_acceptes')) }}
    ) as est_accepte,
    cast(nb_erreurs as integer) as nb_erreurs,
    cast(nb_avertissements as integer) as nb_avertissements,
    cast(depose_le as timestamp) as depose_le,
    cast(charge_le as timestamp) as charge_le,
    run_id,
    chemin_archive,
    cast(taille_octets as bigint) as taille_octets
from {{ source('raw', 'fichiers') }}
qualify row_number() over (partition by sha256, chemin order by charge_le desc) = 1
