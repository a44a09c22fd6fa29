"""PDF previews of trames and rapports de contrôle, rendered by LibreOffice as a recipient
would print them, so that the regional team can check a document before sending it.

    python -m dagster_project.documents.apercu [FICHIER.xlsx | DOSSIER …] [--sortie DOSSIER] [--png]

Without a file, one document of each kind of the data folder's latest campaign is rendered
(réservataire, EPCI/EPT, État, prévisionnel, the regional ones, a rapport de contrôle).
LibreOffice is installed on demand (``apt-get install libreoffice-calc-nogui``) when missing.
``to_pdf`` is the function other modules call (e.g. to attach a PDF to an e-mail).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = "libreoffice-calc-nogui"
TIMEOUT_S = 600


class ApercuError(RuntimeError):
    """A French message for whoever asked for the preview."""


def soffice() -> str:
    """LibreOffice's command, installed with apt when missing (as root, or with sudo -n)."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None:
        raise ApercuError(
            f"LibreOffice est introuvable et apt-get aussi : installez LibreOffice ({PACKAGE})."
        )
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    print(f"LibreOffice introuvable : installation de {PACKAGE} (apt-get)…", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([*sudo, apt, "update", "-q"], [*sudo, apt, "install", "-y", "-q", PACKAGE]):
        if subprocess.run(command, env=env, check=False).returncode != 0:
            raise ApercuError(
                f"L'installation de LibreOffice a échoué ({' '.join(command)}) : "
                f"installez {PACKAGE} puis relancez."
            )
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        raise ApercuError(f"{PACKAGE} est installé mais soffice reste introuvable.")
    return found


def to_pdf(documents: list[Path], out_dir: Path) -> list[Path]:
    """Render each workbook to ``out_dir/<name>.pdf`` with LibreOffice headless (one process,
    its own throw-away profile so that a LibreOffice already open is not disturbed)."""
    if not documents:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="apercu-lo-") as work:
        profile, inputs = Path(work) / "profil", Path(work) / "classeurs"
        inputs.mkdir()
        # LibreOffice names a PDF after its workbook: copies named by their path stay apart
        # (regional/etat/93.xlsx and <siren>/etat/93.xlsx).
        names = [d.name for d in documents]
        if len(set(names)) < len(names):
            names = ["_".join(d.resolve().parts[-3:]) for d in documents]
        copies = [inputs / name for name in names]
        for document, copy in zip(documents, copies, strict=True):
            shutil.copyfile(document, copy)
        command = [
            soffice(),
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            *map(str, copies),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    pdfs = [out_dir / f"{c.stem}.pdf" for c in copies]
    missing = [p.name for p in pdfs if not p.is_file()]
    if done.returncode != 0 or missing:
        raise ApercuError(
            f"LibreOffice n'a pas produit {', '.join(missing) or 'les PDF'} : {done.stderr.strip()}"
        )
    return pdfs


def to_png(pdf: Path, resolution: int = 60) -> list[Path]:
    """One PNG per page (``pdftoppm``), to look at a document as an image."""
    if shutil.which("pdftoppm") is None:
        raise ApercuError("pdftoppm est introuvable (paquet poppler-utils).")
    prefix = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(resolution), str(pdf), str(prefix)], check=True)
    return sorted(pdf.parent.glob(f"{prefix.name}-*.png"))


def one_of_each_kind(marts: Path) -> list[Path]:
    """The first trame of each kind of the latest campaign year, and the first rapport de
    contrôle of that year (those with the most anomalies first)."""
    years = sorted((p for p in (marts / "trames").glob("*/manifest.json")), reverse=True)
    documents: list[Path] = []
    if years:
        year_dir = years[0].parent
        first: dict[str, str] = {}
        for entry in json.loads(years[0].read_text(encoding="utf-8"))["files"]:
            first.setdefault(entry["kind"], entry["file"])
        documents += [year_dir / file for _, file in sorted(first.items())]
    rapports = sorted(
        (marts / "rapports").rglob("*.controle.xlsx"),
        key=lambda p: (-p.with_suffix(".csv").stat().st_size if p.with_suffix(".csv").is_file() else 0, str(p)),
    )
    return documents + rapports[:1]


def _documents(arguments: list[str]) -> list[Path]:
    documents: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            documents += sorted(path.rglob("*.xlsx"))
        elif path.is_file():
            documents.append(path)
        else:
            raise ApercuError(f"Fichier ou dossier introuvable : {argument}")
    return documents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make apercu",
        description="Aperçu PDF (LibreOffice) des trames et rapports de contrôle avant envoi.",
    )
    parser.add_argument("documents", nargs="*", help="classeurs .xlsx ou dossiers (défaut : un de chaque sorte)")
    parser.add_argument("--sortie", type=Path, help="dossier des PDF (défaut : <données>/apercu)")
    parser.add_argument("--png", action="store_true", help="aussi une image PNG par page (pdftoppm, 60 dpi)")
    args = parser.parse_args(argv)
    from dagster_project.settings import paths

    data = paths()
    marts = data.marts
    try:
        documents = _documents(args.documents) if args.documents else one_of_each_kind(marts)
        if not documents:
            raise ApercuError(
                f"Aucun document à rendre dans {marts} : lancez d'abord une campagne (make run)."
            )
        out_dir = args.sortie or data.data / "apercu"  # beside the published outputs, not in them
        for pdf in to_pdf(documents, out_dir):
            pages = to_png(pdf) if args.png else []
            print(f"{pdf}" + (f" ({len(pages)} page(s) PNG)" if args.png else ""))
    except (ApercuError, subprocess.TimeoutExpired) as error:
        print(f"Aperçu impossible : {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
