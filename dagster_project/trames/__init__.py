"""The trames: every report workbook of a campaign, written from the published marts only.

Dagster-free; the `trames` asset (``dagster_project/defs/reports``) calls
``campaign.generate_trames``. Developer notes: ``docs/trames.md``.
"""
