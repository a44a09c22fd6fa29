"""Contract-shaped marts (docs/contracts.md §3) for the trames tests and benchmark.

Figures are random but coherent where the trames rely on it (breakdowns sum to the totals,
attribués ≤ proposés, droit = taux × flux net). ``python tests/trames_synthetic.py N`` writes a
campaign of N bailleurs and measures the trames' throughput.
"""

from __future__ import annotations

import random
import sys
from collections import defaultdict
from pathlib import Path

import polars as pl

from dagster_project.reference import load_seed

ANNEE = 2024
DIMENSIONS = {
    "typologie": [("T1", "T1"), ("T2", "T2"), ("T3", "T3"), ("T4", "T4"), ("T5+", "T5 et +")],
    "financement": [
        ("PLAI", "PLAI"),
        ("PLUS", "PLUS"),
        ("PLS", "PLS"),
        ("ANCIEN", "Financements antérieurs à 1977"),
    ],
    "qpv": [("QPV", "QPV"), ("HORS_QPV", "hors QPV")],
    "periode_construction": [
        ("AVANT_1946", "avant 1946"),
        ("1971_1990", "1971-1990"),
        ("2006_ET_APRES", "2006 et après"),
    ],
}
INJECTION = '=HYPERLINK("http://exemple.invalid","clic")'
OPERATIONS = ["MUTATION_INTERNE", "RENOUVELLEMENT_URBAIN", "VENTE_HLM"]
# The columns of a ventilation cell, as _ventilation returns them.
VENTILATION_FIELDS = ("dimension", "valeur", "libelle", "ordre", "proposes", "attribues")


def _split(total: int, labels: list, rng: random.Random) -> dict:
    """Distribute ``total`` over ``labels`` (some cells stay zero)."""
    cells = defaultdict(int)
    for _ in range(total):
        cells[rng.choice(labels)] += 1
    return cells


def _ventilation(
    p: int, a: int, communes: list[str], rng: random.Random, names: dict, unknown: bool
):
    """Non-zero cells (VENTILATION_FIELDS) summing to p and a."""
    rows = []
    for dimension, values in [*DIMENSIONS.items(), ("commune", [(c, names[c]) for c in communes])]:
        values = values + (
            [("NON_RENSEIGNE", "non renseigné")] if unknown and dimension == "typologie" else []
        )
        prop = _split(p, values, rng)
        attr = _split(a, [v for v in values if prop[v]] or values, rng) if a else {}
        for ordre, value in enumerate(values, start=1):
            if prop.get(value) or attr.get(value):
                rows.append(
                    (dimension, value[0], value[1], ordre, prop.get(value, 0), attr.get(value, 0))
                )
    return rows


def synthetic_marts(n_bailleurs: int, seed: int = 7) -> dict[str, pl.DataFrame]:
    rng = random.Random(seed)
    communes = load_seed("ref_communes").filter(pl.col("commune_insee") == pl.col("commune_parent"))
    names = dict(zip(communes["commune_insee"], communes["commune_nom"], strict=True))
    by_dep = {
        dep: part for (dep,), part in communes.partition_by("departement", as_dict=True).items()
    }
    epci_names = dict(zip(*load_seed("ref_epci").select("epci_siren", "epci_nom"), strict=True))
    ept_names = dict(zip(*load_seed("ref_ept").select("ept_siren", "ept_nom"), strict=True))
    out = defaultdict(list)
    for i in range(n_bailleurs):
        siren = f"{100000000 + i * 7919:09d}"
        deps = sorted(rng.sample(sorted(by_dep), rng.choice([1, 2])))
        if i == 0 and "75" not in deps:
            deps = sorted([*deps[:1], "75"])  # Paris: a territory of type COMMUNE
        key = {"bailleur_siren": siren, "annee": ANNEE}
        for sheet in ("logements", "tours", "conventions", "previsionnel"):
            out["mart_sources"].append(
                {
                    **key,
                    "sheet": sheet,
                    "_source_file": f"{siren}/{siren}_{ANNEE}_{sheet}.csv",
                    "_source_sha256": f"{rng.getrandbits(256):064x}",
                    "depose_le": f"{ANNEE + 1}-01-15 10:00:00",
                }
            )
        dep_communes = {
            dep: sorted(
                rng.sample(by_dep[dep]["commune_insee"].to_list(), min(3, by_dep[dep].height))
            )
            for dep in deps
        }
        flux_net = {}
        for dep in deps:
            brut = rng.randint(80, 200)
            sous = rng.randint(5, 20)
            flux_net[dep] = brut - sous
            out["mart_flux"].append(
                {
                    **key,
                    "departement": dep,
                    "flux_brut": brut,
                    "soustraits": sous,
                    "flux_net": brut - sous,
                }
            )
            for op in OPERATIONS:
                out["mart_soustraits"].append(
                    {
                        **key,
                        "departement": dep,
                        "categorie_operation": op,
                        "soustraits": rng.randint(0, 8),
                        "attributions_relogement": rng.randint(0, 5),
                        "libelle": op,
                    }
                )
                out["mart_previsionnel"].append(
                    {
                        **key,
                        "departement": dep,
                        "categorie_operation": op,
                        "nb_logements_prevus": rng.randint(0, 9),
                        "soustraits_n": rng.randint(0, 8),
                        "attributions_relogement_n": rng.randint(0, 5),
                        "commentaire": INJECTION if op == "VENTE_HLM" else None,
                    }
                )
            out["mart_recipients"].append(
                {
                    **key,
                    "kind": "ETAT",
                    "recipient_code": dep,
                    "recipient_nom": f"Préfecture {dep}",
                    "departement": dep,
                    "email": None,
                    "territoire_type": "DEPARTEMENT",
                    "territoire_code": dep,
                }
            )
        # réservataires: (code, nom, categorie, siren, [(perimetre_type, code, dep, taux)])
        reservataires = [
            (
                "ALS",
                "Action Logement Services",
                "ACTION_LOGEMENT",
                "502881307",
                [("DEPARTEMENT", d, d, 30.0) for d in deps],
            )
        ]
        for dep in deps:
            commune = dep_communes[dep][0]
            reservataires += [
                (
                    f"PREF{dep}",
                    f"Préfet {dep} – prioritaires",
                    "ETAT_PRIORITAIRES",
                    "",
                    [("DEPARTEMENT", dep, dep, 25.0)],
                ),
                (
                    f"FONC{dep}",
                    f"Préfet {dep} – agents",
                    "ETAT_FONCTIONNAIRES",
                    "",
                    [("DEPARTEMENT", dep, dep, 5.0)],
                ),
                (
                    f"VILLE{commune}",
                    f"Ville de {names[commune]} ({siren[-3:]})",
                    "COMMUNE",
                    f"2{commune}000",
                    [("COMMUNE", commune, dep, 20.0)],
                ),
            ]
        reservataires.append(
            ("EMP1", INJECTION, "AUTRE", "123456789", [("DEPARTEMENT", deps[0], deps[0], 2.0)])
        )
        for code, nom, categorie, rsiren, perimetres in reservataires:
            rdeps = sorted({p[2] for p in perimetres})
            rcommunes = (
                [c for d in rdeps for c in dep_communes[d]]
                if perimetres[0][0] != "COMMUNE"
                else [perimetres[0][1]]
            )
            droit, flux_perim = 0.0, 0
            for ptype, pcode, pdep, taux in perimetres:
                fnp = flux_net[pdep] if ptype == "DEPARTEMENT" else flux_net[pdep] // 4
                out["mart_flux_perimetre"].append(
                    {
                        **key,
                        "reservataire_code": code,
                        "perimetre_type": ptype,
                        "perimetre_code": pcode,
                        "reservataire_id": rsiren or code,
                        "taux_flux": taux,
                        "flux_net_perimetre": fnp,
                        "droit": taux * fnp / 100,
                        "reprise_imputee": True,
                    }
                )
                droit += taux * fnp / 100
                flux_perim += fnp
            p = rng.randint(3, 40)
            a = rng.randint(1, p)
            report, repris = rng.randint(0, a // 3), rng.randint(0, 3)
            tours = {
                "tours_attribue": a,
                "tours_echec_carence": rng.randint(0, 5),
                "tours_echec_refus_candidat": rng.randint(0, 4),
                "tours_echec_refus_caleol": rng.randint(0, 2),
                "tours_echec_autre": rng.randint(0, 2),
                "tours_en_cours": rng.randint(0, 2),
            }
            out["mart_bilan_reservataire"].append(
                {
                    **key,
                    "reservataire_code": code,
                    "destination_type": "RESERVATAIRE",
                    "reservataire_id": rsiren or code,
                    "reservataire_nom": nom,
                    "reservataire_categorie": categorie,
                    "reservataire_siren": rsiren,
                    "email": f"{code.lower()}@exemple.invalid" if rng.random() < 0.7 else None,
                    "departements": ",".join(rdeps),
                    "proposes": p,
                    "attribues": a,
                    "report_n_1": report,
                    "repris": repris,
                    "realise": a + repris,
                    "droit": droit,
                    "ecart": a + repris - droit,
                    "part_du_flux": (a + repris) / flux_perim,
                    "flux_net_perimetre": flux_perim,
                    "tours": sum(tours.values()),
                    **tours,
                }
            )
            for row in _ventilation(p, a, rcommunes, rng, names, unknown=rng.random() < 0.3):
                out["mart_bilan_ventilation"].append(
                    {
                        **key,
                        "reservataire_code": code,
                        **dict(zip(VENTILATION_FIELDS, row, strict=True)),
                    }
                )
            for kind in ("RESERVATAIRE", "PREVISIONNEL"):
                out["mart_recipients"].append(
                    {
                        **key,
                        "kind": kind,
                        "recipient_code": code,
                        "recipient_nom": nom,
                        "departement": ",".join(rdeps),
                        "email": None,
                        "territoire_type": None,
                        "territoire_code": None,
                    }
                )
        # territories: départements, and the EPCI / EPT of the chosen communes
        territories = {("DEPARTEMENT", d): (f"Département {d}", dep_communes[d]) for d in deps}
        for d in deps:
            for c in dep_communes[d]:
                row = communes.filter(pl.col("commune_insee") == c).row(0, named=True)
                if c == "75056":
                    territories[("COMMUNE", c)] = ("Paris", [c])
                    continue
                territories.setdefault(
                    ("EPCI", row["epci_siren"]), (epci_names.get(row["epci_siren"], ""), [])
                )[1].append(c)
                if row["ept_siren"]:
                    territories.setdefault(
                        ("EPT", row["ept_siren"]), (ept_names.get(row["ept_siren"], ""), [])
                    )[1].append(c)
        for (ttype, tcode), (tnom, tcommunes) in sorted(territories.items()):
            tkey = {**key, "territoire_type": ttype, "territoire_code": tcode}
            p = rng.randint(5, 60)
            a = rng.randint(1, p)
            hq = rng.randint(0, a)
            out["mart_bilan_territoire"].append(
                {
                    **tkey,
                    "territoire_nom": tnom,
                    "lec": True,
                    "proposes": p,
                    "attribues": a,
                    "hors_flux_proposes": rng.randint(0, 6),
                    "hors_flux_attribues": rng.randint(0, 4),
                    "etat_prioritaires_attribues": rng.randint(0, a),
                    "etat_fonctionnaires_attribues": rng.randint(0, 2),
                    "attribues_hors_qpv": hq,
                    "part_hors_qpv": hq / a,
                }
            )
            for code, nom, categorie, *_ in reservataires[:3] + [
                ("BAILLEUR", "Bailleur", None),
                ("HORS_FLUX", "Hors flux", None),
            ]:
                dp = rng.randint(0, p)
                out["mart_bilan_territoire_detail"].append(
                    {
                        **tkey,
                        "reservataire_code": code,
                        "reservataire_nom": nom,
                        "reservataire_categorie": categorie,
                        "proposes": dp,
                        "attribues": rng.randint(0, dp),
                    }
                )
            for row in _ventilation(p, a, sorted(set(tcommunes)), rng, names, unknown=False):
                out["mart_territoire_ventilation"].append(
                    {
                        **tkey,
                        **dict(zip(VENTILATION_FIELDS, row, strict=True)),
                    }
                )
            if ttype != "DEPARTEMENT":
                out["mart_recipients"].append(
                    {
                        **key,
                        "kind": "EPCI_EPT",
                        "recipient_code": tcode,
                        "recipient_nom": tnom,
                        "departement": None,
                        "email": f"contact@{tcode}.invalid",
                        "territoire_type": ttype,
                        "territoire_code": tcode,
                    }
                )
        for dep in deps:
            for code, _, _, _, perimetres in reservataires:
                for _ptype, _pcode, pdep, taux in perimetres:
                    if pdep == dep:
                        fni = flux_net[dep] - rng.randint(0, 10)
                        out["mart_previsionnel_droits"].append(
                            {
                                **key,
                                "departement": dep,
                                "reservataire_code": code,
                                "taux_flux": taux,
                                "flux_net_indicatif_n_plus_1": float(fni),
                                "droit_indicatif_n_plus_1": taux * fni / 100,
                            }
                        )
                        break
    marts = {name: pl.DataFrame(rows, infer_schema_length=None) for name, rows in out.items()}
    bilans = marts["mart_bilan_reservataire"]
    marts["mart_regional_reservataire"] = (
        bilans.group_by("annee", "reservataire_id")
        .agg(
            pl.col("reservataire_nom").first(),
            pl.col("reservataire_categorie").first(),
            pl.col("reservataire_siren").first(),
            pl.col("bailleur_siren").n_unique().alias("nb_bailleurs"),
            *(
                pl.col(c).sum()
                for c in (
                    "proposes",
                    "attribues",
                    "report_n_1",
                    "repris",
                    "realise",
                    "droit",
                    "ecart",
                )
            ),
        )
        .sort("reservataire_id")
    )
    flux_dep = marts["mart_flux"].select(
        "annee", pl.col("departement").alias("territoire_code"), "flux_brut"
    )
    marts["mart_regional_territoire"] = (
        marts["mart_bilan_territoire"]
        .group_by("annee", "territoire_type", "territoire_code")
        .agg(
            pl.col("territoire_nom").first(),
            pl.col("lec").first(),
            pl.col("bailleur_siren").n_unique().alias("nb_bailleurs"),
            *(
                pl.col(c).sum()
                for c in ("proposes", "attribues", "hors_flux_proposes", "hors_flux_attribues")
            ),
        )
        .join(
            flux_dep.group_by("annee", "territoire_code").agg(pl.col("flux_brut").sum()),
            on=["annee", "territoire_code"],
            how="left",
        )
        .sort("territoire_type", "territoire_code")
    )
    marts["statut_bailleurs"] = published_status(marts["mart_flux"])
    return marts


def published_status(flux: pl.DataFrame) -> pl.DataFrame:
    """Every bailleur of the marts complete and unblocked (dagster_project/status.py)."""
    from dagster_project.status import PUBLIE, STATUS_SCHEMA

    keys = flux.select("bailleur_siren", "annee").unique().sort("bailleur_siren", "annee")
    return pl.DataFrame(
        [{"bailleur_siren": s, "annee": a, "statut": PUBLIE, "statut_libelle": "publié",
          "publie": True, "feuilles_manquantes": "", "feuilles_rejetees": "",
          "previsionnel": True, "bloque": False, "nb_fichiers": 1, "motif": ""}
         for s, a in keys.iter_rows()],
        schema=STATUS_SCHEMA,
    )


def write_marts(marts: dict[str, pl.DataFrame], root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name, frame in marts.items():
        frame.write_parquet(root / f"{name}.parquet")


if __name__ == "__main__":
    import datetime as dt
    import tempfile

    from dagster_project.trames.campaign import generate_trames

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else None
    import resource

    def cpu() -> float:
        return sum(
            usage.ru_utime + usage.ru_stime
            for usage in (
                resource.getrusage(resource.RUSAGE_SELF),
                resource.getrusage(resource.RUSAGE_CHILDREN),
            )
        )

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_marts(synthetic_marts(n), root / "marts")
        before = cpu()
        result = generate_trames(
            root / "marts", root / "trames", "bench", workers=workers, now=dt.datetime(2025, 2, 1)
        )
        used = cpu() - before
        print(
            f"{len(result.written)} classeurs en {result.seconds:.1f} s : {result.files_per_second:.1f} classeurs/s"
        )
        print(
            f"temps CPU {used:.1f} s : {len(result.written) / used:.1f} classeurs par seconde CPU et par cœur"
        )
        rerun = generate_trames(root / "marts", root / "trames", "bench2", workers=workers)
        print(
            f"relance sans changement : {rerun.unchanged} inchangés, {len(rerun.written)} réécrits en {rerun.seconds:.1f} s"
        )
