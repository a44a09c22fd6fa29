"""Build the Île-de-France geography seeds from the npm package ``@etalab/decoupage-administratif``.

Writes ``dbt/seeds/ref_communes.csv``, ``ref_epci.csv``, ``ref_ept.csv`` and
``ref_departements.csv``. The output is sorted and byte-for-byte reproducible: run it again
with the same package version and ``git diff`` shows nothing. CI never runs this script; the
seeds are committed. Refresh yearly by bumping ``PACKAGE_VERSION`` (see dbt/seeds/README.md).

Usage: ``uv run python scripts/build_reference_seeds.py [--version X.Y.Z] [--package-dir DIR]``
(``--package-dir`` reads an already unpacked package instead of calling npm).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

PACKAGE = "@etalab/decoupage-administratif"
# Millésime 2025 (COG at 1 January 2025): the geography in force when the 2024 bilans are
# produced (1,266 communes; Saint-Denis and Pierrefitte-sur-Seine merged on 1 January 2025).
PACKAGE_VERSION = "5.3.0"

SEEDS_DIR = Path(__file__).resolve().parent.parent / "dbt" / "seeds"

PARIS = "75056"
SERVICE_ETAT = {
    "75": "UD DRIHL",
    "92": "UD DRIHL",
    "93": "UD DRIHL",
    "94": "UD DRIHL",
    "77": "DDETS",
    "78": "DDETS",
    "91": "DDETS",
    "95": "DDETS",
}
DEPARTEMENTS_IDF = tuple(sorted(SERVICE_ETAT))

# INSEE "type de nom en clair" (typeLiaison) → the French preposition before the name.
CHARNIERE = {0: "de ", 1: "d'", 2: "du ", 3: "de la ", 4: "des ", 5: "de l'"}


def download_package(version: str, dest: Path) -> Path:
    """``npm pack`` the package into ``dest`` and return the unpacked ``package/`` folder."""
    subprocess.run(
        ["npm", "pack", "--silent", f"{PACKAGE}@{version}"],
        cwd=dest,
        check=True,
        capture_output=True,
    )
    (tarball,) = dest.glob("*.tgz")
    with tarfile.open(tarball) as tar:
        tar.extractall(dest, filter="data")
    return dest / "package"


def read_json(package_dir: Path, name: str) -> list[dict]:
    return json.loads((package_dir / "data" / f"{name}.json").read_text(encoding="utf-8"))


def membership(groups: list[dict], codes: set[str]) -> dict[str, dict]:
    """Commune INSEE code → the group (EPCI or EPT) listing it, for the given communes only."""
    owner: dict[str, dict] = {}
    for group in groups:
        for member in group["membres"]:
            code = member["code"]
            if code in codes:
                if code in owner:
                    raise ValueError(f"commune {code} in {owner[code]['code']} and {group['code']}")
                owner[code] = group
    return owner


def build_communes(communes: list[dict], epci: list[dict], ept: list[dict]) -> list[dict]:
    """Current communes of the 8 départements, plus the Paris arrondissements (parent 75056)."""
    current = [
        c for c in communes if c.get("departement") in SERVICE_ETAT and c["type"] == "commune-actuelle"
    ]
    arrondissements = [
        c for c in communes if c["type"] == "arrondissement-municipal" and c.get("commune") == PARIS
    ]
    codes = {c["code"] for c in current}
    epci_of = membership(epci, codes)
    ept_of = membership(ept, codes)
    missing = sorted(codes - epci_of.keys())
    if missing:
        raise ValueError(f"communes without EPCI: {missing}")

    def row(commune: dict, attached_to: str) -> dict:
        ept_group = ept_of.get(attached_to)
        return {
            "commune_insee": commune["code"],
            "commune_nom": commune["nom"],
            "departement": commune["departement"],
            "epci_siren": epci_of[attached_to]["code"],
            "ept_siren": ept_group["code"] if ept_group else "",
            "population": commune.get("population", ""),
            "commune_parent": attached_to,
        }

    rows = [row(c, c["code"]) for c in current] + [row(a, PARIS) for a in arrondissements]
    return sorted(rows, key=lambda r: r["commune_insee"])


def build_groups(groups: list[dict], communes: list[dict], siren_column: str) -> list[dict]:
    """EPCI or EPT having at least one current IDF commune, with their IDF commune count."""
    counts = Counter(c[siren_column] for c in communes if c["commune_parent"] == c["commune_insee"])
    return sorted(
        ({"code": g["code"], "nom": g["nom"], "type": g["type"], "nb": counts[g["code"]]}
         for g in groups if counts[g["code"]]),
        key=lambda g: g["code"],
    )


def build_departements(departements: list[dict]) -> list[dict]:
    rows = []
    for dep in departements:
        code = dep["code"]
        if code not in SERVICE_ETAT:
            continue
        service = SERVICE_ETAT[code]
        rows.append(
            {
                "departement": code,
                "departement_nom": dep["nom"],
                "service_etat": service,
                "service_etat_nom": f"{service} {CHARNIERE[dep['typeLiaison']]}{dep['nom']}",
            }
        )
    if [r["departement"] for r in rows] != list(DEPARTEMENTS_IDF):
        raise ValueError(f"départements found: {[r['departement'] for r in rows]}")
    return sorted(rows, key=lambda r: r["departement"])


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def build_seeds(package_dir: Path, seeds_dir: Path) -> dict[str, int]:
    """Write the four geography seeds; return the row count of each."""
    epci = read_json(package_dir, "epci")
    ept = read_json(package_dir, "ept")
    communes = build_communes(read_json(package_dir, "communes"), epci, ept)
    seeds = {
        "ref_communes": communes,
        "ref_epci": [
            {"epci_siren": g["code"], "epci_nom": g["nom"], "epci_nature": g["type"],
             "nb_communes_idf": g["nb"]}
            for g in build_groups(epci, communes, "epci_siren")
        ],
        "ref_ept": [
            {"ept_siren": g["code"], "ept_nom": g["nom"], "nb_communes": g["nb"]}
            for g in build_groups(ept, communes, "ept_siren")
        ],
        "ref_departements": build_departements(read_json(package_dir, "departements")),
    }
    for name, rows in seeds.items():
        write_csv(seeds_dir / f"{name}.csv", rows)
    return {name: len(rows) for name, rows in seeds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=PACKAGE_VERSION, help="npm package version")
    parser.add_argument("--package-dir", type=Path, help="an unpacked package (skips npm)")
    parser.add_argument("--seeds-dir", type=Path, default=SEEDS_DIR)
    args = parser.parse_args()
    if args.package_dir:
        counts = build_seeds(args.package_dir, args.seeds_dir)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            counts = build_seeds(download_package(args.version, Path(tmp)), args.seeds_dir)
    for name, n in counts.items():
        print(f"{name}: {n} rows")


if __name__ == "__main__":
    main()
