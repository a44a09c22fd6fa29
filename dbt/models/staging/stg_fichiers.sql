-- One row per distinct file content (sha256) ever seen; the same bytes dropped twice keep
-- their first drop time and latest status.
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
qualify row_number() over (partition by sha256 order by charge_le desc, chemin) = 1
