{{ config(materialized='incremental') }}
-- Consolidated bilan per bailleur × territory × destination (réservataires, BAILLEUR and
-- HORS_FLUX): the detail lines of the EPCI/EPT and State trames.
select
    d.bailleur_siren,
    d.annee,
    d.territoire_type,
    d.territoire_code,
    d.destinataire as reservataire_code,
    d.destination_type,
    r.reservataire_nom,
    d.reservataire_categorie,
    count(*) filter (where d.propose) as proposes,
    count(*) filter (where d.attribue) as attribues
from {{ changed_rows(ref('int_territoire_logements')) }} as d
left join {{ changed_rows(ref('int_bailleur_reservataires')) }} as r
    on r.bailleur_siren = d.bailleur_siren
    and r.annee = d.annee
    and r.reservataire_code = d.destinataire
where d.propose or d.attribue
group by all
