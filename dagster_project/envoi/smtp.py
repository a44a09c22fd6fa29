"""Real sending: SMTP settings from the environment, a rate limit, retries with backoff.

Nothing here reads a file: the password comes from an environment variable only. A temporary
failure (4xx reply, dropped connection, timeout) is retried with a doubling wait; a permanent
one (5xx) is returned at once with the server's reply, for the journal. A refused login stops
the whole run: every later message would fail the same way.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage

from dagster_project.envoi.courriel import as_bytes

SECURITIES = ("starttls", "ssl", "aucune")


class SmtpConfigError(ValueError):
    """The SMTP settings are missing or wrong (French message naming the variables)."""


class SmtpLoginError(RuntimeError):
    """The server refused the login: stop, nothing can be sent."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # starttls, ssl, aucune
    sender: str
    user: str = ""
    password: str = ""
    reply_to: str = ""
    per_minute: float = 30.0
    attempts: int = 4
    backoff_s: float = 30.0
    timeout_s: float = 60.0

    def __repr__(self) -> str:  # never print the password
        return f"SmtpSettings({self.host}:{self.port}, {self.security}, user={self.user!r})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings:
        env = os.environ if env is None else env
        missing = [v for v in ("FLUX_SMTP_HOST", "FLUX_SMTP_FROM") if not env.get(v)]
        if missing:
            raise SmtpConfigError(
                "Envoi réel impossible : variable(s) d'environnement manquante(s) "
                + ", ".join(missing) + " (voir docs/runbook.md, « Envoyer les trames »)."
            )
        security = env.get("FLUX_SMTP_SECURITY", "starttls").lower()
        if security not in SECURITIES:
            raise SmtpConfigError(
                f"FLUX_SMTP_SECURITY = « {security} » : valeurs possibles {', '.join(SECURITIES)}."
            )
        user = env.get("FLUX_SMTP_USER", "")
        password = env.get("FLUX_SMTP_PASSWORD", "")
        if user and not password:
            raise SmtpConfigError(
                "FLUX_SMTP_USER est défini mais pas FLUX_SMTP_PASSWORD (le mot de passe se donne "
                "par variable d'environnement, jamais dans un fichier du dépôt)."
            )
        try:
            return cls(
                host=env["FLUX_SMTP_HOST"],
                port=int(env.get("FLUX_SMTP_PORT", "465" if security == "ssl" else "587")),
                security=security,
                sender=env["FLUX_SMTP_FROM"],
                user=user,
                password=password,
                reply_to=env.get("FLUX_SMTP_REPLY_TO", ""),
                per_minute=float(env.get("FLUX_SMTP_RATE", "30")),
                attempts=max(1, int(env.get("FLUX_SMTP_ATTEMPTS", "4"))),
                backoff_s=float(env.get("FLUX_SMTP_BACKOFF_S", "30")),
                timeout_s=float(env.get("FLUX_SMTP_TIMEOUT_S", "60")),
            )
        except ValueError as exc:
            raise SmtpConfigError(f"Réglage SMTP illisible : {exc}") from None


@dataclass(frozen=True)
class Outcome:
    sent: bool
    reply: str  # the server's reply to the message (accepted: its queue id), or the failure
    attempts: int


class _Temporary(Exception):
    pass


class _Permanent(Exception):
    pass


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {text}".strip()


class Postman:
    """One SMTP connection reused across messages, reopened after a failure."""

    def __init__(self, settings: SmtpSettings, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.sleep = sleep
        self._conn: smtplib.SMTP | None = None
        self._last = float("-inf")

    def __enter__(self) -> Postman:
        return self

    def __exit__(self, *exc) -> None:
        self._close()

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                self._conn.close()
            self._conn = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "ssl":
            conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s,
                                    context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
            if s.security == "starttls":
                conn.starttls(context=ssl.create_default_context())
        if s.user:
            try:
                conn.login(s.user, s.password)
            except smtplib.SMTPAuthenticationError as exc:
                conn.close()
                raise SmtpLoginError(
                    f"Le serveur {s.host} refuse l'identifiant {s.user} : "
                    f"{_reply(exc.smtp_code, exc.smtp_error)}"
                ) from None
        return conn

    def _wait_for_rate(self) -> None:
        interval = 60.0 / self.settings.per_minute if self.settings.per_minute > 0 else 0.0
        delay = self._last + interval - time.monotonic()
        if delay > 0:
            self.sleep(delay)
        self._last = time.monotonic()

    def _once(self, message: EmailMessage, to: list[str]) -> str:
        """One SMTP transaction, step by step so the server's final reply is kept."""
        if self._conn is None:
            self._conn = self._connect()
        conn = self._conn
        conn.ehlo_or_helo_if_needed()
        code, text = conn.mail(self.settings.sender)
        if code != 250:
            self._fail(code, text)
        refused = []
        for address in to:
            code, text = conn.rcpt(address)
            if code not in (250, 251):
                refused.append((address, code, text))
        if len(refused) == len(to):
            worst = max(refused, key=lambda r: r[1])  # one permanent refusal is final
            self._fail(worst[1], worst[2], prefix=f"{worst[0]} : ")
        code, text = conn.data(as_bytes(message))
        if code != 250:
            self._fail(code, text)
        reply = _reply(code, text)
        if refused:
            reply += " ; refusé pour " + "; ".join(f"{a} ({_reply(c, t)})" for a, c, t in refused)
        return reply

    def _fail(self, code: int, text: bytes, prefix: str = "") -> None:
        try:
            self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self._close()
        error = _Temporary if 400 <= code < 500 else _Permanent
        raise error(prefix + _reply(code, text))

    def send(self, message: EmailMessage, to: list[str]) -> Outcome:
        attempt, last = 0, ""
        while attempt < self.settings.attempts:
            if attempt:
                self.sleep(self.settings.backoff_s * 2 ** (attempt - 1))
            attempt += 1
            self._wait_for_rate()
            try:
                return Outcome(True, self._once(message, to), attempt)
            except _Permanent as exc:
                return Outcome(False, str(exc), attempt)
            except _Temporary as exc:
                last = str(exc)
            except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as exc:
                last = f"connexion : {exc}"
                self._close()
            except smtplib.SMTPResponseException as exc:  # e.g. a refused STARTTLS
                self._close()
                if not 400 <= exc.smtp_code < 500:
                    return Outcome(False, _reply(exc.smtp_code, exc.smtp_error), attempt)
                last = _reply(exc.smtp_code, exc.smtp_error)
        return Outcome(False, f"{last} (après {attempt} tentatives)", attempt)
