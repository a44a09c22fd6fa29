{{ config(materialized='incremental') }}
-- int_destination_logements placed in every territory (département, EPCI, EPT) of the
-- dwelling, with the destination's réservataire category: the base of the consolidated bilans.
select
    d.*,
    lt.territoire_type,
    lt.territoire_code,
    case d.destination_type
        when 'RESERVATAIRE' then coalesce(r.reservataire_categorie, '{{ var("non_renseigne") }}')
        else d.destination_type
    end as reservataire_categorie
from {{ changed_rows(ref('int_destination_logements')) }} as d
inner join {{ changed_rows(ref('int_logement_territoires_consolides')) }} as lt using (bailleur_siren, annee, logement_id)
left join {{ changed_rows(ref('int_bailleur_reservataires')) }} as r
    on r.bailleur_siren = d.bailleur_siren
    and r.annee = d.annee
    and r.reservataire_code = d.destinataire
