"""Benchmark of the whole pipeline (issue 8): ``python -m dagster_project.bench --scale idf``.

Generates a campaign, runs it through the campaign CLI, reads each stage's duration from the
run's Dagster event log, samples peak memory, times one bailleur's re-drop and, at twice the
size, checks that cost grows linearly. See docs/benchmark.md.
"""
