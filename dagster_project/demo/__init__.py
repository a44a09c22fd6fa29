"""Deterministic demo campaign: realistic bilan files of many bailleurs, in the format d'échange.

``python -m dagster_project.demo --scale demo|idf|idf2|fr --out DIR [--seed N] [--annee 2024]``
"""

from dagster_project.demo.campaign import (
    DossierRefuse,
    build_campaign,
    generate_campaign,
)
from dagster_project.demo.model import SCALES, Scale

__all__ = ["SCALES", "DossierRefuse", "Scale", "build_campaign", "generate_campaign"]
