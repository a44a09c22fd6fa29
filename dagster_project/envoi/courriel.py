"""Compose and write French e-mails (``.eml``): one place for headers, body and attachments.

Reusable by any stage that writes messages (the delivery of the trames; reminders to
bailleurs): ``compose(...)`` builds the message, ``write_eml(path, message)`` writes it
atomically. The body is given as paragraphs once and rendered as text and as HTML, so the two
parts never say different things.
"""

from __future__ import annotations

import datetime as dt
import html
import mimetypes
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from dagster_project.atomic import write_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
mimetypes.add_type(XLSX, ".xlsx")


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes

    @property
    def mime(self) -> tuple[str, str]:
        kind = mimetypes.guess_type(self.name)[0] or "application/octet-stream"
        main, _, sub = kind.partition("/")
        return main, sub


def header_text(value: str) -> str:
    """One line of printable text: a header value never carries a line break (a recipient's
    name typed on two lines in a convention would otherwise stop the whole delivery, or inject
    a header), nor a control character."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())


def _html(paragraphs: list[str | list[str]]) -> str:
    blocks = []
    for p in paragraphs:
        if isinstance(p, list):
            items = "".join(f"<li>{html.escape(i)}</li>" for i in p)
            blocks.append(f"<ul>{items}</ul>")
        else:
            blocks.append(f"<p>{html.escape(p)}</p>")
    body = "\n".join(blocks)
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8"></head>'
        f'<body style="font-family: Arial, sans-serif; font-size: 14px">\n{body}\n</body></html>\n'
    )


def _text(paragraphs: list[str | list[str]]) -> str:
    blocks = ["\n".join(f"  - {i}" for i in p) if isinstance(p, list) else p for p in paragraphs]
    return "\n\n".join(blocks) + "\n"


def compose(
    *,
    sender: str,
    to: list[str],
    subject: str,
    paragraphs: list[str | list[str]],
    message_id: str,
    date: dt.datetime,
    attachments: list[Attachment] = (),
    reply_to: str | None = None,
    references: list[str] = (),
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A ``multipart/mixed`` message: text and HTML alternatives, then the attachments.

    ``paragraphs``: a string is a paragraph, a list of strings a bulleted list.
    """
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = header_text(sender)
    if to:
        message["To"] = ", ".join(header_text(a) for a in to)
    if reply_to:
        message["Reply-To"] = header_text(reply_to)
    message["Subject"] = header_text(subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    if references:
        message["References"] = " ".join(references)
    for name, value in (headers or {}).items():
        message[name] = header_text(value)
    message["Content-Language"] = "fr"
    message.set_content(_text(paragraphs), charset="utf-8")
    message.add_alternative(_html(paragraphs), subtype="html", charset="utf-8")
    for attachment in attachments:
        main, sub = attachment.mime
        message.add_attachment(
            attachment.data, maintype=main, subtype=sub, filename=attachment.name
        )
    return message


def as_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=policy.SMTP)


def write_eml(path: Path, message: EmailMessage) -> bytes:
    """Write the message as an ``.eml`` file (opens in Thunderbird, Outlook); its bytes."""
    data = as_bytes(message)
    write_bytes(path, data)
    return data
