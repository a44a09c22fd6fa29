"""``python -m dagster_project.campaign envoyer --annee N [--test-a ADRESSE | --envoyer | --export]``.

Without a flag: drafts only (``.eml`` files to open and check). Exit code 1 when the run could
not start or a message failed.
"""

from __future__ import annotations

import argparse

from dagster_project.envoi.adresses import SeedError
from dagster_project.envoi.delivery import DeliveryError, Result, deliver
from dagster_project.envoi.smtp import SmtpConfigError, SmtpLoginError

COMMAND = "envoyer"
SHOWN = 15  # recipients without an address printed; the CSV lists them all


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        COMMAND,
        help="envoyer les trames aux destinataires (par défaut : brouillons .eml seulement)",
    )
    parser.add_argument("--annee", type=int, required=True, help="année du bilan")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--test-a", metavar="ADRESSE",
                      help="envoi d'essai d'UN message à cette adresse (SMTP)")
    mode.add_argument("--envoyer", action="store_true",
                      help="envoi réel par SMTP (après un essai réussi)")
    mode.add_argument("--export", action="store_true",
                      help="un dossier par destinataire pour une plateforme (RESANA)")


def mode_of(args: argparse.Namespace) -> str:
    if args.test_a:
        return "essai"
    if args.envoyer:
        return "envoi"
    return "export" if args.export else "brouillon"


def report(r: Result) -> list[str]:
    lines = [f"Envoi des trames {r.annee} (mode {r.mode}) : {r.nb_courriers} message(s) prévus."]
    if r.deja_envoyes:
        lines.append(f"  {r.deja_envoyes} déjà envoyé(s) avec le même contenu : rien à refaire.")
    if r.mode == "brouillon":
        lines.append(f"  {r.brouillons} brouillon(s) écrit(s) dans {r.dossier / 'brouillons'} "
                     f"(dont {r.remplacements} « annule et remplace »).")
    if r.mode == "essai":
        lines.append(f"  Essai {r.essai}")
    if r.mode == "envoi":
        lines.append(f"  {r.envoyes} envoyé(s) (dont {r.remplacements} « annule et remplace »), "
                     f"{len(r.echecs)} en échec.")
        lines += [f"    ÉCHEC {cle} : {reply}" for cle, reply in r.echecs]
    if r.mode == "export":
        lines.append(f"  {r.exportes} dossier(s) de destinataire dans {r.dossier / 'export'}.")
    if r.sans_adresse:
        lines.append(f"  {len(r.sans_adresse)} destinataire(s) SANS ADRESSE, non envoyés "
                     f"(liste : {r.dossier / 'sans_adresse.csv'}) :")
        lines += [f"    {cle} : {motif}" for cle, motif in r.sans_adresse[:SHOWN]]
        if len(r.sans_adresse) > SHOWN:
            lines.append(f"    … et {len(r.sans_adresse) - SHOWN} autre(s) : voir la liste.")
    lines += [f"  ÉCARTÉ {cle} : {why}" for cle, why in r.ecartes]
    lines.append(f"  Journal : table `envois` du catalogue (exécution {r.execution}).")
    return lines


def run(args: argparse.Namespace) -> int:
    try:
        result = deliver(args.annee, mode_of(args), test_to=args.test_a or "", say=print)
    except (DeliveryError, SeedError, SmtpConfigError, SmtpLoginError) as exc:
        print(f"Envoi impossible : {exc}")
        return 1
    print("\n".join(report(result)))
    failed = result.echecs or result.ecartes or (result.mode == "essai" and not result.essai.startswith("réussi"))
    return 1 if failed else 0
