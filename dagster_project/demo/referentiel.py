"""The demo campaign's reference of bailleurs (seed ``ref_bailleurs``), and its two stories.

The reference lists every bailleur the campaign expects: the generated ones, plus one that
never sends anything (``absent``). The smallest generated bailleur sends late: ``make run``
drops its files after the others (``retardataires``). Names are fictional; the e-mail
addresses use the reserved ``.example`` domain.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.demo.model import Bailleur, Scale, luhn_complete, plan_bailleurs

# Fictional names by main département, used in this order.
NOMS = {
    "75": [("Lutèce Habitat", "LUTECE"), ("Foyer francilien", "FOYFRA"),
           ("Les Terrasses de Belleville", "TBELLEVILLE")],
    "77": [("Logis de la Brie", "LOGBRIE"), ("Habitat du Gâtinais", "HGATINAIS")],
    "78": [("Société immobilière du Vexin", "SIV"), ("Habitat des Coteaux de Seine", "HCS")],
    "91": [("Essonne Habitat Solidaire", "EHS"), ("Résidences de l'Orge", "RORGE")],
    "92": [("Résidences de la Bièvre", "RBIEVRE"), ("Toit et Jardin", "TEJ"),
           ("Hauts-de-Seine Logement", "HDSL"), ("Seine Ouest Habitat", "SOH")],
    "93": [("Plaine de France Habitat", "PFH"), ("Les Terrasses de l'Ourcq", "TOURCQ"),
           ("Coopérative d'habitat de Saint-Denis", "CHSD")],
    "94": [("Val-de-Marne Logement Social", "VMLS"), ("Office public des Deux Rives", "OPH2R")],
    "95": [("Val-d'Oise Habitat", "VOH"), ("Cergy Logement", "CERGYLOG")],
}
ABSENT_DEPARTEMENT = "77"
COLUMNS = ("bailleur_siren", "raison_sociale", "sigle", "departements", "courriels")


def _names(bailleurs: list[Bailleur]) -> dict[str, tuple[str, str]]:
    """SIREN → (raison sociale, sigle), a name of its main département while there are some;
    the absent bailleur (key ``""``) takes the next name of ``ABSENT_DEPARTEMENT``."""
    used = {d: 0 for d in NOMS}
    out = {}
    for b in [*bailleurs, None]:
        dep = b.departements[0] if b else ABSENT_DEPARTEMENT
        i = used[dep]
        used[dep] += 1
        if i < len(NOMS[dep]):
            out[b.siren if b else ""] = NOMS[dep][i]
        else:
            n = b.index + 1 if b else len(bailleurs) + 1
            out[b.siren if b else ""] = (f"Bailleur de démonstration n° {n}", f"DEMO{n}")
    return out


def bailleur_absent(bailleurs: list[Bailleur], seed: int) -> str:
    """SIREN of the expected bailleur that sends nothing (distinct from the generated ones)."""
    rng = np.random.default_rng([seed, 2])
    taken = {b.siren for b in bailleurs}
    while True:
        siren = luhn_complete("2" + "".join(str(d) for d in rng.integers(0, 10, size=7)))
        if siren not in taken:
            return siren


def retardataires(bailleurs: list[Bailleur]) -> list[Bailleur]:
    """The bailleurs whose files ``make run`` drops after the legal date: the smallest one."""
    return bailleurs[-1:]


def _row(siren: str, names: tuple[str, str], departements: tuple[str, ...]) -> dict[str, str]:
    raison_sociale, sigle = names
    return {
        "bailleur_siren": siren, "raison_sociale": raison_sociale, "sigle": sigle,
        "departements": ",".join(sorted(departements)),
        "courriels": f"bilans@{sigle.lower()}.example",
    }


def referentiel(scale: Scale, seed: int) -> pl.DataFrame:
    bailleurs = plan_bailleurs(scale, seed)
    names = _names(bailleurs)
    rows = [_row(b.siren, names[b.siren], b.departements) for b in bailleurs]
    rows.append(_row(bailleur_absent(bailleurs, seed), names[""], (ABSENT_DEPARTEMENT,)))
    return pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String)).sort("bailleur_siren")


def referentiel_csv(scale: Scale, seed: int) -> bytes:
    return referentiel(scale, seed).write_csv(line_terminator="\n").encode("utf-8")
