"""The ref_destinataires seed and the rules that pick a recipient's address."""

from __future__ import annotations

import polars as pl
import pytest

from dagster_project.envoi.adresses import SEED, SeedError, reference_addresses, resolve, split_addresses
from dagster_project.reference import load_seed


def test_the_shipped_seed_is_valid_and_names_known_territories():
    reference = reference_addresses()
    departements = set(load_seed("ref_departements")["departement"])
    territoires = set(load_seed("ref_epci")["epci_siren"]) | set(load_seed("ref_ept")["ept_siren"]) | {"75056"}
    assert {code for kind, code in reference if kind == "ETAT"} == departements
    assert {code for kind, code in reference if kind == "EPCI_EPT"} == territoires


@pytest.mark.parametrize(
    "row, message",
    [
        ({"type_destinataire": "EPCI", "code": "1", "nom": "x", "email": ""}, "ligne 3 : type_destinataire"),
        ({"type_destinataire": "ETAT", "code": "75", "nom": "x", "email": ""}, "ligne 3 : ETAT 75 déjà"),
        ({"type_destinataire": "ETAT", "code": "", "nom": "x", "email": ""}, "ligne 3 : code vide"),
        ({"type_destinataire": "ETAT", "code": "77", "nom": "x", "email": "pas une adresse"}, "ligne 3 : adresse invalide"),
    ],
)
def test_a_bad_seed_line_is_named_in_french(row, message):
    seed = pl.DataFrame([{"type_destinataire": "ETAT", "code": "75", "nom": "UD", "email": "a@b.fr"}, row])
    with pytest.raises(SeedError, match=message):
        reference_addresses(seed)


def test_addresses_are_split_checked_and_deduplicated():
    assert split_addresses("A@x.fr, b@y.fr; a@X.fr") == (("a@x.fr", "b@y.fr"), ())
    assert split_addresses("a@x.fr, nimporte") == (("a@x.fr",), ("nimporte",))
    assert split_addresses(None) == ((), ())


def test_the_trames_address_first_then_the_seed_and_never_for_reservataires():
    reference = {("ETAT", "93"): "ud93@etat.test", ("EPCI_EPT", "200057867"): "pc@epci.test"}
    assert resolve("ETAT", "93", "pref93@etat.test", reference).valid == ("pref93@etat.test",)
    assert resolve("ETAT", "93", None, reference).valid == ("ud93@etat.test",)
    assert resolve("ETAT", "93", None, reference).source == SEED
    assert resolve("EPCI_EPT", "200057867", None, reference).valid == ("pc@epci.test",)
    missing = resolve("RESERVATAIRE", "ALS", None, reference)
    assert missing.valid == () and "conventions" in missing.motif
    invalid = resolve("RESERVATAIRE", "ALS", "als-at-example", reference)
    assert invalid.valid == () and "adresse invalide" in invalid.motif
