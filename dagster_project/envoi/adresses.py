"""Where each recipient's trames go: the conventions' e-mails, or the ``ref_destinataires`` seed.

[choice] First the address the trame's cover shows (``mart_recipients.email``: a réservataire's
conventions, the bailleur's State conventions for a State service), so a message never goes
elsewhere than its attachment says; then, for EPCI/EPT (conventions do not name them) and State
services, the seed. Réservataires have no seed row: their address belongs in the conventions.
A recipient with no valid address is kept, with the reason, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from dagster_project.reference import load_seed

SEED = "ref_destinataires"
SEED_KINDS = ("EPCI_EPT", "ETAT")
# Deliberately plain: a local part and a dotted domain, no display name, no spaces.
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_SEPARATORS = re.compile(r"[;,\s]+")


class SeedError(ValueError):
    """The seed is malformed: the message (French) names the line and what to fix."""


@dataclass(frozen=True)
class Adresses:
    valid: tuple[str, ...]
    invalid: tuple[str, ...] = ()
    source: str = ""  # "conventions", "ref_destinataires" or "" (none)
    motif: str = ""  # why nothing can be sent (French), when there is no valid address


def split_addresses(text: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Valid and invalid addresses of a cell (``a@x.fr, b@y.fr`` or ``a@x.fr; b@y.fr``)."""
    valid: list[str] = []
    invalid: list[str] = []
    for item in _SEPARATORS.split(text or ""):
        if not item:
            continue
        target = valid if _ADDRESS.match(item) else invalid
        if item.lower() not in {a.lower() for a in target}:
            target.append(item.lower() if target is valid else item)
    return tuple(valid), tuple(invalid)


def reference_addresses(seed: pl.DataFrame | None = None) -> dict[tuple[str, str], str]:
    """``(type_destinataire, code) → email`` from the seed, checked line by line."""
    seed = load_seed(SEED) if seed is None else seed
    problems = []
    found: dict[tuple[str, str], str] = {}
    for line, row in enumerate(seed.iter_rows(named=True), start=2):  # header = line 1
        kind, code = (row.get("type_destinataire") or "").strip(), (row.get("code") or "").strip()
        if kind not in SEED_KINDS:
            problems.append(f"ligne {line} : type_destinataire « {kind} » (attendu : EPCI_EPT ou ETAT)")
            continue
        if not code:
            problems.append(f"ligne {line} : code vide")
            continue
        if (kind, code) in found:
            problems.append(f"ligne {line} : {kind} {code} déjà présent plus haut")
            continue
        _, invalid = split_addresses(row.get("email"))
        if invalid:
            problems.append(f"ligne {line} : adresse invalide {', '.join(invalid)}")
        found[(kind, code)] = row.get("email") or ""
    if problems:
        raise SeedError(
            f"dbt/seeds/{SEED}.csv à corriger avant tout envoi :\n  " + "\n  ".join(problems)
        )
    return found


def resolve(famille: str, code: str, convention_emails: str | None,
            reference: dict[tuple[str, str], str]) -> Adresses:
    """The addresses of one recipient (``famille`` = RESERVATAIRE, EPCI_EPT or ETAT)."""
    valid, invalid = split_addresses(convention_emails)
    if valid:
        return Adresses(valid, invalid, source="conventions")
    if famille == "RESERVATAIRE":
        motif = "aucune adresse dans les conventions du bailleur"
    else:
        seeded, bad = split_addresses(reference.get((famille, code)))
        if seeded:
            return Adresses(seeded, bad, source=SEED)
        invalid += bad
        motif = f"aucune adresse dans les conventions ni dans {SEED}"
    if invalid:
        motif = f"adresse invalide : {', '.join(invalid)}"
    return Adresses((), invalid, motif=motif)
