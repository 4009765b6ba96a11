"""Notifiers: how a notice reaches a person. Email over SMTP by default; the interface is open.

A notifier only has to ``send(to, subject, body)``; a deployment that reaches its stewards
another way (a WeChat Work robot, SMS) adds a class with that method.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlsplit


class Notifier(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


@dataclass(frozen=True)
class SmtpNotifier:
    """Plain-text UTF-8 mail through one SMTP server (STARTTLS when ``starttls``)."""

    host: str
    port: int
    sender: str
    user: str = ""
    password: str = ""
    starttls: bool = False
    ssl: bool = False
    timeout_seconds: float = 30.0

    @classmethod
    def from_uri(cls, uri: str, sender: str) -> SmtpNotifier:
        """``smtp://user:password@host:port`` (``?starttls=true``) or ``smtps://…``."""
        parts = urlsplit(uri)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"not an SMTP connection URI: {parts.scheme}://{parts.hostname}")
        secure = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if secure else 25),
            sender=sender,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            starttls="starttls=true" in parts.query.lower(),
            ssl=secure,
        )

    def send(self, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, to, subject
        msg.set_content(body, charset="utf-8")
        cls = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
        with cls(self.host, self.port, timeout=self.timeout_seconds) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(msg)
