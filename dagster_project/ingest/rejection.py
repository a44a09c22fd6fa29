"""A file that cannot be read at all, for a reason the bailleur can act on."""

from __future__ import annotations


class Rejection(Exception):
    """``code`` is a rule of ``contrat/regles.csv``; ``detail`` is French, for the rapport."""

    def __init__(self, code: str, detail: str = "", valeur: str = ""):
        super().__init__(f"{code}: {detail}")
        self.code, self.detail, self.valeur = code, detail, valeur
