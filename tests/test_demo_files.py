"""The demo campaign's files: byte-identical per seed, in the three forms, in their own folder."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from dagster_project.demo import DossierRefuse, Scale, generate_campaign
from dagster_project.demo.__main__ import main
from dagster_project.demo.campaign import MARKER

# Small enough to write twice in a test, large enough for the three forms.
MINI = Scale("mini", nb_bailleurs=6, nb_logements=6_000, nb_grands=1, taille_grands=(2_000, 3_000))


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "campagne"
    assert main(["--scale", "demo", "--out", str(out), "--seed", "11"]) == 0
    return out


def _generate_in_subprocess(out: Path, seed: int, hash_seed: str) -> None:
    """Another interpreter, another str hash seed: set or dict order cannot leak into files."""
    code = ("import sys; from pathlib import Path; from tests.test_demo_files import MINI; "
            "from dagster_project.demo import generate_campaign; "
            "generate_campaign(Path(sys.argv[1]), MINI, seed=int(sys.argv[2]))")
    subprocess.run([sys.executable, "-c", code, str(out), str(seed)], check=True,
                   cwd=Path(__file__).parent.parent, env=os.environ | {"PYTHONHASHSEED": hash_seed})


def test_same_seed_same_bytes_other_seed_other_files(tmp_path):
    _generate_in_subprocess(tmp_path / "a", seed=1, hash_seed="1")
    generate_campaign(tmp_path / "b", MINI, seed=1)
    a, b = _contents(tmp_path / "a"), _contents(tmp_path / "b")
    assert any(name.endswith(".xlsx") for name in a)
    assert a == b
    generate_campaign(tmp_path / "b", MINI, seed=2)
    assert _contents(tmp_path / "b") != a


def test_files_are_named_after_the_bailleur_and_year(demo_folder):
    names = [p.relative_to(demo_folder).as_posix() for p in demo_folder.rglob("*") if p.is_file()]
    data = [n for n in names if n != MARKER]
    pattern = re.compile(
        r"^(\d{9})/\1_2024(\.xlsx|_(logements|tours|conventions|previsionnel)\.csv)$")
    assert len(data) > 12 and all(pattern.match(n) for n in data)
    assert sorted(data) == json.loads((demo_folder / MARKER).read_text("utf-8"))["fichiers"]


def test_workbooks_hold_four_sheets_with_french_headers_and_real_dates(demo_folder):
    path = next(demo_folder.rglob("*.xlsx"))
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.sheetnames == ["Logements", "Tours", "Conventions", "Prévisionnel"]
    header, first = list(wb["Tours"].iter_rows(max_row=2, values_only=True))
    assert "Date orientation" in header and "Catégorie opération" in header
    assert isinstance(first[header.index("Date orientation")], datetime)
    assert wb.properties.created == datetime(2025, 1, 1)


def test_windows_1252_csv_use_semicolons_rpls_headers_and_french_dates(demo_folder):
    cp1252 = [p for p in demo_folder.rglob("*_logements.csv") if not p.read_bytes().startswith(
        b"\xef\xbb\xbf")]
    assert cp1252
    folder = cp1252[0].parent
    text = {s: next(folder.glob(f"*_{s}.csv")).read_bytes() for s in ("logements", "tours",
                                                                      "conventions")}
    with pytest.raises(UnicodeDecodeError):  # accents in Windows-1252, not UTF-8
        text["conventions"].decode("utf-8")
    logements = text["logements"].decode("cp1252")
    assert logements.startswith("IDENT_INT;IDENT_REP;DEPCOM;QPV;PLG_QP24;NBPIECE;") or \
        logements.startswith("IDENT_INT;IDENT_REP;DEPCOM;QPV;PLG_QP24;TYPOLOGIE;")
    assert "\r\n" in logements
    rows = list(csv.DictReader(io.StringIO(text["tours"].decode("cp1252")), delimiter=";"))
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", rows[0]["Date orientation"])
    conv = list(csv.DictReader(io.StringIO(text["conventions"].decode("cp1252")), delimiter=";"))
    assert all(re.fullmatch(r"\d+,\d", r["Taux flux"]) for r in conv)
    assert {r["QPV"] for r in csv.DictReader(io.StringIO(logements), delimiter=";")} == {"1", "2"}


def test_utf8_bom_csv_use_commas_and_iso_dates(demo_folder):
    bom = [p for p in demo_folder.rglob("*_tours.csv") if p.read_bytes().startswith(
        b"\xef\xbb\xbf")]
    assert bom
    rows = list(csv.DictReader(io.StringIO(bom[0].read_bytes().decode("utf-8-sig"))))
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rows[0]["date_orientation"])
    conv = next(bom[0].parent.glob("*_conventions.csv")).read_bytes().decode("utf-8-sig")
    assert all(r["taux_flux"].endswith(" %") for r in csv.DictReader(io.StringIO(conv)))


def test_refuses_a_folder_holding_foreign_files(tmp_path):
    real = tmp_path / "depot" / "552046484_2024.xlsx"
    real.parent.mkdir()
    real.write_bytes(b"vrai fichier")
    with pytest.raises(DossierRefuse, match="n'a pas créé"):
        generate_campaign(tmp_path / "depot", MINI, seed=1)
    assert _contents(tmp_path / "depot") == {"552046484_2024.xlsx": b"vrai fichier"}
    assert main(["--out", str(tmp_path / "depot"), "--scale", "demo"]) == 2
    # a file dropped later into the generator's own output is protected too
    own = tmp_path / "own"
    generate_campaign(own, MINI, seed=1)
    (own / "123456789_2024_tours.csv").write_text("x")
    with pytest.raises(DossierRefuse):
        generate_campaign(own, MINI, seed=1)


def test_rewrites_its_own_output_fully(tmp_path):
    out = tmp_path / "landing"
    out.mkdir()
    (out / ".gitkeep").touch()  # the landing folder of a clone holds one
    generate_campaign(out, MINI, seed=1)
    generate_campaign(out, MINI, seed=2)  # other bailleurs: the first run's files are gone
    fresh = tmp_path / "fresh"
    generate_campaign(fresh, MINI, seed=2)
    assert _contents(out) == _contents(fresh) | {".gitkeep": b""}
