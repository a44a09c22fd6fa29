# Entry points of the project. Only Python 3.11+ is needed: uv is installed on first use.
# Everything runs through `uv run` in the project's .venv, synced from uv.lock.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv: on the PATH, else installed once in .tools/ (venv, or pip --target when venv is missing)
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(CURDIR)/.tools/bin/uv
endif

DEMO_DIR := data/demo
# The demo replays the 2024 campaign on a simulated clock (FLUX_HORLOGE, UTC): the product sees
# the first wave of files on 20 February 2025 (just written: no settle delay), the late
# bailleur's after the tolerance date, and the campaign runs on 7 April 2025 (deadlines:
# dbt/seeds/ref_echeances.csv).
DEMO_DEPOT_A_L_HEURE := 2025-02-20T10:00:00
DEMO_HORLOGE := 2025-04-07T09:00:00
# The bilan 2025 files of the bailleurs on time are seen on 20 February 2026.
DEMO_DEPOT_A_L_HEURE_2025 := 2026-02-20T10:00:00
PYTEST_ARGS ?= -n 2 --dist loadfile
DEV_PORT ?= 3000
DOCS_PORT ?= 8080

# dev, sql and docs look at FLUX_DATA_DIR (default data/); when nothing has been published
# there yet but the demo has, they show the demo, and say so.
ifndef FLUX_DATA_DIR
ifeq ($(wildcard data/marts/catalog.duckdb),)
ifneq ($(wildcard $(DEMO_DIR)/marts/catalog.duckdb),)
VIEW_DATA_DIR := $(DEMO_DIR)
endif
endif
endif
VIEW_DATA_DIR ?= $(or $(FLUX_DATA_DIR),data)
dev sql docs apercu: export FLUX_DATA_DIR := $(abspath $(VIEW_DATA_DIR))

.PHONY: help run test fuzz dev sql docs bench bench-fr bench-lecture sync apercu

help:
	@echo "make run    campagne de démonstration complète (données dans $(DEMO_DIR))"
	@echo "make test   installe et lance toute la suite de tests"
	@echo "make dev    interface Dagster sur http://localhost:$(DEV_PORT)"
	@echo "make sql    shell SQL (DuckDB) sur le catalogue des marts publiés"
	@echo "make docs   dictionnaire de données (dbt docs) sur http://localhost:$(DOCS_PORT)"
	@echo "make bench  mesure des performances (make bench-lecture : mémoire de lecture d'un fichier seulement)"
	@echo "make bench-fr  campagne nationale (fr, 5 × idf) mesurée à côté d'idf (≈ 30 min)"
	@echo "make fuzz   test à données aléatoires de l'ingestion, budget long"
	@echo "make apercu aperçu PDF de trames et rapports (DOCS=\"fichiers.xlsx…\", défaut : un de chaque sorte)"

$(CURDIR)/.tools/bin/uv:
	@echo "uv introuvable : installation locale dans .tools/"
	@python3 -m venv .tools && .tools/bin/python -m pip install --quiet uv \
	  || { rm -rf .tools; python3 -m pip install --quiet --target .tools uv; }

# --compile-bytecode: every installed package's .pyc is written once, here. Without them (a
# read-only venv, or PYTHONDONTWRITEBYTECODE set, as on the benchmark's machine) each process
# compiles Dagster, dbt and Great Expectations from source again: +1.4 s to start dbt, +3.3 s
# to import GX, +2 s to load the code location (docs/benchmark.md).
sync: | $(UV)
	@$(UV) sync --frozen --quiet --compile-bytecode

# The demo lives in its own data folder: it never mixes with a real landing folder.
# Two bilan years side by side (dagster_project/demo/annees.py), each wave seen by the product on
# its own date: 2024 on time, 2024 late, 2025 on time. The late bailleur's 2025 files
# (`$(DEMO_GEN) --annee 2025 --vague retard`) must be written after the 2024 campaign run, which
# would otherwise date them: `run` writes them just before the 2025 run.
DEMO_GEN = FLUX_DATA_DIR=$(DEMO_DIR) $(UV) run python -m dagster_project.demo --scale demo --out $(DEMO_DIR)/raw
DEMO_VOIT = FLUX_DATA_DIR=$(DEMO_DIR) FLUX_LANDING_SETTLE_SECONDS=0 $(UV) run python -m dagster_project.suivi observer
$(DEMO_DIR)/.demo_generee: | sync
	$(DEMO_GEN) --annee 2024 --vague a-l-heure
	FLUX_HORLOGE=$(DEMO_DEPOT_A_L_HEURE) $(DEMO_VOIT)
	$(DEMO_GEN) --annee 2024 --vague retard
	FLUX_HORLOGE=$(DEMO_HORLOGE) $(DEMO_VOIT)
	$(DEMO_GEN) --annee 2025 --vague a-l-heure --ajout
	FLUX_HORLOGE=$(DEMO_DEPOT_A_L_HEURE_2025) $(DEMO_VOIT)
	@touch $@

# One campaign per demo year, oldest first, each on 7 April of the next year (after that year's
# deadlines); a year's run publishes that year only.
DEMO_HORLOGE_2025 := 2026-04-07T09:00:00
run: $(DEMO_DIR)/.demo_generee
	FLUX_DATA_DIR=$(DEMO_DIR) FLUX_HORLOGE=$(DEMO_HORLOGE) $(UV) run python -m dagster_project.campaign run --annee 2024
	$(DEMO_GEN) --annee 2025 --vague retard
	FLUX_DATA_DIR=$(DEMO_DIR) FLUX_HORLOGE=$(DEMO_HORLOGE_2025) $(UV) run python -m dagster_project.campaign run --annee 2025

test: sync
	$(UV) run pytest $(PYTEST_ARGS)

# The ingestion's property tests with a long budget (make test runs a short one).
fuzz: sync
	HYPOTHESIS_PROFILE=fuzz $(UV) run pytest tests/test_ingest_fuzz.py -p no:xdist --hypothesis-show-statistics

# Same data folder and Dagster instance as the campaign (FLUX_DATA_DIR, default data/).
dev: sync
	@echo "Données : $$FLUX_DATA_DIR"
	DAGSTER_HOME=$$($(UV) run python -m dagster_project.campaign instance) \
	  $(UV) run dagster dev -m dagster_project.definitions -h 127.0.0.1 -p $(DEV_PORT)

sql: sync
	@catalog=$$($(UV) run python -c "from dagster_project.settings import paths; print(paths().catalog)"); \
	  test -f "$$catalog" || { echo "Pas de catalogue $$catalog : lancez d'abord la campagne (make run)."; exit 1; }; \
	  echo "Catalogue $$catalog (lecture seule). Tables : .tables ; quitter : .quit"; \
	  $(UV) run duckdb -readonly "$$catalog"

DBT := $(UV) run dbt --no-use-colors
DBT_DIRS := --project-dir dbt --profiles-dir dbt --target-path target/docs

# PDF as LibreOffice prints them (installed with apt on first use), in <data>/apercu/.
apercu: sync
	$(UV) run python -m dagster_project.documents.apercu $(DOCS) $(if $(PNG),--png)

docs: sync
	$(DBT) docs generate $(DBT_DIRS) --static
	@echo "Dictionnaire de données : dbt/target/docs/static_index.html (fichier autonome)"
	$(DBT) docs serve $(DBT_DIRS) --host 127.0.0.1 --port $(DOCS_PORT) --no-browser

bench: sync
	$(UV) run python -m dagster_project.bench

# The national scale is measured on its own (too long for make bench): idf then fr, same run.
bench-fr: sync
	$(UV) run python -m dagster_project.bench --fr --skip-2x --skip-redrop --skip-lecture

bench-lecture: sync
	$(UV) run python -m dagster_project.bench --only lecture
