"""Configurable defaults of the trames ([choice] in the domain primer, never hidden constants)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Options:
    # Reference share of attributions outside QPV (CCH L441-1: 25 % for first-quartile applicants).
    seuil_hors_qpv: float = 0.25
    # Legal caps of the State's conventions (CCH R441-5-2).
    plafond_etat: float = 0.30
    plafond_fonctionnaires: float = 0.05
