-- Every trame to produce: one row per bailleur × annee × kind × recipient.
--   RESERVATAIRE  each réservataire of the bailleur's conventions (its own bilan);
--   PREVISIONNEL  each réservataire too (forecast subtractions N+1 and bilan of relogements);
--   EPCI_EPT      each LEC territory (EPCI, EPT, Paris) where the bailleur has figures;
--   ETAT          the State service of each département where the bailleur has figures.
-- `territoire_type` / `territoire_code` locate the consolidated figures in mart_bilan_territoire.
with reservataires as (
    select * from {{ ref('int_bailleur_reservataires') }}
),

territoires as (
    select * from {{ ref('mart_bilan_territoire') }}
),

emails_etat as (
    select bailleur_siren, annee, perimetre_departement as departement,
        string_agg(distinct email, ', ' order by email) as email
    from {{ ref('dim_convention') }}
    where est_etat
    group by all
),

recipients as (
    select bailleur_siren, annee, kind, reservataire_code as recipient_code,
        reservataire_nom as recipient_nom, departements as departement, email,
        null as territoire_type, null as territoire_code
    from reservataires
    cross join (values ('RESERVATAIRE'), ('PREVISIONNEL')) as kinds (kind)
    union all
    select bailleur_siren, annee, 'EPCI_EPT', territoire_code, territoire_nom,
        null, null, territoire_type, territoire_code
    from territoires
    where territoire_type <> 'DEPARTEMENT' and lec
    union all
    select t.bailleur_siren, t.annee, 'ETAT', t.territoire_code, d.service_etat_nom,
        t.territoire_code, e.email, t.territoire_type, t.territoire_code
    from territoires as t
    left join {{ ref('ref_departements') }} as d on d.departement = t.territoire_code
    left join emails_etat as e
        on e.bailleur_siren = t.bailleur_siren
        and e.annee = t.annee
        and e.departement = t.territoire_code
    where t.territoire_type = 'DEPARTEMENT'
)

select * from recipients
