"""The tracking's section of the campaign summary (``summary.render_markdown`` calls it):
read from the latest snapshot the ``suivi_campagne`` asset wrote, never recomputed."""

from __future__ import annotations

from dagster_project.settings import Paths
from dagster_project.suivi import historique
from dagster_project.suivi import relances
from dagster_project.suivi.classeur import workbook_path
from dagster_project.documents.dates import paris
from dagster_project.suivi.echeances import DELAIS
from dagster_project.suivi.tableau import STATUTS


def _cell(value: object) -> str:
    return str(value or "").replace("|", "/")


def section(p: Paths, annee: int | None) -> list[str]:
    if annee is None:
        return []
    lignes = historique.latest(p, annee)
    if lignes is None:
        return []
    evalue_le = lignes["evalue_le"][0] if lignes.height else None
    counts = dict(lignes.group_by("statut").len().iter_rows())
    delais = dict(lignes.group_by("delai").len().iter_rows())
    lines = [
        "## Suivi de la campagne",
        "",
        f"Situation au {paris(evalue_le)} (heure de Paris) ; classeur : "
        f"`{workbook_path(p.suivi, annee)}`.",
        "",
        "- " + ", ".join(f"{lib} : **{counts.get(code, 0)}**" for code, lib in STATUTS.items()),
        "- délais : " + ", ".join(f"{d} : **{delais.get(d, 0)}**" for d in DELAIS),
        "",
        "| SIREN | bailleur | statut | délai | dernier dépôt |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in lignes.iter_rows(named=True):
        lines.append(f"| {r['bailleur_siren']} | {_cell(r['bailleur_nom'])} | {r['statut_libelle']} "
                     f"| {r['delai']} | {paris(r['dernier_depot']) or '—'} |")
    lines.append("")
    files = historique.latest_non_attribues(p, annee)
    lines += [f"### Fichiers non attribués : {files.height}", ""]
    if files.height:
        lines += ["| fichier | motif | rapport de contrôle |", "| --- | --- | --- |"]
        lines += [f"| `{_cell(r['chemin'])}` | {_cell(r['motif'])} | `{_cell(r['rapport'])}` |"
                  for r in files.iter_rows(named=True)]
        lines.append("")
    drafts = sorted(relances.folder(p, annee).glob("*.eml"))
    if drafts:
        lines += [f"### Relances préparées : {len(drafts)}", "",
                  f"Brouillons à envoyer (.eml) dans `{relances.folder(p, annee)}`.", ""]
    return lines
