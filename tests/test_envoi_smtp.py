"""Real SMTP conversations with a local aiosmtpd server on 127.0.0.1: test send, sending,
no double sending, « annule et remplace », retries on 4xx, the journal on 5xx."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import polars as pl
import pytest
from envoi_support import (
    ANNEE,
    Handler,
    addresses_in,
    campaign,  # noqa: F401  (fixture)
    p,  # noqa: F401  (fixture)
    reference_for,
    smtp_env,
    start_server,
)
from trames_synthetic import synthetic_marts, write_marts

from dagster_project.envoi import journal
from dagster_project.envoi.delivery import DeliveryError, deliver
from dagster_project.envoi.plan import plan_year
from dagster_project.envoi.smtp import SmtpConfigError, SmtpLoginError, SmtpSettings
from dagster_project.settings import Paths
from dagster_project.trames.campaign import generate_trames

TEST_TO = "equipe@region.test"


@pytest.fixture
def server():
    handler = Handler()
    controller, port = start_server(handler)
    try:
        yield handler, SmtpSettings.from_env(smtp_env(port))
    finally:
        controller.stop()


def _journal(p: Paths) -> pl.DataFrame:
    return journal.read(journal.envois_dir(p.marts))


def _deliver(p, mode, settings, **kw):
    return deliver(ANNEE, mode, p=p, reference=reference_for(p), settings=settings, **kw)


def test_sending_needs_a_successful_test_send_first(p, server):
    handler, settings = server
    with pytest.raises(DeliveryError, match="essai"):
        _deliver(p, "envoi", settings)
    assert handler.received == []
    result = _deliver(p, "essai", settings, test_to=TEST_TO)
    assert result.essai.startswith("réussi")
    (received,) = handler.received
    assert received.rcpt_tos == [TEST_TO]
    assert received.message["Subject"].startswith("[ESSAI] Bilan 2024")
    assert "MESSAGE D'ESSAI" in received.message.get_body(("plain",)).get_content()
    assert set(_journal(p)["statut"]) == {journal.ESSAI, journal.SANS_ADRESSE}


def test_campaign_is_delivered_once_to_each_recipient(p, server):
    handler, settings = server
    _deliver(p, "essai", settings, test_to=TEST_TO)
    handler.received.clear()
    result = _deliver(p, "envoi", settings)
    courriers = {c.cle: c for c in plan_year(p.trames / str(ANNEE), reference_for(p))}
    with_address = {k for k, c in courriers.items() if c.adresses.valid}
    assert result.envoyes == len(with_address) == len(handler.received) > 0
    everyone = {a for c in courriers.values() for a in c.adresses.valid}
    for got in handler.received:  # what the server received, parsed
        m = got.message
        c = courriers[f"{m['X-Flux-Annee']}/{m['X-Flux-Bailleur']}/{m['X-Flux-Destinataire']}"]
        assert sorted(got.rcpt_tos) == sorted(c.adresses.valid)
        assert got.mail_from == "bilans@region.test"
        hashes = {hashlib.sha256(a.get_payload(decode=True)).hexdigest() for a in m.iter_attachments()}
        assert hashes == {piece.entry.sha256 for piece in c.pieces}
        assert not (addresses_in(m) & everyone) - set(c.adresses.valid)
    sent = _journal(p).filter(pl.col("statut") == journal.ENVOYE)
    # the journal says who received which SHA-256, with the server's reply and the Message-ID
    assert set(sent["message_id"]) == {g.message["Message-ID"] for g in handler.received}
    assert sent["reponse_smtp"].str.starts_with("250 2.0.0 Ok: queued as Q").all()
    archived = journal.envois_dir(p.marts) / sent["fichier_eml"][0]
    assert archived.is_file()  # the exact bytes sent, kept for the auditor

    # a re-run sends nothing: same content already sent
    handler.received.clear()
    again = _deliver(p, "envoi", settings)
    assert (again.envoyes, again.deja_envoyes, handler.received) == (0, len(with_address), [])


def test_a_changed_trame_is_sent_again_as_annule_et_remplace(p, server):
    handler, settings = server
    _deliver(p, "essai", settings, test_to=TEST_TO)
    _deliver(p, "envoi", settings)
    first = {g.message["X-Flux-Destinataire"] + g.message["X-Flux-Bailleur"]: g.message
             for g in handler.received[1:]}
    handler.received.clear()
    # one bailleur's figures change: its trames are rewritten by the campaign
    marts = synthetic_marts(3, seed=11)
    siren = marts["mart_bilan_reservataire"]["bailleur_siren"][0]
    marts["mart_bilan_reservataire"] = marts["mart_bilan_reservataire"].with_columns(
        pl.when(pl.col("bailleur_siren") == siren).then(pl.col("attribues") + 1)
        .otherwise(pl.col("attribues")).alias("attribues")
    )
    write_marts(marts, p.marts)
    generate_trames(p.marts, p.trames, "run-trames-2", workers=1)
    result = _deliver(p, "envoi", settings)
    assert result.envoyes == result.remplacements == len(handler.received) > 0
    for got in handler.received:
        m = got.message
        assert m["X-Flux-Bailleur"] == siren
        previous = first[m["X-Flux-Destinataire"] + m["X-Flux-Bailleur"]]
        assert m["Subject"].startswith("Annule et remplace le message du ")
        assert m["Subject"].endswith(str(previous["Subject"]))
        assert m["References"] == previous["Message-ID"]
        assert "annule et remplace celui du" in m.get_body(("plain",)).get_content()
    replaced = _journal(p).filter(pl.col("remplace_message_id") != "")
    assert set(replaced["run_id_trame"]) >= {"run-trames-2"}


def test_a_temporary_failure_is_retried_with_backoff(p, server):
    handler, settings = server
    handler.temporary_failures = 2  # 451 twice, then accepted
    result = _deliver(p, "essai", settings, test_to=TEST_TO)
    assert result.essai.startswith("réussi")
    assert handler.data_attempts == 3 and len(handler.received) == 1


def test_a_permanent_failure_is_journaled_with_the_smtp_reply(p, server):
    handler, settings = server
    _deliver(p, "essai", settings, test_to=TEST_TO)
    courriers = [c for c in plan_year(p.trames / str(ANNEE), reference_for(p)) if c.adresses.valid]
    victim = next(c for c in courriers if len(c.adresses.valid) == 1)
    handler.refused = {victim.adresses.valid[0]}
    result = _deliver(p, "envoi", settings)
    assert [cle for cle, _ in result.echecs] == [
        c.cle for c in courriers if set(c.adresses.valid) <= handler.refused
    ]
    failed = _journal(p).filter(pl.col("statut") == journal.ECHEC)
    assert set(failed["cle"]) == {victim.cle}
    assert failed["reponse_smtp"].str.contains("550 5.1.1").all()
    assert result.envoyes == len(courriers) - len(result.echecs)
    # once the address works again, only the failed message goes
    handler.refused.clear()
    handler.received.clear()
    retry = _deliver(p, "envoi", settings)
    assert retry.envoyes == len(result.echecs) == len(handler.received)


def test_temporary_failures_that_last_end_as_failures(p, server):
    handler, settings = server
    handler.temporary_failures = 10**6
    result = _deliver(p, "essai", settings, test_to=TEST_TO)
    assert result.essai.startswith("ÉCHEC") and "451" in result.essai
    assert handler.data_attempts == settings.attempts
    assert set(_journal(p)["statut"]) == {journal.ECHEC, journal.SANS_ADRESSE}


def test_the_rate_limit_spaces_the_messages(p, server):
    _, settings = server
    slow = SmtpSettings(**{**settings.__dict__, "per_minute": 1200.0})  # one every 0.05 s
    _deliver(p, "essai", slow, test_to=TEST_TO)
    started = time.monotonic()
    result = _deliver(p, "envoi", slow)
    assert time.monotonic() - started >= 0.05 * (result.envoyes - 1)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_with_the_password_from_the_environment(p):
    from aiosmtpd.smtp import AuthResult

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login, auth_data.password) in {(b"bilans", b"s3cret"), ("bilans", "s3cret")}
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

    handler = Handler()
    controller, port = start_server(handler, authenticator=authenticator, auth_required=True,
                                    auth_require_tls=False)  # no certificate in the tests
    try:
        wrong = SmtpSettings.from_env(smtp_env(port, FLUX_SMTP_USER="bilans", FLUX_SMTP_PASSWORD="x"))
        with pytest.raises(SmtpLoginError, match="refuse l'identifiant bilans"):
            _deliver(p, "essai", wrong, test_to=TEST_TO)
        right = SmtpSettings.from_env(smtp_env(port, FLUX_SMTP_USER="bilans", FLUX_SMTP_PASSWORD="s3cret"))
        assert _deliver(p, "essai", right, test_to=TEST_TO).essai.startswith("réussi")
        assert len(handler.received) == 1
    finally:
        controller.stop()


def test_settings_come_from_the_environment_only():
    with pytest.raises(SmtpConfigError, match="FLUX_SMTP_HOST"):
        SmtpSettings.from_env({})
    with pytest.raises(SmtpConfigError, match="FLUX_SMTP_PASSWORD"):
        SmtpSettings.from_env(smtp_env(25, FLUX_SMTP_USER="bilans"))
    settings = SmtpSettings.from_env(smtp_env(25, FLUX_SMTP_USER="u", FLUX_SMTP_PASSWORD="secret"))
    assert "secret" not in repr(settings)
