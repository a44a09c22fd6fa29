"""Write one bailleur's four sheets in one of the three forms of the format d'échange.

The forms differ on purpose (headers, encodings, separators, dates, booleans, percentages) to
exercise the tolerant reader; the content is the same. Output bytes depend only on the data:
the workbook is re-zipped with fixed timestamps.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
from openpyxl.cell import WriteOnlyCell

from dagster_project.demo.model import Bailleur, Forme

SHEETS = ("logements", "tours", "conventions", "previsionnel")
XLSX_SHEET_NAMES = {"logements": "Logements", "tours": "Tours", "conventions": "Conventions",
                    "previsionnel": "Prévisionnel"}
FIXED_ZIP_TIME = (2025, 1, 1, 0, 0, 0)
FIXED_DOC_TIME = "2025-01-01T00:00:00Z"

# Columns written per form and sheet: canonical name → header (None: column not written).
FRENCH = {
    "logement_id": "Identifiant logement", "rpls_id": "Numéro RPLS",
    "commune_insee": "Code commune",
    "qpv": "En QPV", "qpv_code": "Code QPV", "nb_pieces": "Nombre pièces", "typologie": "Typologie",
    "financement": "Financement", "annee_construction": "Année construction",
    "hors_assiette": "Motif hors assiette",
    "numero_tour": "Numéro tour", "date_orientation": "Date orientation",
    "destinataire": "Destinataire", "categorie_operation": "Catégorie opération",
    "issue": "Issue", "date_issue": "Date issue", "origine": "Origine",
    "nb_candidats": "Nb candidats", "date_bail": "Date bail",
    "reservataire_code": "Code réservataire", "reservataire_nom": "Nom réservataire",
    "reservataire_categorie": "Catégorie", "reservataire_siren": "SIREN",
    "perimetre_type": "Périmètre type", "perimetre_code": "Périmètre code",
    "taux_flux": "Taux flux",
    "reprise_imputee": "Reprise imputée", "date_effet": "Date effet", "date_fin": "Date fin",
    "email": "Courriel",
    "departement": "Département", "nb_logements_prevus": "Nb logements prévus",
    "commentaire": "Commentaire",
}
FRENCH_TOURS = FRENCH | {"logement_id": "Id logement"}
RPLS = {"logement_id": "IDENT_INT", "rpls_id": "IDENT_REP", "commune_insee": "DEPCOM",
        "qpv": "QPV", "qpv_code": "PLG_QP24", "nb_pieces": "NBPIECE", "typologie": "TYPOLOGIE",
        "financement": "FINAN", "annee_construction": "CONSTRUCT",
        "hors_assiette": "MOTIF_HORS_ASSIETTE"}
COLUMNS = {
    Forme.XLSX: {
        "logements": ["logement_id", "rpls_id", "commune_insee", "qpv", "qpv_code", "pieces",
                      "financement", "annee_construction", "hors_assiette"],
        "tours": ["logement_id", "numero_tour", "date_orientation", "destinataire",
                  "categorie_operation", "issue", "date_issue", "origine", "nb_candidats",
                  "date_bail"],
        "conventions": ["reservataire_code", "reservataire_nom", "reservataire_categorie",
                        "reservataire_siren", "perimetre_type", "perimetre_code", "taux_flux",
                        "reprise_imputee", "date_effet", "date_fin", "email"],
    },
    Forme.CSV_CP1252: {
        "logements": ["logement_id", "rpls_id", "commune_insee", "qpv", "qpv_code", "pieces",
                      "financement", "annee_construction", "hors_assiette"],
        "tours": ["logement_id", "numero_tour", "date_orientation", "destinataire",
                  "categorie_operation", "issue", "date_issue", "nb_candidats"],
        "conventions": ["reservataire_code", "reservataire_nom", "reservataire_categorie",
                        "reservataire_siren", "perimetre_type", "perimetre_code", "taux_flux",
                        "reprise_imputee", "email"],
    },
    Forme.CSV_BOM: {
        "logements": ["logement_id", "commune_insee", "qpv", "pieces", "financement",
                      "annee_construction", "hors_assiette"],
        "tours": ["logement_id", "numero_tour", "date_orientation", "destinataire",
                  "categorie_operation", "issue", "date_issue", "date_bail"],
        "conventions": ["reservataire_code", "reservataire_nom", "reservataire_categorie",
                        "reservataire_siren", "perimetre_type", "perimetre_code", "taux_flux",
                        "reprise_imputee", "email"],
    },
}
PREVISIONNEL = ["departement", "categorie_operation", "nb_logements_prevus", "commentaire"]
QPV_VALUES = {Forme.XLSX: ("oui", "non"), Forme.CSV_CP1252: ("1", "2"),
              Forme.CSV_BOM: ("vrai", "faux")}


def file_names(b: Bailleur, annee: int) -> list[str]:
    """Paths, relative to the campaign folder, of the files written for ``b``."""
    stem = f"{b.siren}/{b.siren}_{annee}"
    if b.forme is Forme.XLSX:
        return [f"{stem}.xlsx"]
    return [f"{stem}_{sheet}.csv" for sheet in SHEETS]


def _typologie() -> pl.Expr:
    n = pl.col("nb_pieces")
    return (pl.when((n == 1) & (pl.col("rpls_id").str.slice(-1) < "3")).then(pl.lit("studio"))
            .when(n >= 7).then(pl.lit("T5+"))
            .otherwise(pl.lit("T") + n.cast(pl.String)))


def _shape(sheet: str, df: pl.DataFrame, b: Bailleur) -> pl.DataFrame:
    """The sheet with the form's columns, values as the form writes them, headers renamed."""
    forme = b.forme
    cols = COLUMNS[forme].get(sheet, PREVISIONNEL)
    pieces = "typologie" if b.typologie_en_libelle else "nb_pieces"
    cols = [pieces if c == "pieces" else c for c in cols]
    oui, non = QPV_VALUES[forme]
    values = {
        "typologie": _typologie(),
        "qpv": pl.when(pl.col("qpv")).then(pl.lit(oui)).otherwise(pl.lit(non)),
        "reprise_imputee": pl.when(pl.col("reprise_imputee")).then(pl.lit("oui"))
        .otherwise(pl.lit("non")),
    }
    if forme is Forme.CSV_CP1252:
        values["taux_flux"] = pl.col("taux_flux").round(1).cast(pl.String).str.replace(r"\.", ",")
        for c in ("date_orientation", "date_issue", "date_bail", "date_effet", "date_fin"):
            values[c] = pl.col(c).dt.strftime("%d/%m/%Y")
    elif forme is Forme.CSV_BOM:
        values["taux_flux"] = pl.format("{} %", pl.col("taux_flux").cast(pl.String))
    if forme is Forme.XLSX:
        headers = FRENCH_TOURS if sheet == "tours" else FRENCH
    elif forme is Forme.CSV_CP1252:
        headers = {"logements": RPLS, "tours": FRENCH_TOURS}.get(sheet, FRENCH)
    else:  # canonical names, upper-cased for the dwellings like the acceptance files
        headers = {c: c.upper() for c in cols} if sheet == "logements" else {}
    return df.select(values.get(c, pl.col(c)).alias(headers.get(c, c)) for c in cols)


def _xlsx_bytes(sheets: dict[str, pl.DataFrame]) -> bytes:
    wb = openpyxl.Workbook(write_only=True)
    wb.properties.creator = "Générateur de démonstration (dagster_project.demo)"
    for sheet, df in sheets.items():
        ws = wb.create_sheet(XLSX_SHEET_NAMES[sheet])
        ws.append(df.columns)
        date_cols = {i for i, t in enumerate(df.dtypes) if t == pl.Date}
        for values in df.iter_rows():
            row = []
            for i, v in enumerate(values):
                if i in date_cols and v is not None:
                    v = WriteOnlyCell(ws, value=v)
                    v.number_format = "DD/MM/YYYY"
                row.append(v)
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return _stable_zip(buf.getvalue())


def _stable_zip(data: bytes) -> bytes:
    """Re-zip with fixed entry timestamps and document dates: same content, same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*",
                                 rb"\g<1>" + FIXED_DOC_TIME.encode(), content)
            dst.writestr(zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME), content,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _csv_bytes(df: pl.DataFrame, forme: Forme) -> bytes:
    if forme is Forme.CSV_CP1252:
        return df.write_csv(separator=";", line_terminator="\r\n").encode("cp1252")
    return df.write_csv(include_bom=False).encode("utf-8-sig")


def write_bailleur(out: Path, b: Bailleur, annee: int, data: dict[str, pl.DataFrame]) -> None:
    sheets = {sheet: _shape(sheet, data[sheet], b) for sheet in SHEETS}
    for name, sheet in zip(file_names(b, annee), SHEETS, strict=False):
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if b.forme is Forme.XLSX:
            path.write_bytes(_xlsx_bytes(sheets))
        else:
            path.write_bytes(_csv_bytes(sheets[sheet], b.forme))
