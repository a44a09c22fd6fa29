"""The dbt project (staging → dimensions → fct_tours → marts) as Dagster assets and checks."""

from functools import cache

import dagster as dg
from dagster_dbt import DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from dagster_project.defs.transform.dbt_cli import (
    PROFILES_DIR,
    build_args,
    dbt_executable,
    export_dbt_env,
    parse_vars,
)
from dagster_project.defs.transform import incremental
from dagster_project.defs.transform.dbt_resource import FluxDbtCliResource, keep_parse_state
from dagster_project.defs.transform.row_counts import stream_with_row_counts
from dagster_project.defs.transform.selection import NO_UNIT_TESTS, reference_data_tests
from dagster_project.defs.transform.translator import FluxDbtTranslator
from dagster_project.quality.gx_runner import prepare_in_background
from dagster_project.settings import DBT_PROJECT_DIR, DUCKDB_WRITER_POOL, paths


class DbtBuildConfig(dg.Config):
    """Run config of the dbt build: overrides of the counting-rule choices for this run."""

    vars_json: str = "{}"
    """Vars dbt (objet JSON), ex. {"reprise_imputee_par_defaut": false} ; défauts : dbt_project.yml."""


@cache
def dbt_project() -> DbtProject:
    """Lazy so that importing the code needs no manifest; `dagster dev` parses on load,
    tests and CI run `dbt parse` explicitly."""
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=PROFILES_DIR)
    project.prepare_if_dev()
    return project


def translator() -> FluxDbtTranslator:
    return FluxDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


# The regional consolidations add up the published bailleurs only: they read the status
# (source `statut`, asset statut_bailleurs), known after the quality checks of the other marts,
# so they are built by a second dbt invocation, after it (docs/architecture.md).
REGIONAL_SELECTION = "source:statut+"


def _dbt_build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    config: DbtBuildConfig,
    per_partition: bool,
):
    """``per_partition``: the bailleur models, which a re-drop rebuilds for its partition only
    (incremental.py); the regional ones are always rebuilt whole, from the bailleur marts."""
    p = paths()
    # This process only waits for dbt: meanwhile, import Great Expectations for the checks
    # that follow (≈ 8 s).
    prepare_in_background()
    dbt_vars, build = parse_vars(config.vars_json), None
    if per_partition:
        build = incremental.plan(context.run.tags, dbt_vars, p.dbt_artifacts)
        context.log.info(f"dbt : {build.reason}")
        incremental.forget(p.dbt_artifacts)
    export_dbt_env(p, build.partitions if build else ())
    # Tests of the code (unit tests, the seeds' own tests) are left to CI: selection.py.
    args = [*build_args(dbt_vars=dbt_vars), *(build.extra_args() if build else []), *NO_UNIT_TESTS]
    invocation = dbt.cli(args, context=context)
    yield from stream_with_row_counts(invocation)
    keep_parse_state(invocation.target_path, p.dbt_artifacts)  # dbt has exited, successfully
    if build:
        incremental.remember(p.dbt_artifacts, build, context.run.run_id)


def _dbt_assets(name: str, per_partition: bool, **selection: str) -> dg.AssetsDefinition:
    """One `dbt build` asset definition over the models ``selection`` picks (select/exclude)."""
    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator(),
        pool=DUCKDB_WRITER_POOL,
        name=name,
        **selection,
    )
    def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
        yield from _dbt_build(context, dbt, config, per_partition)

    return _build


@cache
def flux_dbt_assets() -> dg.AssetsDefinition:
    exclusions = [REGIONAL_SELECTION, *reference_data_tests(dbt_project().manifest_path)]
    return _dbt_assets("flux_dbt", per_partition=True, exclude=" ".join(exclusions))


@cache
def regional_dbt_assets() -> dg.AssetsDefinition:
    return _dbt_assets("flux_dbt_regional", per_partition=False, select=REGIONAL_SELECTION)


def defs() -> dg.Definitions:
    project = dbt_project()
    return dg.Definitions(
        assets=[flux_dbt_assets(), regional_dbt_assets()],
        resources={
            "dbt": FluxDbtCliResource(
                project_dir=project,
                profiles_dir=str(PROFILES_DIR),
                dbt_executable=dbt_executable(),
            )
        },
    )
