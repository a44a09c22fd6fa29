"""The marts of docs/contracts.md §3: built by dbt, exported by publication, read by the trames."""

# Marts holding one bailleur's rows (keyed by bailleur_siren, annee).
BAILLEUR_MARTS = (
    "mart_flux",
    "mart_soustraits",
    "mart_flux_perimetre",
    "mart_bilan_reservataire",
    "mart_bilan_ventilation",
    "mart_bilan_territoire",
    "mart_bilan_territoire_detail",
    "mart_territoire_ventilation",
    "mart_previsionnel",
    "mart_previsionnel_droits",
    "mart_recipients",
    "mart_sources",
    # Across years: N beside N-1 (rows only when the bailleur has both).
    "mart_evolution",
    "mart_previsionnel_realise",
    "mart_droits_report",
)
# Consolidations across all bailleurs.
REGIONAL_MARTS = (
    "mart_regional_reservataire",
    "mart_regional_territoire",
    # Across years, like for like: the bailleurs published both in N-1 and N.
    "mart_regional_evolution",
    "mart_regional_previsionnel_realise",
)
# What analysts get as Parquet and in the catalog: every mart plus the tour-level fact.
PUBLISHED_MODELS = ("fct_tours", *BAILLEUR_MARTS, *REGIONAL_MARTS)
