"""Build the Île-de-France geography seeds from the npm package ``@etalab/decoupage-administratif``.

Writes ``dbt/seeds/ref_communes.csv``, ``ref_epci.csv``, ``ref_ept.csv``,
``ref_departements.csv``, ``ref_communes_historiques.csv`` (the codes of earlier years and
the reference-year commune they lie in) and ``ref_cog.csv`` (the COG year of the seeds). The
output is sorted and byte-for-byte reproducible: run it again with the same package versions
and ``git diff`` shows nothing. CI never runs this script; the seeds are committed. Refresh
yearly by bumping ``PACKAGE_VERSION`` and ``ANNEE_COG`` and adding the previous version to
``HISTORY_VERSIONS`` (see dbt/seeds/README.md).

Usage: ``uv run python scripts/build_reference_seeds.py [--version X.Y.Z] [--package-dir DIR]``
(``--package-dir`` reads an already unpacked package instead of calling npm, ``--history-dir``
a folder of the older versions unpacked as ``<version>/package``).
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
ANNEE_COG = 2025
# Older millésimes (COG at 1 January of the year → package version, from the package README):
# a code listed as a commune in millésime Y was a commune code on 1 January Y. 2020 was never
# published: a commune of 2019 gone in 2021 counts as valid until 2020.
HISTORY_VERSIONS = {2019: "0.7.0", 2021: "1.1.1", 2022: "2.3.1", 2023: "3.1.1", 2024: "4.1.0"}
# The only version shipping the COG history since 1943 (``historique-communes.json``, INSEE's
# "communes depuis 1943" with the end date of every commune): the source for older merges.
HISTORY_FILE_VERSION = "0.7.0"

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
    """``data/<name>.json`` of an unpacked package."""
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


# Type of a historical code in the reference year (a commune déléguée or associée is still a
# code of the COG; an ancienne commune is not).
HISTORICAL_TYPES = {"commune-deleguee": "COMMUNE_DELEGUEE", "commune-associee": "COMMUNE_ASSOCIEE"}


def last_commune_year(code: str, millesimes: dict[int, dict[str, str]], history: list[dict],
                      annee_cog: int) -> int | None:
    """The last year ``code`` was a commune code (valid at least one day of it), or None.

    From the millésimes when it is in one of them (it stopped being a commune before the next
    one, or before the reference year ``annee_cog``, whose communes it is not one of), else
    from the end dates of the COG history (a commune ending on 1 January Y was last valid in
    Y - 1).
    """
    years = sorted(millesimes)
    present = [y for y in years if code in millesimes[y]]
    if present:
        return min([y for y in years if y > present[-1]] + [annee_cog]) - 1
    ends = [
        int(r["dateFin"][:4]) - (1 if r["dateFin"][5:] == "01-01" else 0)
        for r in history
        if r["type"] == "COM" and r["code"] == code and r.get("dateFin")
    ]
    return max(ends) if ends else None


def build_historical_codes(
    communes: list[dict], millesimes: dict[int, dict[str, str]], history: list[dict], annee_cog: int
) -> list[dict]:
    """Every earlier code of the reference year's IDF communes → the commune it lies in now.

    The codes are the communes' ``anciensCodes`` (merges, and the 1968 département recoding)
    and their communes déléguées / associées (``chefLieu``). ``derniere_annee_valide``: the last
    bilan year the code is valid in (empty: still a code of the reference-year COG, as a
    commune déléguée or associée).
    """
    current = {c["code"]: c for c in communes
               if c.get("departement") in SERVICE_ETAT and c["type"] == "commune-actuelle"}
    kept = {c["code"] for c in communes if c["type"] == "arrondissement-municipal"} | current.keys()
    found: dict[str, dict] = {}
    for commune in current.values():
        for code in commune.get("anciensCodes", []):
            found[code] = {"code_insee": code, "nom": "", "type": "ANCIENNE_COMMUNE",
                           "commune_insee": commune["code"]}
    for c in communes:
        if c["type"] in HISTORICAL_TYPES and c.get("chefLieu") in current:
            found[c["code"]] = {"code_insee": c["code"], "nom": c["nom"], "type": HISTORICAL_TYPES[c["type"]],
                                "commune_insee": c["chefLieu"]}
    names = {r["code"]: r["nom"] for r in sorted(history, key=lambda r: r.get("dateDebut") or "")
             if r["type"] == "COM"}
    for year in sorted(millesimes):
        names.update(millesimes[year])
    rows = []
    for code, row in sorted(found.items()):
        if code in kept:
            continue
        fin = last_commune_year(code, millesimes, history, annee_cog)
        if fin is None:
            raise ValueError(f"code {code}: no end date as a commune in the millésimes or the history")
        row["nom"] = row["nom"] or names[code]
        row["annee_fin_commune"] = fin
        row["derniere_annee_valide"] = "" if row["type"] in HISTORICAL_TYPES.values() else fin
        rows.append(row)
    return rows


def commune_names(communes: list[dict]) -> dict[str, str]:
    """Code → name of a millésime's communes (every département: codes moved between them)."""
    return {c["code"]: c["nom"] for c in communes if c.get("type") == "commune-actuelle"}


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def build_seeds(package_dir: Path, seeds_dir: Path, history_dirs: dict[int, Path],
                history_file_dir: Path, version: str = PACKAGE_VERSION) -> dict[str, int]:
    """Write the geography seeds; return the row count of each.

    ``history_dirs``: millésime → unpacked package of that year; ``history_file_dir``: the
    package shipping ``historique-communes.json``.
    """
    epci = read_json(package_dir, "epci")
    ept = read_json(package_dir, "ept")
    all_communes = read_json(package_dir, "communes")
    communes = build_communes(all_communes, epci, ept)
    millesimes = {year: commune_names(read_json(d, "communes")) for year, d in history_dirs.items()}
    history = read_json(history_file_dir, "historique-communes")
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
        "ref_communes_historiques": build_historical_codes(all_communes, millesimes, history, ANNEE_COG),
        "ref_cog": [{"annee_cog": ANNEE_COG, "source": PACKAGE, "version": version,
                     "versions_historique": " ".join(f"{y}:{v}" for y, v in sorted(HISTORY_VERSIONS.items()))}],
    }
    for name, rows in seeds.items():
        write_csv(seeds_dir / f"{name}.csv", rows)
    return {name: len(rows) for name, rows in seeds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=PACKAGE_VERSION, help="npm package version")
    parser.add_argument("--package-dir", type=Path, help="an unpacked package (skips npm)")
    parser.add_argument("--history-dir", type=Path,
                        help="folder of unpacked older versions, as <version>/package (skips npm)")
    parser.add_argument("--seeds-dir", type=Path, default=SEEDS_DIR)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        def unpacked(version: str) -> Path:
            """``<history-dir>/<version>/package`` if given, else npm pack into a temp folder."""
            if args.history_dir:
                return args.history_dir / version / "package"
            dest = Path(tmp) / version
            if not dest.exists():
                dest.mkdir()
                download_package(version, dest)
            return dest / "package"

        counts = build_seeds(
            args.package_dir or unpacked(args.version),
            args.seeds_dir,
            {year: unpacked(v) for year, v in HISTORY_VERSIONS.items()},
            unpacked(HISTORY_FILE_VERSION),
            args.version,
        )
    for name, n in counts.items():
        print(f"{name}: {n} rows")


if __name__ == "__main__":
    main()
