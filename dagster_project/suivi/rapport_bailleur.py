"""The rapport of one bailleur for one campaign: every file it sent, what was counted, what
was rejected and why, what is missing, the deadlines; the document the regional team sends
back (attached to the relance).

[choice] A self-contained HTML page (inline styles, no script, no external resource): it
opens in any browser and inside mail clients, needs no renderer at run time (a PDF would need
LibreOffice in every run), stays small and searchable, and prints to PDF from the browser.
Every value is escaped: file names and messages come from the bailleur's files.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import polars as pl

from dagster_project import status
from dagster_project.atomic import write_bytes
from dagster_project.ingest import store
from dagster_project.ingest.dropped import version_id
from dagster_project.settings import Paths
from dagster_project.suivi.classeur import DELAI_COULEURS, FEUILLES, STATUT_COULEURS, STATUT_SENS
from dagster_project.documents.dates import paris
from dagster_project.suivi.tableau import ABSENT, Suivi

MAX_REGLES = 15  # rules shown per rejected file; the rapport de contrôle has every line
FONT = "font-family: Arial, Helvetica, sans-serif; font-size: 14px; color: #202124;"
TABLE = "border-collapse: collapse; margin: 6px 0 18px 0;"
TH = "text-align: left; background: #E7E6E6; padding: 4px 8px; border: 1px solid #BBB;"
TD = "padding: 4px 8px; border: 1px solid #BBB; vertical-align: top;"
NOWRAP = " white-space: nowrap;"


def folder(p: Paths, annee: int) -> Path:
    return p.suivi / "rapports" / str(annee)


def _table(headers: list[str], rows: list[list[str]], colors: dict[int, dict] | None = None,
           nowrap: tuple[int, ...] = ()) -> str:
    head = "".join(f'<th style="{TH}">{escape(h)}</th>' for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            bg = (colors or {}).get(i, {}).get(v)
            style = TD + (f" background: #{bg};" if bg else "") + (NOWRAP if i in nowrap else "")
            cells.append(f'<td style="{style}">{escape(str(v))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table style="{TABLE}"><tr>{head}</tr>{"".join(body)}</table>'


def _badge(text: str, color: str) -> str:
    return (f'<span style="background: #{color}; padding: 2px 8px; border: 1px solid #999; '
            f'font-weight: bold;">{escape(text)}</span>')


def _anomalies(p: Paths, f: dict) -> pl.DataFrame | None:
    path = store.table_path(p.raw_store, store.ANOMALIES, version_id(f["chemin"], f["sha256"]))
    return pl.read_parquet(path) if path.is_file() else None


def _rules(p: Paths, f: dict) -> str:
    """The errors of a rejected file, one line per rule × sheet × column."""
    frame = _anomalies(p, f)
    if frame is None or frame.is_empty():
        return ""
    grouped = (frame.filter(pl.col("gravite") == "ERREUR")
               .group_by("feuille", "colonne", "regle")
               .agg(nb=pl.len(), lignes=pl.col("ligne").drop_nulls().sort().head(3),
                    message=pl.col("message").first(), conseil=pl.col("conseil").first())
               .sort("nb", "feuille", descending=[True, False]))
    rows = [[r["feuille"] or "—", r["colonne"] or "—", str(r["nb"]),
             ", ".join(map(str, r["lignes"])) or "—", r["message"] or "", r["conseil"] or ""]
            for r in grouped.head(MAX_REGLES).iter_rows(named=True)]
    more = grouped.height - len(rows)
    note = f"<p>… et {more} autre(s) règle(s) : voir le rapport de contrôle.</p>" if more > 0 else ""
    return (f'<h3 style="font-size: 15px;">Erreurs de {escape(f["chemin"])}</h3>'
            + _table(["Feuille", "Colonne", "Nombre", "Lignes (exemples)", "Problème", "Correction"],
                     rows) + note)


def _a_faire(row: dict) -> str:
    if row["statut"] == ABSENT:
        required = ", ".join(status.required_sheets())
        return (f"déposer le bilan : feuilles {required} (obligatoires) et prévisionnel, "
                "dans un classeur ou un fichier CSV par feuille.")
    return row["motif"] or ""


def html(p: Paths, s: Suivi, row: dict) -> str:
    e = s.echeances
    own = s.fichiers.filter((pl.col("bailleur_siren") == row["bailleur_siren"])
                          & (pl.col("annee") == s.annee)).sort("apparu_le", "chemin")
    sheets = [[FEUILLES.get(f, f), "oui" if f in status.required_sheets() else "non (prévisionnel)",
               status.VERDICT_LIBELLES.get(row[f"{f}_verdict"], row[f"{f}_verdict"]),
               row[f"{f}_fichier"] or "—", paris(row[f"{f}_depot"]) or "—"]
              for f in status.all_sheets()]
    verdict_colors = {"accepté": "D9EAD3", "accepté avec avertissements": "FFF2CC",
                      "rejeté": "F9CB9C", "absent": "F4CCCC"}
    files = [[f["chemin"], paris(f["apparu_le"]),
              status.VERDICT_LIBELLES.get(f["statut"], f["statut"]), str(f["nb_erreurs"]),
              str(f["nb_avertissements"]), Path(f["rapport"]).name] for f in own.iter_rows(named=True)]
    rejected = "".join(_rules(p, f) for f in own.iter_rows(named=True) if f["statut"] == "REJETE")
    trames = (f"{row['nb_trames']} trame(s) écrite(s), la dernière le {paris(row['trames_le'])}."
              if row["nb_trames"] else "Aucune trame écrite pour ce bailleur.")
    titre = f"Bilan de gestion en flux {s.annee} — rapport de campagne"
    parts = [
        f'<h1 style="font-size: 20px;">{escape(titre)}</h1>',
        f'<p><b>{escape(row["bailleur_nom"])}</b> — SIREN {escape(row["bailleur_siren"])}<br>'
        f"Situation au {escape(paris(s.evalue_le))} (heure de Paris).</p>",
        '<p style="line-height: 2;">Statut : '
        f'{_badge(row["statut_libelle"], STATUT_COULEURS[row["statut_libelle"]])} '
        f'— {escape(STATUT_SENS[row["statut_libelle"]])}.<br>'
        f'Délai : {_badge(row["delai"], DELAI_COULEURS[row["delai"]])} '
        f"(date légale {escape(paris(e.date_legale))}, tolérance jusqu'au "
        f"{escape(paris(e.date_tolerance))}).</p>",
    ]
    if a_faire := _a_faire(row):
        parts.append(f"<p><b>À faire :</b> {escape(a_faire)}</p>")
    parts += [
        '<h2 style="font-size: 17px;">Feuilles : ce qui est compté, rejeté ou manquant</h2>',
        _table(["Feuille", "Obligatoire", "Verdict", "Version comptée", "Déposée le"], sheets,
               {2: verdict_colors}, nowrap=(4,)),
        '<h2 style="font-size: 17px;">Fichiers reçus</h2>',
        _table(["Fichier", "Déposé le", "Verdict", "Erreurs", "Avertissements",
                "Rapport de contrôle"], files, {2: verdict_colors}, nowrap=(1,))
        if files else "<p>Aucun fichier reçu.</p>",
    ]
    if rejected:
        parts += ['<h2 style="font-size: 17px;">Pourquoi des fichiers sont rejetés</h2>', rejected]
    parts += ['<h2 style="font-size: 17px;">Trames</h2>', f"<p>{escape(trames)}</p>",
              '<p style="color: #555; font-size: 12px;">Les dates de dépôt sont celles où le '
              "fichier est apparu dans le dossier de dépôt. Les rapports de contrôle détaillent "
              "chaque erreur (feuille, ligne, colonne, correction).</p>"]
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(titre)} — {escape(row['bailleur_nom'])}</title></head>"
            f'<body style="{FONT} max-width: 1100px; margin: 16px;">\n{body}\n</body></html>\n')


def write_all(p: Paths, s: Suivi) -> dict[str, Path]:
    """One page per bailleur of the table; SIREN → path."""
    out = {}
    for row in s.lignes.iter_rows(named=True):
        target = folder(p, s.annee) / f"rapport_{row['bailleur_siren']}_{s.annee}.html"
        write_bytes(target, html(p, s, row).encode("utf-8"))
        out[row["bailleur_siren"]] = target
    return out
